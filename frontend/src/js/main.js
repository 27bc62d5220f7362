// The studio page: wires the stage, the timeline, the formation map and the panels to one <audio> element,
// whose currentTime is the only clock of a dance (the animation, the playhead, the map and the 8-count
// all read it every frame).
import * as api from "./api.js";
import { Stage } from "./stage.js";
import { Timeline, formatTime, sectionColor, eightCounts } from "./timeline.js";
import { FormationMap } from "./formation.js";
import { initMake } from "./make.js";
import { initEdit } from "./edit.js";
import { initFiles, initJobs } from "./panels.js";
import { initMotion } from "./motion.js";
import { initMoves } from "./moves.js";

const $ = (id) => document.getElementById(id);
const audio = $("song");
const SPEEDS = [1, 0.75, 0.5, 0.25];
const STANDARD_FILES = ["choreography.json", "choreography.glb", "preview.mp4", "plan.json", "analysis.json",
  "analysis.png", "stage.png", "formations.png"];

const state = {
  id: null, // the open job's id (null for a song being prepared, or a folder opened with ?dir=)
  job: null, // the open job's record
  ch: null, // choreography.json of the open dance
  song: null, // the analysis shown on the timeline: {duration, tempo, meter, beats, downbeats, sections}
  sections: [],
  members: [], // {name, color}
  fileUrl: null, // name → URL of the open dance's files
  files: [],
  loopRange: null,
  loading: 0, // generation counter: a later open wins over an earlier one still loading
  ready: false,
  redo: [],
};

const stage = new Stage($("stage-canvas"), $("labels"));
const timeline = new Timeline($("timeline"), {
  onSeek: (t) => seek(t),
  onPick: (t) => { const s = sectionAt(t); if (s) { setLoop(s); seek(s.start); } }, // double click: loop it
});
const map = new FormationMap($("formation"));
let needsRender = true;
stage.controls.addEventListener("change", () => { needsRender = true; });
new ResizeObserver(() => { needsRender = true; }).observe($("stage"));

// ---------------------------------------------------------------- messages, tabs

let messageTimer = null;
function message(text, kind = "info", sticky = kind === "error") {
  const el = $("message");
  el.textContent = text || "";
  el.className = text ? kind : "";
  el.title = text || "";
  clearTimeout(messageTimer);
  if (text && !sticky) messageTimer = setTimeout(() => { if (el.textContent === text) message(""); }, 6000);
}

function setTab(name) {
  for (const b of document.querySelectorAll("#tabs [data-tab]")) b.setAttribute("aria-selected", String(b.dataset.tab === name));
  for (const p of document.querySelectorAll("[data-panel]")) p.hidden = p.dataset.panel !== name;
  document.dispatchEvent(new CustomEvent("studio:tab", { detail: name }));
}
for (const b of document.querySelectorAll("#tabs [data-tab]")) b.addEventListener("click", () => setTab(b.dataset.tab));
for (const a of document.querySelectorAll("[data-open-tab]")) a.addEventListener("click", (e) => { e.preventDefault(); setTab(a.dataset.openTab); });
$("help-button").addEventListener("click", () => $("help").showModal());

function busy(text) {
  const el = $("stage-busy");
  el.hidden = !text;
  el.textContent = text || "";
  $("stage").classList.toggle("busy", Boolean(text));
}

// ---------------------------------------------------------------- playback (the audio element is the clock)

function playing() { return !audio.paused && !audio.ended; }

async function play() {
  if (!audio.src) return;
  if (audio.ended) audio.currentTime = 0;
  try { await audio.play(); } catch (err) { if (err.name !== "AbortError") message(`the song cannot play: ${err.message}`, "error"); }
}
function pause() { audio.pause(); }
function toggle() {
  if (stage.figures) stage.toggleFigures(); // a text → dance motion is shown
  else if (playing()) pause(); else play();
}

function seek(t) {
  if (!audio.src || !Number.isFinite(t)) return;
  const d = Number.isFinite(audio.duration) ? audio.duration : (state.song?.duration || 0);
  audio.currentTime = Math.min(Math.max(t, 0), d);
  if (state.loopRange) {
    const s = sectionAt(audio.currentTime);
    if (s && (audio.currentTime < state.loopRange[0] || audio.currentTime >= state.loopRange[1])) setLoop(s);
  }
  needsRender = true;
}

/** The beat before/after t (dir -1/+1), or the bar line with bars=true. */
function stepBeat(dir, bars = false) {
  const grid = (bars ? state.song?.downbeats : state.song?.beats) || [];
  const t = audio.currentTime;
  if (!grid.length) { seek(t + dir * 0.5); return; }
  if (dir > 0) { const b = grid.find((x) => x > t + 0.01); seek(b ?? state.song.duration); }
  else { const b = [...grid].reverse().find((x) => x < t - 0.08); seek(b ?? 0); }
}

function sectionAt(t) {
  return state.sections.find((s) => t >= s.start && t < s.end) || state.sections[state.sections.length - 1] || null;
}

function setLoop(section) {
  state.loopRange = section ? [section.start, section.end] : null;
  $("loop").checked = Boolean(section);
  timeline.setLoop(state.loopRange);
}

audio.addEventListener("play", () => { $("play").textContent = "❚❚"; $("play").setAttribute("aria-label", "pause"); });
audio.addEventListener("pause", () => { $("play").textContent = "▶"; $("play").setAttribute("aria-label", "play"); });
audio.addEventListener("seeked", () => { needsRender = true; });
audio.addEventListener("error", () => { if (audio.src) message("the song cannot be loaded", "error"); });
audio.addEventListener("loadedmetadata", () => { audio.playbackRate = Number($("speed").value); });

$("play").addEventListener("click", toggle);
$("beat-back").addEventListener("click", () => stepBeat(-1));
$("beat-fwd").addEventListener("click", () => stepBeat(1));
$("speed").addEventListener("change", () => { audio.playbackRate = Number($("speed").value); });
$("loop").addEventListener("change", () => setLoop($("loop").checked ? sectionAt(audio.currentTime) : null));
$("mirror").addEventListener("change", () => setMirror($("mirror").checked));
for (const b of document.querySelectorAll("[data-view]")) b.addEventListener("click", () => setView(b.dataset.view));

function setMirror(on) {
  $("mirror").checked = on;
  $("stage").classList.toggle("mirrored", on);
  stage.setMirrored(on);
  map.mirrored = on;
  needsRender = true;
}

function setView(name) {
  stage.view(name);
  for (const b of document.querySelectorAll("[data-view]")) b.classList.toggle("active", b.dataset.view === name);
  needsRender = true;
}

function enableTransport(on) {
  for (const id of ["play", "beat-back", "beat-fwd"]) $(id).disabled = !on;
}

// ---------------------------------------------------------------- the frame loop

let shown = { clock: "", section: null, count: "" };
function frame() {
  const t = audio.currentTime || 0;
  if (state.loopRange && playing() && t >= state.loopRange[1] - 0.01) audio.currentTime = state.loopRange[0];
  if (stage.figures || needsRender || t !== stage.time || playing()) {
    stage.setTime(t);
    stage.render();
    needsRender = false;
  }
  timeline.draw(t, playing());
  map.draw(t);
  updateNow(t);
}
stage.renderer.setAnimationLoop(frame);

function updateNow(t) {
  const d = state.song?.duration || audio.duration || 0;
  const clock = `${formatTime(t)} / ${formatTime(d)}`;
  if (clock !== shown.clock) { $("clock").textContent = clock; shown.clock = clock; }
  const sec = state.song ? sectionAt(t) : null;
  if (sec !== shown.section) {
    shown.section = sec;
    $("now-section").textContent = sec ? `${sec.label} · ${sec.kind}` : "";
    document.querySelectorAll("ol.sections li[data-index]").forEach((li) => {
      const on = Boolean(sec) && Number(li.dataset.index) === sec.index;
      li.classList.toggle("current", on);
      // Keep the current section in view, unless the user is working in the panel.
      if (on && !li.closest("[data-panel]").hidden && !$("panel").contains(document.activeElement)) li.scrollIntoView({ block: "nearest" });
    });
  }
  let count = "";
  const beats = state.song?.beats || [];
  if (beats.length && t >= beats[0] - 0.05) {
    let lo = 0, hi = beats.length - 1;
    while (lo < hi) { const m = (lo + hi + 1) >> 1; if (beats[m] <= t + 0.05) lo = m; else hi = m - 1; }
    const per = 2 * (state.song.meter || 4);
    const c = state.counts[lo];
    count = Array.from({ length: per }, (_, i) => (i + 1 === c ? `<span class="on">${i + 1}</span>` : String(i + 1))).join(" ");
  }
  if (count !== shown.count) { $("now-count").innerHTML = count; shown.count = count; }
}

// ---------------------------------------------------------------- opening a dance

/** Show a song's analysis on the timeline (before or without a dance). */
function showSong(song, sections) {
  state.song = song;
  state.sections = sections;
  state.counts = song ? eightCounts(song.beats || [], sections, song.meter) : [];
  timeline.setSong(song ? { ...song, sections } : null);
  shown = { clock: "", section: null, count: "" };
}

async function decodeWaveform(url, generation) {
  timeline.setAudio(null);
  try {
    const bytes = await (await fetch(url)).arrayBuffer();
    const ctx = new OfflineAudioContext(1, 1, 22050);
    const buffer = await ctx.decodeAudioData(bytes);
    if (generation === state.loading) timeline.setAudio(buffer);
  } catch {
    if (generation === state.loading) message("the waveform cannot be drawn (the browser cannot decode this song)", "info");
  }
}

/** Sections of a dance: the plan's (prompt, times, repeats) with the choreography's frames and spots. */
function danceSections(ch) {
  const plan = ch.plan?.sections || [];
  return (ch.sections || []).map((s, i) => {
    const p = plan[i] || {};
    return {
      index: s.index, label: s.label, kind: s.kind, start: p.start ?? s.start_frame / ch.fps,
      end: p.end ?? s.end_frame / ch.fps, bars: p.bars, start_bar: p.start_bar, energy: p.energy,
      prompt: p.prompt, formation: s.formation, move: s.move, repeat_of: p.repeat_of ?? null,
      transition: p.transition, start_frame: s.start_frame, end_frame: s.end_frame,
    };
  });
}

function clearDance() {
  pause();
  stage.hideFigures();
  stage.clear();
  map.setChoreography(null);
  state.ch = null;
  state.members = [];
  state.ready = false;
  window.studio.ready = false;
  renderMembers();
  needsRender = true;
}

/** Load a finished dance's files: choreography.json, choreography.glb and the song. */
async function loadDance({ fileUrl, files, songUrl, keepTime = null }) {
  const generation = ++state.loading;
  const wasMirrored = $("mirror").checked;
  clearDance();
  busy("Loading the dance …");
  try {
    const chResponse = await fetch(fileUrl("choreography.json"));
    if (!chResponse.ok) throw new Error(`choreography.json: ${chResponse.status}`);
    const ch = await chResponse.json();
    if (generation !== state.loading) return;
    const names = ch.members.map((m) => m.name);
    audio.src = songUrl;
    const members = await stage.load(fileUrl("choreography.glb"), names);
    if (generation !== state.loading) return;
    state.ch = ch;
    state.members = members;
    state.fileUrl = fileUrl;
    state.files = files;
    showSong(ch.song, danceSections(ch));
    map.setChoreography(ch, members.map((m) => m.color));
    decodeWaveform(songUrl, generation);
    $("stage-empty").hidden = true;
    if (keepTime === null) setView("audience"); else needsRender = true;
    setMirror(wasMirrored);
    renderMembers();
    setLoop(null);
    enableTransport(true);
    await new Promise((resolve) => {
      if (audio.readyState >= 1) resolve();
      else { audio.addEventListener("loadedmetadata", resolve, { once: true }); audio.addEventListener("error", resolve, { once: true }); }
    });
    if (keepTime !== null) seek(keepTime);
    state.ready = true;
    window.studio.ready = true;
    document.dispatchEvent(new CustomEvent("studio:dance"));
  } catch (err) {
    if (generation === state.loading) message(`the dance cannot be opened: ${err.message}`, "error");
  } finally {
    if (generation === state.loading) busy("");
  }
}

/** Open job `id` (a dance or a text → dance motion); unfinished jobs are followed until they end. */
async function openJob(id, { keepTime = null, push = true } = {}) {
  let record;
  try { record = await api.anyJob(id); } catch (err) {
    message(err.status === 404 ? `there is no job ${id}` : err.message, "error");
    return;
  }
  if (push) setUrl(id);
  state.id = id;
  state.job = record;
  window.studio.job = record;
  renderTitle();
  document.dispatchEvent(new CustomEvent("studio:job", { detail: record }));
  if (record.status === "queued" || record.status === "running") {
    clearDance();
    busy(progressText(record));
    await api.follow(id, (r) => { if (state.id === id) { busy(progressText(r)); state.job = r; renderTitle(); } }, record.kind);
    if (state.id !== id) return;
    return openJob(id, { keepTime, push: false });
  }
  if (record.status !== "done") {
    clearDance();
    busy("");
    $("stage-empty").hidden = false;
    message(record.status === "failed" ? `this job failed: ${record.error || "no reason given"}` : `this job was ${record.status}`, "error");
    return;
  }
  if (record.kind === "motion") { document.dispatchEvent(new CustomEvent("studio:open-motion", { detail: record })); return; }
  const files = record.files || [];
  const song = files.find((f) => /^song\./.test(f));
  await loadDance({ fileUrl: (name) => api.fileUrl(id, name), files, songUrl: song ? api.fileUrl(id, song) : "", keepTime });
  if (!song) message("this job has no song file to play", "error");
}

/** Open a `choreo dance` output folder served over HTTP (?dir=URL&song=URL), without the service. */
async function openFolder(dir, songUrl) {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  state.id = null;
  state.job = null;
  const fileUrl = (name) => new URL(name, new URL(base, location.href)).href;
  await loadDance({ fileUrl, files: [], songUrl });
  const names = [...STANDARD_FILES, ...state.members.map((_, i) => `member_${String(i + 1).padStart(2, "0")}.bvh`)];
  const present = await Promise.all(names.map(async (n) => ((await fetch(fileUrl(n), { method: "HEAD" }).catch(() => null))?.ok ? n : null)));
  state.files = present.filter(Boolean);
  $("job-title").innerHTML = `<b>${escapeHtml(dir)}</b>`;
  document.dispatchEvent(new CustomEvent("studio:job", { detail: null }));
}

export function progressText(r) {
  const pct = Math.round(r.progress || 0);
  return r.status === "queued" ? "Waiting for a free worker …" : `${r.stage || r.status} … ${pct} %`;
}

function setUrl(id) {
  const url = new URL(location.href);
  if (url.searchParams.get("job") === id) return;
  url.searchParams.delete("dir");
  url.searchParams.delete("song");
  if (id) url.searchParams.set("job", id); else url.searchParams.delete("job");
  history.pushState({ job: id }, "", url);
}

window.addEventListener("popstate", () => {
  const id = new URL(location.href).searchParams.get("job");
  if (id && id !== state.id) openJob(id, { push: false });
});

export function escapeHtml(s) {
  return String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

/** "version N": how many edits (regenerated sections) this dance is from the first one. */
async function renderVersion(record) {
  const el = $("versions");
  if (el.dataset.for === String(record?.id)) return; // already shown for this job
  el.dataset.for = String(record?.id);
  el.textContent = "";
  if (!record || record.kind === "motion" || !record.parent) return;
  let n = 1, parent = record.parent;
  const seen = new Set([record.id]);
  while (parent && n < 50 && !seen.has(parent)) {
    seen.add(parent);
    n++;
    try { parent = (await api.job(parent)).parent; } catch { break; }
  }
  if (state.job?.id === record.id) {
    el.textContent = `version ${n}`;
    el.title = `this dance is ${n - 1} edit${n > 2 ? "s" : ""} from the first version; Undo (Sections) goes back one`;
  }
}

function renderTitle() {
  const r = state.job;
  renderVersion(r);
  if (!r) { $("job-title").textContent = "no dance open"; return; }
  const p = r.params || {};
  const bits = r.kind === "motion" ? [`text → dance: “${p.text ?? ""}”`]
    : [p.members ? `${p.members} members` : "", p.style || "", r.kind === "regenerate" ? "edited" : ""].filter(Boolean);
  $("job-title").innerHTML = `<b>${escapeHtml(r.song_name || (r.kind === "motion" ? "motion" : r.id))}</b> · ${escapeHtml(bits.join(" · "))} <span class="status ${r.status}">${escapeHtml(r.status)}</span>`;
}

// ---------------------------------------------------------------- members: highlight / solo

function renderMembers() {
  const list = $("member-list");
  list.replaceChildren();
  const { index, mode } = stage.focus;
  state.members.forEach((m, i) => {
    const b = document.createElement("button");
    b.innerHTML = `<span class="dot" style="background:${m.color}"></span>${escapeHtml(m.name)}`;
    b.title = "click: highlight; again: solo; again: everyone";
    b.classList.toggle("highlight", i === index && mode === "highlight");
    b.classList.toggle("solo", i === index && mode === "solo");
    b.classList.toggle("dim", Boolean(mode) && i !== index);
    b.setAttribute("aria-pressed", String(i === index && Boolean(mode)));
    b.addEventListener("click", () => cycleFocus(i));
    list.appendChild(b);
  });
}

function cycleFocus(i) {
  const { index, mode } = stage.focus;
  const next = index !== i || !mode ? "highlight" : mode === "highlight" ? "solo" : null;
  stage.setFocus(i, next);
  map.focus = next ? i : -1;
  renderMembers();
  needsRender = true;
}

// ---------------------------------------------------------------- keyboard

// A control used with the mouse gives the keyboard back to the shortcuts (Space must not press the last
// clicked button again, nor arrows change the speed menu).
document.addEventListener("click", (e) => { const b = e.target.closest?.("button"); if (b && e.detail > 0) b.blur(); });
for (const el of document.querySelectorAll("#transport select, #transport input, #stage-tools input")) {
  el.addEventListener("change", () => el.blur());
}

document.addEventListener("keydown", (e) => {
  const tag = e.target.tagName;
  if (tag === "BUTTON" && (e.key === " " || e.key === "Enter")) return; // the focused button's own action
  if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || e.target.isContentEditable || e.ctrlKey || e.metaKey || e.altKey) return;
  if ($("help").open) return;
  const key = e.key;
  if (key === " " || key === "k") { e.preventDefault(); toggle(); }
  else if (key === "ArrowLeft") { e.preventDefault(); stepBeat(-1, e.shiftKey); }
  else if (key === "ArrowRight") { e.preventDefault(); stepBeat(1, e.shiftKey); }
  else if (key === "Home") { e.preventDefault(); const s = sectionAt(audio.currentTime); seek(s ? s.start : 0); }
  else if (key === "l" || key === "L") setLoop(state.loopRange ? null : sectionAt(audio.currentTime));
  else if (key === "m" || key === "M") setMirror(!$("mirror").checked);
  else if (key === "s" || key === "S") {
    const i = (SPEEDS.indexOf(Number($("speed").value)) + 1) % SPEEDS.length;
    $("speed").value = String(SPEEDS[i]);
    audio.playbackRate = SPEEDS[i];
    message(`speed ${SPEEDS[i]}×`);
  } else if (["1", "2", "3", "4"].includes(key)) setView(["audience", "top", "side", "behind"][Number(key) - 1]);
  else if (key === "?") $("help").showModal();
});

// ---------------------------------------------------------------- the app object shared with the panels

const app = {
  state, stage, timeline, map, audio, api, message, setTab, openJob, showSong, clearDance, seek, play, pause,
  setLoop, sectionAt, busy, escapeHtml, progressText, sectionColor, setUrl, renderTitle,
  enableTransport, invalidate: () => { needsRender = true; },
};

// For automation and tests: the open job, the two clocks, the sections.
window.studio = {
  get jobId() { return state.id; },
  job: null,
  ready: false,
  audioTime: () => audio.currentTime,
  animationTime: () => stage.animationTime(),
  sections: () => state.sections.map((s) => ({ ...s })),
  members: () => state.members.map((m) => ({ ...m })),
  play, pause, seek, openJob,
  playing,
  sectionColor,
};

initMake(app);
initEdit(app);
initFiles(app);
initJobs(app);
initMotion(app);
initMoves(app);

// ---------------------------------------------------------------- start

const params = new URL(location.href).searchParams;
if (params.get("job")) {
  setTab("sections");
  openJob(params.get("job"), { push: false });
} else if (params.get("dir")) {
  setTab("sections");
  openFolder(params.get("dir"), params.get("song") || "");
} else {
  showSong(null, []);
}
