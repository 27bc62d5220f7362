// The Moves panel: the point-move library (name, beats, tempo); pick a move and place it on a beat of the
// timeline (click a beat, drag the move onto one, or P at the playhead), the placements drawn on the timeline,
// remove one, then Regenerate: each changed section is danced again with its moves (one job per section,
// as Regenerate in Sections does; every other frame stays, Undo goes back). A span selected on the timeline
// (Shift-drag, or [ and ] at the playhead) is marked as a new move of the library; a motion file can be added.
import { followJob } from "./make.js";
import { MOVE_MIME, formatTime } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const MOVE_COLORS = ["#ffd166", "#06d6a0", "#ff8fab", "#8ecae6", "#f4a261", "#c77dff", "#b5e48c", "#e9edc9"];
const TOL = 1e-3; // s, as the plan's

export function initMoves(app) {
  const { state, api, timeline } = app;
  const mv = {
    library: [], // [{name, kind, beats, bpm, source, frames}]
    picked: null, // the move a click on the timeline places
    edits: new Map(), // section index -> its placements after the user's changes, not danced yet
    selection: null, // [start, end] s on beats
    busy: false,
    ours: null, // the job our own regenerate opened (its dance keeps the remaining edits)
    error: "",
    anchor: null, // where [ started a span
  };

  const open = () => Boolean(state.ch && state.id);
  const byName = (name) => mv.library.find((m) => m.name === name);
  const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
  function color(name) {
    let h = 0;
    for (const c of String(name)) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return MOVE_COLORS[h % MOVE_COLORS.length];
  }

  /** Indices of the song's beats inside section s. */
  function sectionBeats(s) {
    const beats = state.song?.beats || [];
    const out = [];
    beats.forEach((b, i) => { if (b >= s.start - TOL && b < s.end - TOL) out.push(i); });
    return out;
  }
  const planPoints = (k) => state.ch?.plan?.sections?.[k]?.points || [];
  /** A section's points as one entry per start: {move, beat (from 1 in the section), members}. */
  function expand(points) {
    const meter = state.song?.meter || 4;
    const out = [];
    for (const p of points) {
      const starts = p.bars?.length ? p.bars.map((b) => (b - 1) * meter + 1) : (p.beats || []);
      for (const beat of starts) out.push({ move: p.move, beat, members: p.members ?? null });
    }
    return out.sort((a, b) => a.beat - b.beat);
  }
  const toPoints = (list) => list.map((p) => ({ move: p.move, beats: [p.beat], members: p.members }));
  const current = (k) => (mv.edits.has(k) ? mv.edits.get(k) : expand(planPoints(k)));
  const changedSections = () => [...mv.edits.keys()].filter((k) => !same(mv.edits.get(k), expand(planPoints(k)))).sort((a, b) => a - b);
  const who = (members) => (members ? `member${members.length > 1 ? "s" : ""} ${members.join(", ")}` : "everyone");

  /** Every placement of the open dance with its times; pending = not danced yet. */
  function placements() {
    if (!state.ch || !state.song) return [];
    const out = [];
    for (const s of state.sections) {
      const idx = sectionBeats(s);
      const saved = expand(planPoints(s.index));
      for (const p of current(s.index)) {
        const i = idx[p.beat - 1];
        if (i === undefined) continue;
        const start = state.song.beats[i];
        const m = byName(p.move);
        out.push({ section: s.index, kind: s.kind, beat: p.beat, song_beat: i, move: p.move, members: p.members,
          start, end: start + ((m ? m.beats : 4) * 60) / state.song.tempo, pending: !saved.some((q) => same(q, p)),
          color: color(p.move) });
      }
    }
    return out;
  }

  function showError(text) {
    mv.error = text;
    $("moves-error").textContent = text;
    $("moves-error").hidden = !text;
    if (text) app.message(text, "error");
  }

  function setPicked(name) {
    mv.picked = name;
    timeline.setPlacing(Boolean(name) && open());
    render();
    if (name) app.message(`click a beat on the timeline (or press P at the playhead) to place “${name}”; Esc stops`);
  }

  // ---------------------------------------------------------------- drawing the panel

  function render() {
    const dance = open();
    $("moves-empty").hidden = dance;
    $("moves-dance").hidden = !dance;
    renderLibrary(dance);
    renderMembers();
    renderPlacements();
    const sel = mv.selection;
    $("selection-info").textContent = sel
      ? `${formatTime(sel[0])}–${formatTime(sel[1])} · ${countBeats(sel)} beats selected`
      : "nothing selected: Shift-drag on the timeline, or [ and ] at the playhead";
    $("mark-move").disabled = !sel || !dance || mv.busy;
    $("place-playhead").disabled = !mv.picked || !dance || mv.busy;
    $("moves-undo").hidden = !state.job?.parent;
    timeline.setPlacing(Boolean(mv.picked) && dance);
    timeline.setMarks(placements().map((p) => ({ start: p.start, end: p.end, label: p.move, color: p.color, pending: p.pending })));
    timeline.setSelection(sel);
  }

  function countBeats([a, b]) {
    return (state.song?.beats || []).filter((x) => x >= a - TOL && x < b - TOL).length;
  }

  function renderLibrary(dance) {
    const list = $("move-list");
    list.replaceChildren();
    if (!mv.library.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "The library is empty: mark a span of a dance below, or add a motion file.";
      list.appendChild(li);
    }
    for (const m of mv.library) {
      const li = document.createElement("li");
      li.dataset.move = m.name;
      li.draggable = dance;
      li.style.setProperty("--c", color(m.name));
      const tempo = m.kind === "key_poses" ? "key poses" : `${Math.round(m.bpm * 10) / 10} BPM`;
      li.innerHTML = `<button type="button" class="pick" aria-pressed="${mv.picked === m.name}"` +
        ` title="pick, then click a beat on the timeline (or drag this row onto it)">${app.escapeHtml(m.name)}</button>` +
        `<span class="meta">${m.beats.toFixed(1)} beats · ${tempo}</span>` +
        `<button type="button" class="del" aria-label="delete move ${app.escapeHtml(m.name)}" title="delete from the library">✕</button>`;
      li.querySelector(".pick").disabled = !dance;
      li.querySelector(".pick").addEventListener("click", () => setPicked(mv.picked === m.name ? null : m.name));
      li.querySelector(".del").addEventListener("click", () => deleteMove(m.name));
      li.addEventListener("dragstart", (e) => {
        e.dataTransfer.setData(MOVE_MIME, m.name);
        e.dataTransfer.setData("text/plain", m.name);
        e.dataTransfer.effectAllowed = "copy";
      });
      list.appendChild(li);
    }
  }

  function renderMembers() {
    for (const [id, all] of [["move-members", true], ["mark-member", false]]) {
      const sel = $(id);
      const keep = sel.value;
      const options = (all ? [["", "everyone"]] : []).concat(state.members.map((m, i) => [String(i + 1), `${i + 1} ${m.name}`]));
      if (same([...sel.options].map((o) => [o.value, o.textContent]), options)) continue;
      sel.replaceChildren(...options.map(([v, t]) => { const o = document.createElement("option"); o.value = v; o.textContent = t; return o; }));
      if (options.some(([v]) => v === keep)) sel.value = keep;
    }
  }

  function renderPlacements() {
    const list = $("placement-list");
    list.replaceChildren();
    const all = placements();
    if (!all.length) {
      const li = document.createElement("li");
      li.className = "muted";
      li.textContent = "No moves placed yet.";
      list.appendChild(li);
    }
    for (const p of all) {
      const li = document.createElement("li");
      li.dataset.section = p.section;
      li.dataset.beat = p.beat;
      li.classList.toggle("pending", p.pending);
      li.style.setProperty("--c", color(p.move));
      li.innerHTML = `<button type="button" class="go" title="play from here">${app.escapeHtml(p.move)}</button>` +
        `<span>section ${p.section} ${app.escapeHtml(p.kind)} · beat ${p.beat} · ${who(p.members)}${p.pending ? " · <em>new</em>" : ""}</span>` +
        `<button type="button" class="rm" aria-label="remove ${app.escapeHtml(p.move)} from beat ${p.beat} of section ${p.section}" title="remove">✕</button>`;
      li.querySelector(".go").addEventListener("click", () => app.seek(p.start));
      li.querySelector(".rm").disabled = mv.busy;
      li.querySelector(".rm").addEventListener("click", () => removePlacement(p));
      list.appendChild(li);
    }
    const changed = changedSections();
    const regen = $("moves-regenerate");
    regen.disabled = !changed.length || mv.busy;
    regen.textContent = changed.length ? `Regenerate ${changed.length === 1 ? `section ${changed[0]}` : `${changed.length} sections`}` : "Regenerate";
    $("moves-discard").disabled = !mv.edits.size || mv.busy;
  }

  // ---------------------------------------------------------------- the library

  async function refresh() {
    try { mv.library = (await api.moves()).moves; } catch (err) { showError(`the move library cannot be read: ${err.message}`); }
    if (mv.picked && !byName(mv.picked)) mv.picked = null;
    render();
  }

  async function deleteMove(name) {
    if (!confirm(`Delete the move “${name}” from the library? Dances already made keep it.`)) return;
    try { await api.removeMove(name); app.message(`move “${name}” deleted`); } catch (err) { showError(`“${name}” was not deleted: ${err.message}`); }
    if (mv.picked === name) mv.picked = null;
    refresh();
  }

  async function markSelection() {
    const name = $("mark-name").value.trim();
    if (!name) { showError("give the new move a name (letters, digits, - or _)"); $("mark-name").focus(); return; }
    if (!mv.selection) { showError("select a span first: Shift-drag on the timeline, or [ and ] at the playhead"); return; }
    const [start, end] = mv.selection;
    try {
      const m = await api.moveFromDance(state.id, { name, member: Number($("mark-member").value || 1), start, end });
      showError("");
      app.message(`move “${m.name}” added to the library: ${m.beats} beats at ${Math.round(m.bpm)} BPM`);
      $("mark-name").value = "";
      mv.selection = null;
    } catch (err) {
      showError(`the span was not added as a move: ${err.message}`);
      return;
    }
    await refresh();
  }

  async function uploadMove() {
    const file = $("move-file").files[0];
    if (!file) { showError("choose a motion file first (BVH, JSON, NPZ or NPY)"); return; }
    const name = $("move-file-name").value.trim() || file.name.replace(/\.[^.]*$/, "").replace(/[^A-Za-z0-9_-]+/g, "-").replace(/^[-_]+/, "").slice(0, 48);
    try {
      const m = await api.uploadMove(file, { name });
      showError("");
      app.message(`move “${m.name}” added from ${file.name}: ${m.beats} beats`);
      $("move-file").value = "";
      $("move-file-name").value = "";
    } catch (err) {
      showError(`${file.name} was not added: ${err.message}`);
      return;
    }
    await refresh();
  }

  // ---------------------------------------------------------------- placing and removing

  function nearestBeat(t) {
    const beats = state.song?.beats || [];
    let best = -1, dist = Infinity;
    beats.forEach((b, i) => { const d = Math.abs(b - t); if (d < dist) { dist = d; best = i; } });
    return best;
  }

  async function place(name, t) {
    if (!open()) { showError("open a finished dance from the service to place moves on it"); return; }
    if (mv.busy) return;
    if (!byName(name)) { showError(`there is no move “${name}” in the library`); return; }
    const i = nearestBeat(t);
    const s = i < 0 ? null : app.sectionAt(state.song.beats[i]);
    if (!s) return;
    const beat = sectionBeats(s).indexOf(i) + 1;
    const members = $("move-members").value ? [Number($("move-members").value)] : null;
    const list = [...current(s.index), { move: name, beat, members }].sort((a, b) => a.beat - b.beat);
    try {
      // The service checks the placement as it would dance it (past the end, overlaps, the section's edges).
      await api.setPoints(state.id, s.index, { points: toPoints(list), dry_run: true });
    } catch (err) {
      showError(`“${name}” cannot go on beat ${beat} of section ${s.index} (${s.kind}): ${err.message}`);
      return;
    }
    showError("");
    mv.edits.set(s.index, list);
    app.message(`“${name}” placed on beat ${beat} of section ${s.index} (${s.kind}); Regenerate dances it`);
    render();
  }

  function removePlacement(p) {
    const list = current(p.section).filter((q) => !(q.beat === p.beat && q.move === p.move && same(q.members, p.members)));
    if (same(list, expand(planPoints(p.section)))) mv.edits.delete(p.section); else mv.edits.set(p.section, list);
    showError("");
    app.message(`“${p.move}” removed from beat ${p.beat} of section ${p.section}${p.pending ? "" : "; Regenerate dances the section without it"}`);
    render();
  }

  async function regenerate() {
    const todo = changedSections();
    if (!todo.length || !open()) return;
    mv.busy = true;
    showError("");
    render();
    try {
      for (const k of todo) {
        const s = state.sections[k];
        let created;
        try {
          created = await api.setPoints(state.id, k, { points: toPoints(mv.edits.get(k)) });
        } catch (err) {
          showError(`section ${k} was not regenerated: ${err.message}`);
          break;
        }
        mv.ours = created.id;
        app.message(`dancing section ${k} (${s.kind}) with its moves …`);
        const final = await followJob(app, created.id, $("moves-progress"), { keepTime: s.start });
        if (final?.status !== "done" || state.id !== created.id) {
          if (final && final.status !== "done") showError(`section ${k}: the job ${final.status}${final.error ? `: ${final.error}` : ""}`);
          break;
        }
        mv.edits.delete(k);
        state.redo = [];
      }
    } finally {
      mv.busy = false;
      render();
    }
  }

  // ---------------------------------------------------------------- wiring

  timeline.onPlace = (t) => { if (mv.picked) place(mv.picked, t); };
  timeline.onDropMove = (name, t) => place(name, t);
  timeline.onSelect = (range) => { mv.selection = range; render(); };

  $("place-playhead").addEventListener("click", () => { if (mv.picked) place(mv.picked, app.audio.currentTime); });
  $("moves-regenerate").addEventListener("click", regenerate);
  $("moves-discard").addEventListener("click", () => { mv.edits.clear(); showError(""); render(); });
  $("moves-undo").addEventListener("click", () => $("undo").click());
  $("mark-move").addEventListener("click", markSelection);
  $("move-upload").addEventListener("click", uploadMove);
  $("moves-refresh").addEventListener("click", refresh);

  document.addEventListener("studio:dance", () => {
    if (state.id !== mv.ours) { mv.edits.clear(); mv.selection = null; }
    render();
  });
  document.addEventListener("studio:job", render);
  document.addEventListener("studio:tab", (e) => { if (e.detail === "moves") refresh(); });

  // P places the picked move on the beat at the playhead; [ and ] select from / to the playhead's beat.
  document.addEventListener("keydown", (e) => {
    const tag = e.target.tagName;
    if (["INPUT", "TEXTAREA", "SELECT"].includes(tag) || e.target.isContentEditable || e.ctrlKey || e.metaKey || e.altKey) return;
    if ($("help").open || !state.song) return;
    const t = timeline.snap(app.audio.currentTime);
    if ((e.key === "p" || e.key === "P") && mv.picked) { e.preventDefault(); place(mv.picked, t); }
    else if (e.key === "[") {
      e.preventDefault();
      mv.anchor = t;
      mv.selection = mv.selection && mv.selection[1] > t ? [t, mv.selection[1]] : null;
      render();
      app.message(`the span starts at ${formatTime(t)}; move to its end and press ]`);
    } else if (e.key === "]") {
      e.preventDefault();
      const a = mv.selection ? mv.selection[0] : mv.anchor;
      if (a === null || a === undefined || t <= a) { showError("press [ at the span's start first, then ] at its end"); return; }
      mv.selection = [a, t];
      render();
    } else if (e.key === "Escape" && (mv.picked || mv.selection)) { mv.selection = null; setPicked(null); }
  });

  Object.assign(window.studio, {
    moves: () => mv.library.map((m) => ({ ...m })),
    placements: () => placements(),
    selection: () => (mv.selection ? [...mv.selection] : null),
    timeX: (t) => timeline.xOf(t),
  });
  refresh();
}
