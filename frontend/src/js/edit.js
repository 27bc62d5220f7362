// The open dance's sections: play or loop one, change its prompt or formation and dance it again
// (a new job whose parent is this one; every other section stays frame for frame), undo to the parent.
import { FORMATIONS, followJob } from "./make.js";

const $ = (id) => document.getElementById(id);

export function initEdit(app) {
  const { state } = app;

  document.addEventListener("studio:dance", render);
  document.addEventListener("studio:job", () => { if (!state.ch) render(); });

  function render() {
    const list = $("edit-sections");
    list.replaceChildren();
    const dance = Boolean(state.ch) && Boolean(state.id);
    $("sections-empty").hidden = Boolean(state.ch);
    $("undo-row").hidden = !dance;
    $("undo").disabled = !state.job?.parent;
    $("redo").hidden = !state.redo.length;
    if (!state.ch) return;
    for (const s of state.sections) {
      const li = document.createElement("li");
      li.dataset.index = s.index;
      li.style.setProperty("--c", app.sectionColor(s.label));
      const copies = state.sections.filter((q) => q.repeat_of === s.index).map((q) => q.index);
      // The service changes only the section asked for: a regenerated repeat is danced anew on its own,
      // and the repeats of a regenerated first occurrence keep their moves.
      const repeat = s.repeat_of !== null ? ` · repeat of ${s.repeat_of}`
        : copies.length ? ` · repeated in ${copies.join(", ")}` : "";
      li.innerHTML = `<div class="head"><b>${s.index} ${app.escapeHtml(s.label)}</b> ${app.escapeHtml(s.kind)}` +
        `<span>${s.bars ?? "?"} bars · ${app.escapeHtml(s.move)}${repeat}</span>` +
        `<span class="t">${s.start.toFixed(1)}–${s.end.toFixed(1)} s</span></div>` +
        `<textarea class="prompt" rows="2" aria-label="prompt of section ${s.index}"></textarea>` +
        `<div class="row"><select class="formation" title="formation" aria-label="formation of section ${s.index}">` +
        FORMATIONS.map((n) => `<option${n === s.formation ? " selected" : ""}>${n}</option>`).join("") + `</select>` +
        `<button type="button" class="play" title="play from the start of this section">▶</button>` +
        `<button type="button" class="loop" title="loop this section">⟳</button>` +
        `<button type="button" class="regen" title="dance this section again; the rest stays">Regenerate</button></div>`;
      li.querySelector(".prompt").value = s.prompt || "";
      li.querySelector(".play").addEventListener("click", () => { app.seek(s.start); app.play(); });
      li.querySelector(".loop").addEventListener("click", () => { app.setLoop(s); app.seek(s.start); app.play(); });
      const regen = li.querySelector(".regen");
      regen.title = s.repeat_of !== null ? "dance this repeat anew, on its own; the rest stays"
        : copies.length ? `dance this section again; its repeats (${copies.join(", ")}) keep their moves, as does the rest`
          : "dance this section again; the rest stays";
      regen.addEventListener("click", () => regenerate(s, li));
      li.addEventListener("input", () => li.classList.toggle("changed",
        li.querySelector(".prompt").value.trim() !== (s.prompt || "") || li.querySelector(".formation").value !== s.formation));
      list.appendChild(li);
    }
    if (!state.id) for (const b of list.querySelectorAll(".regen")) { b.disabled = true; b.title = "open this dance from the service to edit it"; }
  }

  async function regenerate(s, li) {
    const prompt = li.querySelector(".prompt").value.trim();
    const formation = li.querySelector(".formation").value;
    const body = {};
    if (prompt && prompt !== s.prompt) body.prompt = prompt;
    if (formation !== s.formation) body.formation = formation;
    // Nothing changed: the user wants another take of the same section, so a new seed.
    if (!Object.keys(body).length) body.seed = Math.floor(Math.random() * 1e6);
    const parent = state.id;
    for (const b of $("edit-sections").querySelectorAll(".regen")) b.disabled = true;
    let created;
    try {
      created = await app.api.regenerate(parent, s.index, body);
    } catch (err) {
      app.message(`Section ${s.index} was not regenerated: ${err.message}`, "error");
      render();
      return;
    }
    app.message(`dancing section ${s.index} (${s.kind}) again …`);
    const final = await followJob(app, created.id, $("edit-progress"), { keepTime: s.start });
    if (final?.status === "done") state.redo = [];
    render();
  }

  $("undo").addEventListener("click", async () => {
    const parent = state.job?.parent;
    if (!parent) return;
    const t = app.audio.currentTime;
    const child = state.id;
    await app.openJob(parent, { keepTime: t });
    if (state.id === parent) { state.redo.push(child); render(); app.message("back to the previous version"); }
  });
  $("redo").addEventListener("click", async () => {
    const next = state.redo.pop();
    if (!next) return;
    await app.openJob(next, { keepTime: app.audio.currentTime });
    render();
  });
}
