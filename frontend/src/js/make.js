// "Make a dance": a song dropped or chosen → its analysis (sections on the timeline, the song playable)
// → members, style, prompts and formations per section → a dance job followed live → the result opened.

export const FORMATIONS = ["line", "two_rows", "v", "inverted_v", "diamond", "pyramid", "arc", "centre_wings",
  "w", "columns", "circle"];
// choreo's default formation per kind (docs/CHOREOGRAPHY.md), used for the sections left on "auto" when
// others have a formation chosen (the service takes one formation per distinct section, in order).
const DEFAULT_FORMATION = { chorus: "v", verse: "two_rows", "pre-chorus": "w", "dance-break": "diamond",
  bridge: "arc", intro: "line", outro: "line" };

const $ = (id) => document.getElementById(id);

const TIME_TOL = 1e-3; // seconds: choreo's plan counts a bar line this close to a boundary as on it

/** The analysis's sections numbered, each with its bars counted as choreo's plan counts them (bar lines in
 * [start, end) with choreo's tolerance), so "longer than its first" is decided as the service decides it. */
export function planSections(analysis) {
  const db = analysis.downbeats || [];
  return analysis.sections.map((s, index) => ({
    ...s, index, bars: db.filter((t) => t >= s.start - TIME_TOL && t < s.end - TIME_TOL).length,
  }));
}

/** The sections that get a motion (and a formation) of their own, as choreo's make_plan decides: a label's
 * first occurrence, a repeat whose index prompt differs from its first's, or a repeat longer than its first.
 * `prompts` maps a section index to the prompt typed for it. */
export function distinctSections(sections, prompts = {}) {
  const first = new Map();
  return sections.filter((s) => {
    const f = first.get(s.label);
    if (!f) { first.set(s.label, s); return true; }
    const own = prompts[s.index];
    return (own !== undefined && own !== prompts[f.index]) || (s.bars ?? 0) > (f.bars ?? 0);
  });
}

/** The service's `formations` field: one name per distinct section in order (the service cycles the list
 * over them), or "" when every section is left to choreo. `chosen` maps a section index to a name; the
 * distinct sections left on auto take choreo's default for their kind. */
export function formationsField(sections, prompts, chosen) {
  const distinct = distinctSections(sections, prompts);
  if (!distinct.some((s) => chosen[s.index])) return "";
  return distinct.map((s) => chosen[s.index] || DEFAULT_FORMATION[s.kind] || "line").join(",");
}

export function initMake(app) {
  const { api, message } = app;
  let file = null;
  let analysis = null;

  const input = $("song-input"), drop = $("drop");
  drop.addEventListener("click", () => input.click());
  drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); input.click(); } });
  input.addEventListener("change", () => { if (input.files[0]) choose(input.files[0]); input.value = ""; });

  // Drop a song anywhere on the page.
  let depth = 0;
  const hasFiles = (e) => [...(e.dataTransfer?.types || [])].includes("Files");
  document.addEventListener("dragenter", (e) => { if (hasFiles(e)) { depth++; document.body.classList.add("dragging"); } });
  document.addEventListener("dragleave", () => { depth = Math.max(0, depth - 1); if (!depth) document.body.classList.remove("dragging"); });
  document.addEventListener("dragover", (e) => { if (hasFiles(e)) e.preventDefault(); });
  document.addEventListener("drop", (e) => {
    if (!hasFiles(e)) return;
    e.preventDefault();
    depth = 0;
    document.body.classList.remove("dragging");
    const f = e.dataTransfer.files[0];
    if (f) { app.setTab("make"); choose(f); }
  });

  async function choose(f) {
    file = f;
    analysis = null;
    $("make-form").hidden = true;
    $("make-progress").hidden = true;
    $("make-song").textContent = `Analysing “${f.name}” …`;
    $("make-song").classList.remove("error");
    try {
      analysis = await api.analyze(f);
    } catch (err) {
      file = null;
      const text = `The server refused “${f.name}”: ${err.message}`;
      $("make-song").textContent = text;
      $("make-song").classList.add("error");
      message(text, "error");
      return;
    }
    message("");
    $("make-song").innerHTML = `<b>${app.escapeHtml(f.name)}</b>: ${analysis.duration.toFixed(1)} s, ` +
      `${analysis.tempo.toFixed(1)} BPM, ${analysis.meter}/4, ${analysis.bars ?? analysis.downbeats.length} bars, ${analysis.sections.length} sections`;
    // The song plays at once, its sections on the timeline, while the dance is being set up.
    app.clearDance();
    app.state.id = null;
    app.state.job = null;
    app.setUrl(null);
    app.renderTitle();
    $("job-title").innerHTML = `<b>${app.escapeHtml(f.name)}</b> · not danced yet`;
    const sections = planSections(analysis);
    app.showSong(analysis, sections);
    app.audio.src = URL.createObjectURL(f);
    app.enableTransport(true);
    app.timeline.setAudio(null);
    f.arrayBuffer().then((b) => new OfflineAudioContext(1, 1, 22050).decodeAudioData(b)).then((buf) => app.timeline.setAudio(buf)).catch(() => {});
    renderSections(sections);
    $("make-form").hidden = false;
    $("stage-empty").hidden = false;
    $("stage-empty").innerHTML = `<p><strong>${app.escapeHtml(f.name)}</strong> is not danced yet: press play to listen,<br>` +
      `choose members, style, prompts and formations, then <strong>Make the dance</strong>.</p>`;
  }

  function renderSections(sections) {
    const list = $("make-sections");
    list.replaceChildren();
    const seen = new Map();
    for (const s of sections) {
      const li = document.createElement("li");
      li.dataset.index = s.index;
      li.style.setProperty("--c", app.sectionColor(s.label));
      const first = seen.get(s.label);
      if (!first) seen.set(s.label, s);
      const repeat = first ? ` · repeat of ${first.index}` : "";
      li.innerHTML = `<div class="head"><b>${app.escapeHtml(s.label)}</b> ${app.escapeHtml(s.kind)}<span>${s.bars} bars${repeat}</span>` +
        `<span class="t">${s.start.toFixed(1)}–${s.end.toFixed(1)} s</span></div>` +
        `<input type="text" class="prompt" aria-label="prompt for section ${s.index}" placeholder="${first ? "the same as its first occurrence" : "the style's prompt"}">` +
        `<div class="row"><label>Formation <select class="formation" aria-label="formation for section ${s.index}">` +
        `<option value="">auto</option>${FORMATIONS.map((n) => `<option>${n}</option>`).join("")}</select></label>` +
        `<button type="button" class="listen">▶ listen</button></div>`;
      li.querySelector(".listen").addEventListener("click", () => { app.seek(s.start); app.play(); });
      list.appendChild(li);
    }
    updateFormationRows();
  }
  $("make-sections").addEventListener("input", updateFormationRows);

  function prompts() {
    const out = {};
    for (const li of $("make-sections").children) {
      const v = li.querySelector(".prompt").value.trim();
      if (v) out[li.dataset.index] = v;
    }
    return out;
  }

  // A repeat only takes a formation of its own when it is danced anew (its own prompt).
  function updateFormationRows() {
    if (!analysis) return;
    const own = prompts();
    const sections = planSections(analysis);
    const distinct = new Set(distinctSections(sections, own).map((s) => s.index));
    for (const li of $("make-sections").children) {
      const sel = li.querySelector(".formation");
      const on = distinct.has(Number(li.dataset.index));
      sel.disabled = !on;
      sel.title = on ? "" : "a repeat stands where its first occurrence stands";
    }
  }

  $("make-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!file || !analysis) return;
    const sectionPrompts = prompts();
    const sections = planSections(analysis);
    const chosen = {};
    for (const li of $("make-sections").children) {
      const sel = li.querySelector(".formation");
      if (!sel.disabled && sel.value) chosen[li.dataset.index] = sel.value;
    }
    const formations = formationsField(sections, sectionPrompts, chosen);
    const fields = {
      members: $("make-members").value, style: $("make-style").value, prompt: $("make-prompt").value.trim(),
      seed: $("make-seed").value, formations,
      section_prompts: Object.keys(sectionPrompts).length ? sectionPrompts : "",
    };
    $("make-submit").disabled = true;
    let created;
    try {
      created = await api.createDance(file, fields);
    } catch (err) {
      $("make-submit").disabled = false;
      message(`The dance was not started: ${err.message}`, "error");
      return;
    }
    await followJob(app, created.id, $("make-progress"));
    $("make-submit").disabled = false;
  });
}

/** Show a job's live progress in `box` (stage, percent, cancel) until it ends; a finished dance is opened. */
export async function followJob(app, id, box, { keepTime = null, onDone = null, kind = "dance" } = {}) {
  box.hidden = false;
  box.classList.remove("failed");
  box.innerHTML = `<div class="what">Queued …</div><div class="bar"><div></div></div><button type="button" class="cancel">Cancel</button>`;
  const what = box.querySelector(".what"), bar = box.querySelector(".bar div");
  box.scrollIntoView({ block: "nearest" });
  // With no dance on the stage, the stage shows the progress too.
  const onStage = (text) => { if (!app.state.ch && kind !== "motion") app.busy(text); };
  box.querySelector(".cancel").addEventListener("click", async () => {
    try { await app.api.cancel(id, kind); } catch (err) { app.message(err.message, "error"); }
  });
  let final;
  try {
    final = await app.api.follow(id, (r) => {
      what.textContent = app.progressText(r);
      onStage(`Dancing: ${app.progressText(r)}`);
      bar.style.width = `${Math.max(2, r.progress || 0)}%`;
    }, kind);
  } catch (err) {
    what.textContent = err.message;
    box.classList.add("failed");
    onStage("");
    return null;
  }
  onStage("");
  box.querySelector(".cancel").remove();
  if (final.status === "done") {
    what.textContent = "Done.";
    bar.style.width = "100%";
    if (onDone) onDone(final); else await app.openJob(id, { keepTime });
    setTimeout(() => { if (what.textContent === "Done.") box.hidden = true; }, 3000);
  } else {
    box.classList.add("failed");
    what.textContent = final.status === "failed" ? `Failed: ${final.error || "no reason given"}`
      : final.status === "deleted" ? "The job was deleted." : "Cancelled.";
    if (final.status === "failed") app.message(`the job failed: ${final.error || "no reason given"}`, "error");
  }
  return final;
}
