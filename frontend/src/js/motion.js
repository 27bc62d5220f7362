// Text → dance: a short motion from a sentence (POST /motions), shown on the stage as capsule figures
// (one per sample) from its joints, with its files to download. Short requests come back at once; longer
// ones are jobs followed like a dance.
import { followJob } from "./make.js";

const $ = (id) => document.getElementById(id);

/** joints as [samples][frames][22][3], whether the motion holds one sample or several. */
export function samplesOf(motion) {
  if (Array.isArray(motion)) return motion.flatMap(samplesOf); // several motion.json objects
  const j = motion.joints || motion.motion || motion.samples;
  if (!Array.isArray(j) || !j.length) return [];
  return Array.isArray(j[0]?.[0]?.[0]) ? j : [j];
}

export function initMotion(app) {
  const { api } = app;

  function show(record, motion) {
    const samples = samplesOf(motion);
    if (!samples.length) { app.message("the motion has no frames", "error"); return; }
    app.pause();
    const fps = (Array.isArray(motion) ? motion[0]?.fps : motion.fps) || 20;
    app.stage.showFigures(samples, fps);
    app.stage.view("audience");
    app.invalidate();
    $("motion-result").hidden = false;
    $("motion-info").textContent = `${samples.length} sample${samples.length > 1 ? "s" : ""}, ${(samples[0].length / fps).toFixed(1)} s at ${fps} fps`;
    const list = $("motion-files");
    list.replaceChildren();
    for (const name of record?.files || []) {
      const li = document.createElement("li");
      li.innerHTML = `<a href="${api.fileUrl(record.id, name)}" download="${app.escapeHtml(name)}">${app.escapeHtml(name)}</a>`;
      list.appendChild(li);
    }
    $("stage-empty").hidden = true;
  }

  async function openMotionJob(record) {
    try {
      // motion.json holds sample 0; motion_01.json, motion_02.json … the others.
      const names = (record.files || []).filter((n) => /^motion(_\d+)?\.json$/.test(n)).sort();
      const motion = await Promise.all((names.length ? names : ["motion.json"]).map(async (n) => {
        const r = await fetch(api.fileUrl(record.id, n));
        if (!r.ok) throw new Error(`${n}: ${r.status}`);
        return r.json();
      }));
      app.setTab("text");
      show(record, motion);
    } catch (err) {
      app.message(`the motion cannot be opened: ${err.message}`, "error");
    }
  }
  document.addEventListener("studio:open-motion", (e) => openMotionJob(e.detail));

  $("motion-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = {
      text: $("motion-text").value.trim(), seconds: Number($("motion-seconds").value),
      seed: Number($("motion-seed").value), samples: Number($("motion-samples").value),
    };
    $("motion-submit").disabled = true;
    $("motion-progress").hidden = false;
    $("motion-progress").textContent = "Dancing …";
    try {
      const { status, body: r } = await api.motion(body);
      if (status === 200 && r.motion && (r.samples ?? body.samples) <= 1) {
        $("motion-progress").hidden = true;
        show(r, r.motion);
      } else if (status === 200) {
        $("motion-progress").hidden = true;
        await openMotionJob(r);
      } else {
        await followJob(app, r.id, $("motion-progress"), { onDone: (job) => openMotionJob(job) });
      }
    } catch (err) {
      $("motion-progress").textContent = err.message;
      app.message(`No motion: ${err.message}`, "error");
    } finally {
      $("motion-submit").disabled = false;
    }
  });

  $("motion-play").addEventListener("click", () => app.stage.toggleFigures());
  $("motion-close").addEventListener("click", () => {
    app.stage.hideFigures();
    $("motion-result").hidden = true;
    if (!app.state.ch) $("stage-empty").hidden = false;
    app.invalidate();
  });
}
