// The Files panel (every output of the open dance, to download; its shareable address; its numbers) and
// the Jobs panel (earlier jobs, newest first: open, cancel, delete).

const $ = (id) => document.getElementById(id);

const DESCRIPTIONS = {
  "choreography.json": "every member's joints, sections, report",
  "choreography.glb": "glTF: the group, skinned bodies, one animation",
  "preview.mp4": "video with the song",
  "plan.json": "the editable plan",
  "analysis.json": "the song's beats, bars, sections",
  "analysis.png": "the analysis drawn",
  "stage.png": "the stage from above",
  "formations.png": "the formations",
  "motion.bvh": "BVH", "motion.json": "joints", "results.npy": "MDM results",
};

function describe(name) {
  if (DESCRIPTIONS[name]) return DESCRIPTIONS[name];
  const m = /^member_(\d+)\.bvh$/.exec(name);
  if (m) return `BVH of member ${Number(m[1])}`;
  if (/^song\./.test(name)) return "the song";
  return "";
}

const pct = (x) => `${Math.round(100 * x)} %`;

export function initFiles(app) {
  const { state } = app;
  const render = () => {
    const list = $("file-list");
    list.replaceChildren();
    const files = state.files || [];
    $("files-empty").hidden = files.length > 0;
    $("share").hidden = !state.id;
    if (state.id) {
      const url = new URL(location.href);
      url.search = `?job=${encodeURIComponent(state.id)}`;
      $("share-link").href = url.href;
      $("share-link").textContent = url.href;
    }
    for (const name of files) {
      const li = document.createElement("li");
      const href = state.fileUrl ? state.fileUrl(name) : "#";
      li.innerHTML = `<a href="${href}" download="${app.escapeHtml(name)}">${app.escapeHtml(name)}</a><span>${app.escapeHtml(describe(name))}</span>`;
      list.appendChild(li);
    }
    renderReport(state.ch?.report);
  };
  document.addEventListener("studio:dance", render);
  document.addEventListener("studio:job", render);
  document.addEventListener("studio:files", render);

  function renderReport(r) {
    const el = $("report");
    if (!r) { el.replaceChildren(); return; }
    const rows = [];
    const a = r.beats?.after;
    if (a) rows.push(["kinematic beats on a music beat", `${pct(a.hit_rate)} (chance ${pct(a.hit_rate_chance)})`]);
    if (r.energy?.correlation !== undefined) rows.push(["music energy vs vigour", `r = ${r.energy.correlation.toFixed(2)}`]);
    if (r.stage?.min_pelvis_distance_m !== undefined) rows.push(["closest two members", `${r.stage.min_pelvis_distance_m.toFixed(2)} m`]);
    if (r.stage?.facing_audience_fraction !== undefined) rows.push(["facing the audience", pct(r.stage.facing_audience_fraction)]);
    if (r.repeats?.worst_m !== undefined) rows.push(["repeats vs their first", `${(100 * r.repeats.worst_m).toFixed(2)} cm`]);
    el.innerHTML = `<h3>What it measures</h3><table>${rows.map(([k, v]) => `<tr><td>${k}</td><td>${v}</td></tr>`).join("")}</table>`;
  }
}

export function initJobs(app) {
  const { api, state } = app;
  let page = 1;
  const PER_PAGE = 15;
  let total = 0;

  async function refresh() {
    let result;
    const kind = $("jobs-kind").value;
    try { result = await api.jobs(page, PER_PAGE, kind); } catch (err) {
      $("jobs-info").textContent = err.message;
      return;
    }
    total = result.total;
    $("jobs-info").textContent = total ? `${total} job${total === 1 ? "" : "s"}` : "no jobs yet";
    $("jobs-prev").disabled = page <= 1;
    $("jobs-next").disabled = page * PER_PAGE >= total;
    const list = $("job-list");
    list.replaceChildren();
    for (const r of result.items) {
      const li = document.createElement("li");
      li.classList.toggle("open", r.id === state.id);
      const p = r.params || {};
      const what = r.kind === "motion" ? `text: “${p.text ?? ""}”` : `${p.members ?? "?"} members · ${p.style ?? ""}`;
      const when = typeof r.created === "number" ? new Date(r.created * (r.created < 1e12 ? 1000 : 1)) : new Date(r.created);
      const created = r.created && !Number.isNaN(when.getTime()) ? when.toLocaleString() : "";
      li.innerHTML = `<div><b>${app.escapeHtml(r.song_name || (r.kind === "motion" ? "text → dance" : r.kind))}</b> ${r.kind === "regenerate" ? "(edited)" : ""}</div>` +
        `<div><span class="status ${r.status}">${app.escapeHtml(r.status)}${r.status === "running" ? ` ${Math.round(r.progress || 0)} %` : ""}</span></div>` +
        `<div class="sub">${app.escapeHtml(what)} · ${app.escapeHtml(created)} · ${app.escapeHtml(r.id.slice(0, 8))}</div>` +
        `<div class="sub row"></div>`;
      const actions = li.querySelector(".row");
      if (r.status === "queued" || r.status === "running") {
        const c = document.createElement("button");
        c.textContent = "Cancel";
        c.addEventListener("click", async (e) => { e.stopPropagation(); try { await api.cancel(r.id, r.kind); } catch (err) { app.message(err.message, "error"); } refresh(); });
        actions.appendChild(c);
      }
      const d = document.createElement("button");
      d.textContent = "Delete";
      d.addEventListener("click", async (e) => {
        e.stopPropagation();
        if (!confirm(`Delete this job and its files?`)) return;
        try { await api.remove(r.id, r.kind); } catch (err) { app.message(err.message, "error"); }
        refresh();
      });
      actions.appendChild(d);
      li.addEventListener("click", () => { state.redo = []; app.openJob(r.id); app.setTab(r.kind === "motion" ? "text" : "sections"); });
      list.appendChild(li);
    }
  }

  $("jobs-refresh").addEventListener("click", refresh);
  $("jobs-kind").addEventListener("change", () => { page = 1; refresh(); });
  $("jobs-prev").addEventListener("click", () => { page = Math.max(1, page - 1); refresh(); });
  $("jobs-next").addEventListener("click", () => { page++; refresh(); });
  document.addEventListener("studio:tab", (e) => { if (e.detail === "jobs") refresh(); });
}
