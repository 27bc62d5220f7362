"""HTML report of a suite result: the metrics table with each protocol, and plots (matplotlib Agg,
written as PNG files beside the page and embedded in it, so the page works on its own)."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from choreo.metrics import beat_alignment, foot, kinetic
from choreo.motion import Motion

MAX_CURVES = 4  # clips per set drawn in the speed plot
TIMELINE_SECONDS = 20.0  # foot-contact timeline shows at most this much of a clip


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def plot_speed_curves(generated: Sequence[Motion], reference: Sequence[Motion], path: Path) -> Path:
    """Mean joint speed (m/s) against time for the first few clips of each set."""
    plt = _pyplot()
    fig, axes = plt.subplots(2, 1, figsize=(10, 5.5), sharex=True, sharey=True)
    for ax, motions, name in ((axes[0], generated, "generated"), (axes[1], reference, "reference")):
        for m in motions[:MAX_CURVES]:
            speed = kinetic.mean_joint_speed(m.joints, m.fps)
            ax.plot(np.arange(len(speed)) / m.fps, speed, lw=0.9, label=Path(m.source).name[:40] or name)
        ax.set_title(f"{name}: mean joint speed")
        ax.set_ylabel("m/s")
        if motions:
            ax.legend(fontsize=7, loc="upper right")
    axes[1].set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_beat_alignment(motion: Motion, music_beats: np.ndarray, path: Path) -> Path:
    """The smoothed speed curve of one clip with music beats (lines) and motion beats (dots)."""
    plt = _pyplot()
    velocity = beat_alignment.bailando_velocity(motion.joints, motion.fps)
    t = np.arange(len(velocity)) / motion.fps
    duration = t[-1] if len(t) else 0.0
    beats = np.asarray(music_beats, float)
    beats = beats[(beats >= 0) & (beats <= duration)]
    motion_beats = beat_alignment.bailando_motion_beats(motion.joints, motion.fps)
    fig, ax = plt.subplots(figsize=(10, 3.2))
    ax.plot(t, velocity, color="tab:blue", lw=1.0, label="smoothed mean joint speed")
    for i, b in enumerate(beats):
        ax.axvline(b, color="tab:red", lw=0.7, ls="--", alpha=0.7, label="music beat" if i == 0 else None)
    idx = np.round(motion_beats * motion.fps).astype(int)
    ax.plot(motion_beats, velocity[idx], "o", color="tab:green", ms=4, label="motion beat (speed minimum)")
    score = beat_alignment.bas_bailando(beats, motion_beats)
    ax.set_title(f"beat alignment: {Path(motion.source).name[:50]}  (Bailando BAS {score:.3f})")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("m/s")
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def plot_foot_contacts(clips: Sequence[tuple[str, Motion]], path: Path) -> Path:
    """Foot-contact timeline (Lodge contact rule) of a few clips: one bar row per foot."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(10, 0.6 + 0.7 * max(1, len(clips))))
    labels = []
    for row, (name, m) in enumerate(clips):
        frames = min(m.num_frames, int(TIMELINE_SECONDS * m.fps))
        contacts = foot.lodge_contacts(m.joints[:frames].astype(np.float64))
        for side, color in ((0, "tab:orange"), (1, "tab:purple")):
            y = row * 2 + side
            on = contacts[:, side]
            starts = np.flatnonzero(on & ~np.concatenate([[False], on[:-1]]))
            ends = np.flatnonzero(on & ~np.concatenate([on[1:], [False]])) + 1
            ax.broken_barh([(s / m.fps, (e - s) / m.fps) for s, e in zip(starts, ends, strict=True)],
                           (y + 0.1, 0.8), color=color)
            labels.append(f"{name} {'L' if side == 0 else 'R'}")
    ax.set_yticks(np.arange(len(labels)) + 0.5)
    ax.set_yticklabels(labels, fontsize=7)
    ax.set_xlabel("time (s)")
    ax.set_title("foot contact (ankle ≤ 8 cm and toe ≤ 5 cm above the lowest joint)")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.4g}"


def _metrics_table(result: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{_fmt(v['generated'])}</td><td>{_fmt(v['reference'])}</td>"
        f"<td>{html.escape(v['unit'])}</td><td class=p>{html.escape(v['protocol'])}</td></tr>"
        for k, v in result["metrics"].items()
    )
    head = "".join(f"<th>{h}</th>" for h in ("metric", "generated", "reference", "unit", "protocol"))
    return f"<table><tr>{head}</tr>{rows}</table>"


def _baselines_table(result: dict) -> str:
    base = result.get("baselines")
    if not base:
        return ""
    cols = [(name, b) for name, b in base.items()]
    head = "".join(f"<th>{html.escape(n)}</th>" for n, _ in cols)
    keys = list(result["metrics"])
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td>"
        + "".join(f"<td>{_fmt(b['values'].get(k)) if b.get('available') else '—'}</td>" for _, b in cols)
        + "</tr>"
        for k in keys if any(b.get("available") and k in b["values"] for _, b in cols)
    )
    notes = "".join(f"<li>{html.escape(n)}: {html.escape(b['reason'])}</li>"
                    for n, b in cols if not b.get("available"))
    notes += "".join(f"<li>{html.escape(n)}: {html.escape(b['note'])}</li>" for n, b in cols if b.get("note"))
    notes += "".join(f"<li>{html.escape(n)} leaves out {html.escape(style)}: {html.escape(why)}</li>"
                     for n, b in cols for style, why in b.get("omitted", {}).items())
    return (f"<h2>Baselines (same suite code)</h2><table><tr><th>metric</th>{head}</tr>{rows}</table>"
            f"<ul>{notes}</ul>")


def _style_table(result: dict) -> str:
    """The per-style rows (metrics/per_style.py) when the result has them."""
    if not result.get("per_style"):
        return ""
    from choreo.metrics.per_style import TABLE_HEADERS, TABLE_KEYS, fmt, table_rows

    head = "".join(f"<th>{html.escape(h)}</th>" for h in ("style", "set", *TABLE_HEADERS, "note"))
    rows = "".join(
        f"<tr><td>{html.escape(style)}</td><td>{html.escape(label)}</td>"
        + "".join(f"<td>{fmt(values.get(k)) if values else '—'}</td>" for k in TABLE_KEYS)
        + f"<td class=p>{html.escape(note)}</td></tr>"
        for style, label, values, note in table_rows(result["per_style"])
    )
    return (f"<h2>Per style (each style's generated clips against the real clips of that style)</h2>"
            f"<table><tr>{head}</tr>{rows}</table>")


def _img(path: Path, alt: str) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<h3>{html.escape(alt)}</h3><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def write_report(
    out_dir: str | Path, result: dict, generated: Sequence[Motion], reference: Sequence[Motion],
    music_beats: np.ndarray | None = None,
) -> Path:
    """Write the PNG plots and report.html into `out_dir`; returns the page's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    images = [(plot_speed_curves(generated, reference, out / "speed_curves.png"), "Speed curves")]
    if music_beats is not None and generated:
        images.append((plot_beat_alignment(generated[0], music_beats, out / "beat_alignment.png"),
                       "Beat alignment (first generated clip)"))
    timeline = [(f"gen{i}", m) for i, m in enumerate(generated[:2])]
    timeline += [(f"ref{i}", m) for i, m in enumerate(reference[:2])]
    if timeline:
        images.append((plot_foot_contacts(timeline, out / "foot_contacts.png"), "Foot-contact timeline"))
    counts = result["counts"]
    proto = "".join(f"<li><b>{html.escape(k)}</b>: {html.escape(str(v))}</li>"
                    for k, v in result["protocol"].items())
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>choreo evaluation</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;font-size:13px}}
td.p{{font-size:11px;color:#444}}img{{max-width:100%}}</style></head><body>
<h1>choreo evaluation</h1>
<p>generated: {counts['generated']['clips']} clips, {counts['generated']['windows']} windows,
{counts['generated']['seconds']} s; reference: {counts['reference']['clips']} clips,
{counts['reference']['windows']} windows, {counts['reference']['seconds']} s</p>
<h2>Protocol</h2><ul>{proto}</ul>
<h2>Metrics</h2>{_metrics_table(result)}
{_baselines_table(result)}
{_style_table(result)}
<h2>Plots</h2>{''.join(_img(p, alt) for p, alt in images)}
</body></html>
"""
    page_path = out / "report.html"
    page_path.write_text(page, encoding="utf-8")
    return page_path
