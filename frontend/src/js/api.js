// The service's HTTP API (base /api/v1), as small async functions. Every failure becomes an Error whose
// message is one readable sentence: the service's {"detail": ...} when it sent one.

export const BASE = "/api/v1";

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function detailOf(response) {
  const text = await response.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    if (typeof body.detail === "string") return body.detail;
    // FastAPI validation errors: a list of {loc, msg}.
    if (Array.isArray(body.detail) && body.detail.length) {
      return body.detail.map((d) => `${(d.loc || []).filter((p) => p !== "body").join(" ")}: ${d.msg}`).join("; ");
    }
  } catch { /* not JSON */ }
  if (response.status === 413) return "the file is too large for the server";
  return `the server answered ${response.status} ${response.statusText}`.trim();
}

async function request(path, options = {}) {
  let response;
  try {
    response = await fetch(path.startsWith("/") ? path : `${BASE}/${path}`, options);
  } catch {
    throw new ApiError("the server cannot be reached", 0);
  }
  if (!response.ok) throw new ApiError(await detailOf(response), response.status);
  return response;
}

const json = async (path, options) => (await request(path, options)).json();
const postJson = (path, body) => json(path, {
  method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
});

export const health = () => json("/health");
export const models = () => json("models");

/** The song's analysis (duration, tempo, beats, downbeats, sections ...). */
export function analyze(file) {
  const form = new FormData();
  form.append("song", file, file.name);
  return json("analyze", { method: "POST", body: form });
}

/** Start a dance: fields {members, style, prompt, seed, section_prompts?, formations?, plan?} → {id, status}. */
export function createDance(file, fields) {
  const form = new FormData();
  form.append("song", file, file.name);
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === null || value === "") continue;
    form.append(key, typeof value === "object" ? JSON.stringify(value) : String(value));
  }
  return json("choreographies", { method: "POST", body: form });
}

// Dances (kind "dance" or "regenerate") live under /choreographies, text → dance jobs under /motions.
const collection = (kind) => (kind === "motion" ? "motions" : "choreographies");
const at = (kind, id, rest = "") => `${collection(kind)}/${encodeURIComponent(id)}${rest}`;

export const job = (id, kind = "dance") => json(at(kind, id));
/** A job of either collection: the dance's record, else the motion's. */
export async function anyJob(id) {
  try { return await job(id, "dance"); } catch (err) {
    if (err.status !== 404) throw err;
    return job(id, "motion");
  }
}
export const jobs = (page = 1, perPage = 20, kind = "dance") => json(`${collection(kind)}?page=${page}&per_page=${perPage}`);
export const cancel = (id, kind = "dance") => json(at(kind, id, "/cancel"), { method: "POST" });
export const remove = (id, kind = "dance") => request(at(kind, id), { method: "DELETE" });

/** Dance section k again (new job whose parent is id); body {prompt?, formation?, seed?}. */
export const regenerate = (id, k, body) => postJson(`choreographies/${encodeURIComponent(id)}/sections/${k}/regenerate`, body);

// Point moves: the library, and a dance's placements (each edit is a regenerate job of one section).
export const moves = () => json("moves");
export const move = (name) => json(`moves/${encodeURIComponent(name)}`);
export const removeMove = (name) => json(`moves/${encodeURIComponent(name)}`, { method: "DELETE" });
/** A move from one member's span of dance `id`: body {name, member, start, end} (seconds) → the move. */
export const moveFromDance = (id, body) => postJson(`choreographies/${encodeURIComponent(id)}/moves`, body);
/** A move from a motion file: fields {name, start?, end?, bpm?} → the move. */
export function uploadMove(file, fields) {
  const form = new FormData();
  form.append("file", file, file.name);
  for (const [key, value] of Object.entries(fields)) if (value !== undefined && value !== null && value !== "") form.append(key, String(value));
  return json("moves", { method: "POST", body: form });
}
/** Set section k's placements: {points: [{move, beats|bars, members}], dry_run?} → the new job {id, parent}, or with
 * dry_run the placements as they would be danced. */
export const setPoints = (id, k, body) => json(`choreographies/${encodeURIComponent(id)}/sections/${k}/points`, {
  method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
});

/** Text → dance: 200 with the finished job and its "motions" (each a motion.json), or 202 {id} to follow. */
export async function motion(body) {
  const response = await request("motions", {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

export const fileUrl = (id, name, kind = "dance") => `${BASE}/${at(kind, id, `/files/${encodeURIComponent(name)}`)}`;

/** Follow a job until it ends: onProgress(job) on every change; resolves with the final job record.
 * Server-sent events first; if the stream breaks, it falls back to polling the job record. */
export function follow(id, onProgress, kind = "dance") {
  return new Promise((resolve, reject) => {
    const FINAL = new Set(["done", "failed", "cancelled", "deleted"]);
    let finished = false;
    let poller = null;
    const finish = (record) => {
      if (finished) return;
      finished = true;
      source.close();
      clearInterval(poller);
      onProgress(record);
      resolve(record);
    };
    const handle = (event) => {
      let record;
      try { record = JSON.parse(event.data); } catch { return; }
      if (FINAL.has(record.status)) finish(record);
      else onProgress(record);
    };
    const source = new EventSource(`${BASE}/${at(kind, id, "/events")}`);
    source.addEventListener("progress", handle);
    for (const name of FINAL) source.addEventListener(name, handle);
    source.onerror = () => {
      if (finished || poller) return;
      source.close();
      // The stream broke (proxy, restart): poll instead.
      poller = setInterval(async () => {
        try {
          const record = await job(id, kind);
          if (FINAL.has(record.status)) finish(record);
          else onProgress(record);
        } catch (err) {
          if (err.status === 404) { finished = true; clearInterval(poller); reject(err); }
        }
      }, 1000);
    };
  });
}
