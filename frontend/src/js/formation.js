// The formation map: the stage from above, the audience at the bottom (+Z down, +X right, as the audience
// sees it), each member a dot in their colour where their pelvis is now, a short facing tick and a trail
// of the last two seconds; the current section's formation spots as rings. Positions come from
// choreography.json (members' joints per frame), interpolated at the audio's time.
import { PELVIS, LEFT_HIP, RIGHT_HIP } from "./skeleton.js";

export class FormationMap {
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.data = null; // {fps, frames, tracks: [Float32Array frames*6 (pelvis x,z, left hip x,z, right hip x,z)], sections}
    this.colors = [];
    this.names = [];
    this.mirrored = false;
    this.focus = -1;
    this._last = null;
    new ResizeObserver(() => { this._last = null; }).observe(canvas);
  }

  /** Keep only what the map draws from choreography.json: pelvis and hips on the floor plane. */
  setChoreography(ch, colors) {
    if (!ch) { this.data = null; this._last = null; return; }
    const tracks = ch.members.map((m) => {
      const a = new Float32Array(m.joints.length * 6);
      m.joints.forEach((f, i) => {
        a.set([f[PELVIS][0], f[PELVIS][2], f[LEFT_HIP][0], f[LEFT_HIP][2], f[RIGHT_HIP][0], f[RIGHT_HIP][2]], i * 6);
      });
      return a;
    });
    let lo = [-4, -3], hi = [4, 3];
    for (const a of tracks) for (let i = 0; i < a.length; i += 6) {
      lo = [Math.min(lo[0], a[i] - 1), Math.min(lo[1], a[i + 1] - 1)];
      hi = [Math.max(hi[0], a[i] + 1), Math.max(hi[1], a[i + 1] + 1)];
    }
    this.data = { fps: ch.fps, frames: ch.frames, tracks, sections: ch.sections || [], lo, hi };
    this.colors = colors;
    this.names = ch.members.map((m) => m.name);
    this._last = null;
  }

  _at(a, f) { // position and facing of one member at fractional frame f
    const n = a.length / 6;
    const i = Math.min(Math.max(Math.floor(f), 0), n - 1), j = Math.min(i + 1, n - 1), u = Math.min(Math.max(f - i, 0), 1);
    const v = (k) => a[i * 6 + k] * (1 - u) + a[j * 6 + k] * u;
    const hx = v(2) - v(4), hz = v(3) - v(5);
    const len = Math.hypot(hx, hz) || 1;
    return { x: v(0), z: v(1), fx: -hz / len, fz: hx / len }; // forward = hips × up
  }

  draw(t) {
    const key = `${t}|${this.mirrored}|${this.focus}|${this.canvas.clientWidth}x${this.canvas.clientHeight}`;
    if (key === this._last) return;
    this._last = key;
    const c = this.canvas, ctx = this.ctx, dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) { c.width = Math.round(w * dpr); c.height = Math.round(h * dpr); }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#181a1f";
    ctx.fillRect(0, 0, w, h);
    ctx.font = "10px system-ui, sans-serif";
    ctx.textAlign = "center";
    ctx.textBaseline = "middle";
    const d = this.data;
    if (!d) { ctx.fillStyle = "#9aa0ab"; ctx.fillText("formation map", w / 2, h / 2); return; }
    const pad = 8, bottomText = 12;
    const sx = (w - 2 * pad) / (d.hi[0] - d.lo[0]), sz = (h - 2 * pad - bottomText) / (d.hi[1] - d.lo[1]);
    const s = Math.min(sx, sz);
    const cx = w / 2, cz = pad + (h - 2 * pad - bottomText) / 2;
    const mx = (d.lo[0] + d.hi[0]) / 2, mz = (d.lo[1] + d.hi[1]) / 2;
    const X = (x) => cx + (this.mirrored ? -1 : 1) * (x - mx) * s;
    const Z = (z) => cz + (z - mz) * s;
    // Floor, centre marks, the audience edge.
    ctx.fillStyle = "#262a32";
    ctx.fillRect(X(this.mirrored ? d.hi[0] : d.lo[0]), Z(d.lo[1]), (d.hi[0] - d.lo[0]) * s, (d.hi[1] - d.lo[1]) * s);
    ctx.strokeStyle = "#3a3f4a";
    ctx.beginPath(); ctx.moveTo(X(0), Z(d.lo[1])); ctx.lineTo(X(0), Z(d.hi[1])); ctx.moveTo(X(d.lo[0]), Z(0)); ctx.lineTo(X(d.hi[0]), Z(0)); ctx.stroke();
    ctx.fillStyle = "#9aa0ab";
    ctx.fillText("▼ audience ▼", w / 2, h - bottomText / 2 - 1);
    const f = t * d.fps;
    // The current section's spots.
    const sec = d.sections.find((q) => f >= q.start_frame && f < q.end_frame);
    if (sec && sec.spots) {
      ctx.strokeStyle = "rgba(255,255,255,0.28)";
      for (const [x, z] of sec.spots) { ctx.beginPath(); ctx.arc(X(x), Z(z), 0.25 * s, 0, 2 * Math.PI); ctx.stroke(); }
    }
    d.tracks.forEach((a, m) => {
      const dim = this.focus >= 0 && m !== this.focus;
      ctx.globalAlpha = dim ? 0.3 : 1;
      const col = this.colors[m] || "#ccc";
      // Trail: the last two seconds.
      ctx.strokeStyle = col;
      ctx.globalAlpha = dim ? 0.12 : 0.45;
      ctx.beginPath();
      for (let k = Math.max(0, f - 2 * d.fps); k <= f; k += 1) {
        const p = this._at(a, k);
        if (k === Math.max(0, f - 2 * d.fps)) ctx.moveTo(X(p.x), Z(p.z)); else ctx.lineTo(X(p.x), Z(p.z));
      }
      ctx.stroke();
      ctx.globalAlpha = dim ? 0.3 : 1;
      const p = this._at(a, f);
      const r = Math.max(6, 0.22 * s);
      ctx.strokeStyle = "#fff";
      ctx.lineWidth = 2;
      ctx.beginPath(); ctx.moveTo(X(p.x), Z(p.z));
      ctx.lineTo(X(p.x + p.fx * (r / s + 0.3)), Z(p.z + p.fz * (r / s + 0.3))); ctx.stroke();
      ctx.lineWidth = 1;
      ctx.fillStyle = col;
      ctx.beginPath(); ctx.arc(X(p.x), Z(p.z), r, 0, 2 * Math.PI); ctx.fill();
      ctx.fillStyle = "#111";
      ctx.fillText(String(m + 1), X(p.x), Z(p.z) + 0.5);
    });
    ctx.globalAlpha = 1;
  }
}
