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
  let dance = null; // the dance open before the motion was shown

  function show(record, motion) {
    const samples = samplesOf(motion);
    if (!samples.length) { app.message("the motion has no frames", "error"); return; }
    app.pause();
    const fps = (Array.isArray(motion) ? motion[0]?.fps : motion.fps) || 20;
    // The open dance stays loaded behind the motion; "Back to the dance" returns to it.
    if (app.state.ch && app.state.job?.kind !== "motion") dance = { id: app.state.id, job: app.state.job };
    app.state.id = record?.id ?? null;
    app.state.job = record || null;
    window.studio.job = app.state.job;
    if (record?.id) app.setUrl(record.id);
    app.renderTitle();
    app.stage.showFigures(samples, fps);
    app.invalidate();
    $("motion-result").hidden = false;
    $("motion-info").textContent = `${samples.length} sample${samples.length > 1 ? "s" : ""}, ${(samples[0].length / fps).toFixed(1)} s at ${fps} fps`;
    const list = $("motion-files");
    list.replaceChildren();
    for (const name of record?.files || []) {
      const li = document.createElement("li");
      li.innerHTML = `<a href="${api.fileUrl(record.id, name, "motion")}" download="${app.escapeHtml(name)}">${app.escapeHtml(name)}</a>`;
      list.appendChild(li);
    }
    $("stage-empty").hidden = true;
  }

  async function openMotionJob(record) {
    try {
      // The finished job's record holds its motions (motion.json, motion_01.json … one per sample).
      const full = record.motions ? record : await api.job(record.id, "motion");
      app.setTab("text");
      show(full, full.motions || []);
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
      if (status === 200) {
        $("motion-progress").hidden = true;
        show(r, r.motions || []);
      } else {
        await followJob(app, r.id, $("motion-progress"), { kind: "motion", onDone: (job) => openMotionJob(job) });
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
    app.stage.view("audience");
    $("motion-result").hidden = true;
    if (dance && app.state.ch) {
      app.state.id = dance.id;
      app.state.job = dance.job;
      window.studio.job = dance.job;
      app.setUrl(dance.id);
      app.renderTitle();
    }
    dance = null;
    if (!app.state.ch) $("stage-empty").hidden = false;
    app.invalidate();
  });
}
