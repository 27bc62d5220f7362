// The timeline: the song's waveform, beats, bars, 8-counts and sections (coloured by label, named by kind),
// the playhead at the audio's time, a looped section shaded, point-move placements as boxes in a lane under
// the sections, a selected span. Click to seek, wheel to zoom, drag to scroll; Shift-drag selects beats; while
// a move is picked a click places it (snapped to the nearest beat); a move dragged from the Moves panel drops.
// The waveform is drawn from the song decoded with WebAudio (for drawing only; the music plays from the
// page's one <audio> element).

export const SECTION_COLORS = ["#e8596f", "#4f8fe8", "#f2b632", "#45b87a", "#a065e0", "#f07f3c",
  "#2fc0c9", "#e866a8", "#9fae3b", "#b98a5e"];

export function sectionColor(label) {
  const i = label && /^[A-Z]$/.test(label) ? label.charCodeAt(0) - 65 : [...String(label)].reduce((a, c) => a + c.charCodeAt(0), 0);
  return SECTION_COLORS[i % SECTION_COLORS.length];
}

export function formatTime(t, tenths = true) {
  if (!Number.isFinite(t)) t = 0;
  const m = Math.floor(t / 60);
  const s = t - 60 * m;
  return `${m}:${(tenths ? s.toFixed(1) : Math.floor(s).toString()).padStart(tenths ? 4 : 2, "0")}`;
}

/** Which count (1 … 2×meter) of its 8-count each beat is: counted from the start of its section, so the
 * "1" falls where a phrase starts, as dancers count. */
export function eightCounts(beats, sections, meter = 4) {
  const per = 2 * (meter || 4);
  const counts = new Array(beats.length);
  let s = -1, first = 0;
  for (let i = 0; i < beats.length; i++) {
    let k = s;
    while (k + 1 < sections.length && beats[i] >= sections[k + 1].start - 0.02) k++;
    if (k !== s || i === 0) { s = k; first = i; }
    counts[i] = ((i - first) % per) + 1;
  }
  return counts;
}

const RULER = 16, BANDS = 22, LANE = 16;
export const MOVE_MIME = "application/x-choreo-move";

export class Timeline {
  constructor(canvas, { onSeek, onPick = null, onPlace = null, onSelect = null, onDropMove = null }) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.onSeek = onSeek;
    this.onPick = onPick; // double click: the time picked (the page loops the section there)
    this.onPlace = onPlace; // a click while placing: the beat's time
    this.onSelect = onSelect; // a Shift-drag: [start, end] on beats
    this.onDropMove = onDropMove; // (move name, beat time) of a move dropped on the timeline
    this.marks = []; // [{start, end, label, color, pending}]
    this.selection = null; // [start, end]
    this.placing = false;
    this.hover = null; // the beat a dragged move would land on
    this.song = null; // {duration, beats, downbeats, meter, sections}
    this.peaks = null; // {rate, min: Float32Array, max: Float32Array}
    this.view = [0, 1];
    this.time = 0;
    this.loop = null; // [start, end] or null
    this.dirty = true;
    this._drag = null;
    canvas.addEventListener("pointerdown", (e) => this._down(e));
    canvas.addEventListener("pointermove", (e) => this._move(e));
    canvas.addEventListener("pointerup", (e) => this._up(e));
    canvas.addEventListener("wheel", (e) => this._wheel(e), { passive: false });
    canvas.addEventListener("dblclick", (e) => { if (this.song && this.onPick && !this.placing) this.onPick(this._t(e.offsetX)); });
    canvas.addEventListener("dragover", (e) => {
      if (!this.song || !e.dataTransfer?.types.includes(MOVE_MIME)) return;
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
      this.hover = this.snap(this._t(e.offsetX));
      this.dirty = true;
    });
    canvas.addEventListener("dragleave", () => { this.hover = null; this.dirty = true; });
    canvas.addEventListener("drop", (e) => {
      const name = e.dataTransfer?.getData(MOVE_MIME);
      this.hover = null;
      this.dirty = true;
      if (!this.song || !name) return;
      e.preventDefault();
      e.stopPropagation();
      if (this.onDropMove) this.onDropMove(name, this.snap(this._t(e.offsetX)));
    });
    new ResizeObserver(() => { this.dirty = true; }).observe(canvas);
  }

  setSong(song) {
    this.song = song;
    this.counts = song ? eightCounts(song.beats || [], song.sections || [], song.meter) : [];
    this.view = [0, song ? Math.max(song.duration, 1) : 1];
    this.dirty = true;
  }

  /** Peaks (min and max per 1/200 s) of an AudioBuffer's first channel (or their mean). */
  setAudio(buffer) {
    if (!buffer) { this.peaks = null; this.dirty = true; return; }
    const rate = 200;
    const data = buffer.numberOfChannels > 1 ? mixDown(buffer) : buffer.getChannelData(0);
    const step = buffer.sampleRate / rate;
    const n = Math.ceil(data.length / step);
    const min = new Float32Array(n), max = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      let lo = 0, hi = 0;
      const end = Math.min(data.length, Math.round((i + 1) * step));
      for (let k = Math.round(i * step); k < end; k++) {
        const v = data[k];
        if (v < lo) lo = v; else if (v > hi) hi = v;
      }
      min[i] = lo; max[i] = hi;
    }
    this.peaks = { rate, min, max };
    this.dirty = true;
  }

  setLoop(range) { this.loop = range; this.dirty = true; }
  setMarks(marks) { this.marks = marks || []; this.dirty = true; }
  setSelection(range) { this.selection = range; this.dirty = true; }
  setPlacing(on) { this.placing = Boolean(on); this.canvas.classList.toggle("placing", this.placing); this.dirty = true; }

  /** The beat nearest to t (t itself without beats). */
  snap(t) {
    const beats = this.song?.beats || [];
    let best = t, dist = Infinity;
    for (const b of beats) { const d = Math.abs(b - t); if (d < dist) { dist = d; best = b; } }
    return best;
  }

  /** The x (CSS pixels from the canvas's left) where time t is drawn. */
  xOf(t) { return this._x(t); }

  /** Draw at playhead t; while playing, the view follows the playhead when zoomed in. */
  draw(t, playing = false) {
    if (playing && this.song) {
      const [v0, v1] = this.view;
      const span = v1 - v0;
      if (t > v1 - 0.05 * span || t < v0) this._setView(t - 0.1 * span, t + 0.9 * span);
    }
    if (!this.dirty && t === this.time) return;
    this.time = t;
    this.dirty = false;
    this._paint();
  }

  _x(t) { const [v0, v1] = this.view; return ((t - v0) / (v1 - v0)) * this.w; }
  _t(x) { const [v0, v1] = this.view; return v0 + (x / this.w) * (v1 - v0); }

  _paint() {
    const c = this.canvas, ctx = this.ctx;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr); c.height = Math.round(h * dpr);
    }
    this.w = w;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = "#181a1f";
    ctx.fillRect(0, 0, w, h);
    const song = this.song;
    if (!song) {
      ctx.fillStyle = "#9aa0ab";
      ctx.font = "13px system-ui, sans-serif";
      ctx.fillText("The song's timeline appears here.", 12, h / 2);
      return;
    }
    const [v0, v1] = this.view;
    const pxPerS = w / (v1 - v0);
    const top = BANDS, bottom = h - RULER, mid = (top + bottom) / 2, half = (bottom - top) / 2 - 2;
    ctx.font = "11px system-ui, sans-serif";
    ctx.textBaseline = "middle";

    // Sections: a coloured band with label and kind, a faint tint under the waveform.
    for (const s of song.sections || []) {
      const x0 = this._x(s.start), x1 = this._x(s.end);
      if (x1 < 0 || x0 > w) continue;
      const col = sectionColor(s.label);
      ctx.fillStyle = col + "2a";
      ctx.fillRect(x0, top, x1 - x0, bottom - top);
      ctx.fillStyle = col;
      ctx.fillRect(x0 + 1, 2, Math.max(1, x1 - x0 - 2), BANDS - 4);
      ctx.save();
      ctx.beginPath(); ctx.rect(x0 + 1, 0, Math.max(0, x1 - x0 - 4), BANDS); ctx.clip();
      ctx.fillStyle = "#111";
      ctx.font = "bold 11px system-ui, sans-serif";
      const repeat = s.repeat_of !== null && s.repeat_of !== undefined ? " (repeat)" : "";
      ctx.fillText(`${s.label} ${s.kind}${repeat} · ${s.bars ?? ""}${s.bars ? " bars" : ""}`, x0 + 5, BANDS / 2);
      ctx.restore();
    }

    // Loop range.
    if (this.loop) {
      const x0 = this._x(this.loop[0]), x1 = this._x(this.loop[1]);
      ctx.fillStyle = "rgba(255,255,255,0.08)";
      ctx.fillRect(x0, top, x1 - x0, bottom - top);
      ctx.strokeStyle = "rgba(255,255,255,0.6)";
      ctx.setLineDash([4, 3]);
      ctx.strokeRect(x0 + 0.5, top + 0.5, x1 - x0 - 1, bottom - top - 1);
      ctx.setLineDash([]);
    }

    // A selected span (Shift-drag), and the beat a dragged move would land on.
    if (this.selection) {
      const x0 = this._x(this.selection[0]), x1 = this._x(this.selection[1]);
      ctx.fillStyle = "rgba(127,176,255,0.22)";
      ctx.fillRect(x0, top, x1 - x0, bottom - top);
      ctx.fillStyle = "#7fb0ff";
      ctx.fillRect(Math.round(x0) - 1, top, 2, bottom - top);
      ctx.fillRect(Math.round(x1) - 1, top, 2, bottom - top);
    }
    if (this.hover !== null && this.hover !== undefined) {
      ctx.fillStyle = "#fff";
      ctx.fillRect(Math.round(this._x(this.hover)) - 1, top, 2, bottom - top);
    }

    // Beats (thin), bars (strong, numbered), 8-count starts (accent, numbered "8×n").
    const beats = song.beats || [], downs = song.downbeats || [];
    const beatPx = beats.length > 1 ? pxPerS * (beats[beats.length - 1] - beats[0]) / (beats.length - 1) : 0;
    if (beatPx >= 3) {
      ctx.fillStyle = "rgba(255,255,255,0.13)";
      for (const b of beats) { const x = this._x(b); if (x >= 0 && x <= w) ctx.fillRect(Math.round(x), top, 1, bottom - top); }
    }
    const showBarNumbers = beatPx * (song.meter || 4) >= 22;
    downs.forEach((d, i) => {
      const x = this._x(d);
      if (x < -2 || x > w + 2) return;
      ctx.fillStyle = "rgba(255,255,255,0.32)";
      ctx.fillRect(Math.round(x), top, 1, bottom - top);
      if (showBarNumbers) { ctx.fillStyle = "#9aa0ab"; ctx.fillText(String(i + 1), x + 3, top + 7); }
    });
    let eight = 0;
    beats.forEach((b, i) => {
      if (this.counts[i] !== 1) return;
      eight++;
      const x = this._x(b);
      if (x < -2 || x > w + 2) return;
      ctx.fillStyle = "rgba(255,79,123,0.75)";
      ctx.fillRect(Math.round(x), bottom - 10, 2, 10);
      if (beatPx >= 6) { ctx.fillStyle = "#ff8fab"; ctx.fillText(`8×${eight}`, x + 4, bottom - 5); }
    });
    if (beatPx >= 16) { // count numbers on every beat when there is room
      ctx.fillStyle = "#c8ccd4";
      beats.forEach((b, i) => { const x = this._x(b); if (x >= 0 && x <= w && this.counts[i] !== 1) ctx.fillText(String(this.counts[i]), x + 2, bottom - 5); });
    }

    // Waveform.
    if (this.peaks) {
      const { rate, min, max } = this.peaks;
      ctx.fillStyle = "rgba(200,210,230,0.75)";
      for (let x = 0; x < w; x++) {
        const i0 = Math.floor(this._t(x) * rate), i1 = Math.max(i0 + 1, Math.floor(this._t(x + 1) * rate));
        let lo = 0, hi = 0;
        for (let i = Math.max(0, i0); i < Math.min(min.length, i1); i++) { if (min[i] < lo) lo = min[i]; if (max[i] > hi) hi = max[i]; }
        if (hi - lo > 0) ctx.fillRect(x, mid - hi * half, 1, Math.max(1, (hi - lo) * half));
      }
    } else {
      ctx.fillStyle = "#9aa0ab";
      ctx.fillText("decoding the song …", 8, mid);
    }

    // Point-move placements: a box per placement in a lane under the sections (dashed: not danced yet).
    for (const m of this.marks) {
      const x0 = this._x(m.start), x1 = this._x(m.end);
      if (x1 < 0 || x0 > w) continue;
      const y = top + 14; // under the bar numbers
      ctx.fillStyle = (m.color || "#ffffff") + (m.pending ? "88" : "dd");
      ctx.fillRect(x0, y, Math.max(2, x1 - x0), LANE);
      ctx.strokeStyle = m.pending ? "#ffffff" : "#111111";
      ctx.setLineDash(m.pending ? [3, 2] : []);
      ctx.strokeRect(x0 + 0.5, y + 0.5, Math.max(2, x1 - x0) - 1, LANE - 1);
      ctx.setLineDash([]);
      ctx.save();
      ctx.beginPath(); ctx.rect(x0, y, Math.max(0, x1 - x0 - 2), LANE); ctx.clip();
      ctx.fillStyle = "#111";
      ctx.font = "bold 10px system-ui, sans-serif";
      ctx.fillText(m.label, x0 + 3, y + LANE / 2 + 1);
      ctx.restore();
    }

    // Ruler.
    ctx.fillStyle = "#101115";
    ctx.fillRect(0, bottom, w, RULER);
    const stepS = [1, 2, 5, 10, 15, 30, 60].find((s) => s * pxPerS >= 50) || 120;
    ctx.fillStyle = "#9aa0ab";
    for (let s = Math.ceil(v0 / stepS) * stepS; s <= v1; s += stepS) {
      const x = this._x(s);
      ctx.fillRect(Math.round(x), bottom, 1, 4);
      ctx.fillText(formatTime(s, false), x + 3, bottom + RULER / 2 + 1);
    }

    // Playhead.
    const px = this._x(this.time);
    ctx.fillStyle = "#ff4f7b";
    ctx.fillRect(Math.round(px) - 1, 0, 2, h);
  }

  _setView(a, b) {
    const d = this.song ? this.song.duration : 1;
    const span = Math.min(Math.max(b - a, 2), Math.max(d, 2));
    a = Math.min(Math.max(a, 0), Math.max(d - span, 0));
    this.view = [a, a + span];
    this.dirty = true;
  }

  _wheel(e) {
    if (!this.song) return;
    e.preventDefault();
    const at = this._t(e.offsetX);
    const k = Math.exp((e.deltaY || e.deltaX) * 0.002);
    const [v0, v1] = this.view;
    this._setView(at - (at - v0) * k, at + (v1 - at) * k);
  }

  _down(e) {
    if (!this.song) return;
    this.canvas.setPointerCapture(e.pointerId);
    this._drag = { x: e.offsetX, view: [...this.view], moved: false, select: e.shiftKey };
  }

  _move(e) {
    const d = this._drag;
    if (!d) return;
    const dx = e.offsetX - d.x;
    if (d.select) { // Shift-drag: select the beats between press and pointer
      if (Math.abs(dx) > 2) d.moved = true;
      const a = this.snap(this._t(d.x)), b = this.snap(this._t(e.offsetX));
      this.setSelection(a === b ? null : [Math.min(a, b), Math.max(a, b)]);
      return;
    }
    if (Math.abs(dx) > 4) d.moved = true;
    if (d.moved) {
      const shift = (dx / this.w) * (d.view[1] - d.view[0]);
      this._setView(d.view[0] - shift, d.view[1] - shift);
    }
  }

  _up(e) {
    const d = this._drag;
    this._drag = null;
    if (d?.select && this.song) { if (this.onSelect) this.onSelect(this.selection); return; }
    if (!d || d.moved || !this.song) return;
    const t = Math.min(Math.max(this._t(e.offsetX), 0), this.song.duration);
    if (this.placing && this.onPlace) this.onPlace(this.snap(t)); else this.onSeek(t);
  }
}

function mixDown(buffer) {
  const out = new Float32Array(buffer.length);
  for (let c = 0; c < buffer.numberOfChannels; c++) {
    const d = buffer.getChannelData(c);
    for (let i = 0; i < out.length; i++) out[i] += d[i] / buffer.numberOfChannels;
  }
  return out;
}
