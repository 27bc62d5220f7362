"""analysis.png: the song's structure at a glance — sections, waveform with beats and bars, energy."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from choreo import fonts
from choreo.music.analyze import Analysis

PALETTE = ["#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#FF9DA6", "#9D755D", "#BAB0AC",
           "#EECA3B"]


def plot_analysis(analysis: Analysis, path: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    song, audio = analysis.song, analysis.audio
    colours = {lab: PALETTE[i % len(PALETTE)] for i, lab in enumerate(dict.fromkeys(s.label for s in song.sections))}
    # A Korean file name or section label: the CJK font as fallback, or left out if none exists (fonts.py).
    name = fonts.drawable(Path(song.source).name or "song")
    labels = {s.label: fonts.drawable(s.label) for s in song.sections}
    with fonts.matplotlib_text(name, *labels.values()):
        fig, (ax_sec, ax_wave, ax_en) = plt.subplots(3, 1, figsize=(14, 6.2), sharex=True,
                                                      gridspec_kw={"height_ratios": [1.1, 2.2, 1.6], "hspace": 0.08})
        fig.patch.set_facecolor("white")
        fig.suptitle(f"{name} — {song.tempo:.1f} BPM, {song.meter}/4, {song.bars} bars, {len(song.sections)} sections",
                     fontsize=13, x=0.07, ha="left", y=0.97)

        # Sections: one coloured block per section, repeats share a colour.
        for s in song.sections:
            c = colours[s.label]
            ax_sec.add_patch(plt.Rectangle((s.start, 0.08), s.duration, 0.84, facecolor=c, edgecolor="white", lw=2))
            wide = s.duration > 0.055 * song.duration
            ax_sec.text(s.start + s.duration / 2, 0.62 if wide else 0.5, labels[s.label], ha="center", va="center",
                        color="white", fontsize=12, fontweight="bold")
            if wide:
                ax_sec.text(s.start + s.duration / 2, 0.3, s.kind, ha="center", va="center", color="white",
                            fontsize=8.5)
            for ax in (ax_wave, ax_en):
                ax.axvspan(s.start, s.end, color=c, alpha=0.10, lw=0)
        ax_sec.set_ylim(0, 1)
        ax_sec.set_yticks([])
        ax_sec.set_ylabel("sections", rotation=0, ha="right", va="center")
        for side in ("top", "right", "left", "bottom"):
            ax_sec.spines[side].set_visible(False)

        # Waveform as a min/max envelope (one column per ~pixel), beats and bar lines on top.
        y = audio.samples
        cols = 2000
        step = max(1, len(y) // cols)
        n = len(y) // step
        blocks = y[: n * step].reshape(n, step)
        t = (np.arange(n) + 0.5) * step / audio.rate
        ax_wave.fill_between(t, blocks.min(1), blocks.max(1), color="#3a3a3a", lw=0)
        peak = float(np.abs(y).max()) or 1.0
        ax_wave.vlines(song.beats, -1.05 * peak, -0.92 * peak, color="#888888", lw=0.6)
        ax_wave.vlines(song.downbeats, -1.05 * peak, 1.05 * peak, color="#d62728", lw=0.5, alpha=0.35)
        for k, d in enumerate(song.downbeats):
            if k % 8 == 0:  # every 8 bars: the numbers choreographers count phrases in
                ax_wave.text(d, 1.07 * peak, str(k + 1), fontsize=7, color="#d62728", ha="center", va="bottom")
        ax_wave.set_ylim(-1.1 * peak, 1.2 * peak)
        ax_wave.set_yticks([])
        ax_wave.set_ylabel("waveform\n(bars red,\nbeats grey)", rotation=0, ha="right", va="center", fontsize=9)

        # Energy: the frame curve, per-beat values, and each section's mean as a flat line.
        ft = np.arange(len(analysis.energy_curve)) / analysis.fps
        ax_en.plot(ft, analysis.energy_curve, color="#bbbbbb", lw=0.6)
        if len(song.beats):
            ax_en.step(song.beats, song.energy, where="post", color="#333333", lw=1.0)
        for s in song.sections:
            ax_en.hlines(s.energy, s.start, s.end, color=colours[s.label], lw=3)
        ax_en.set_ylim(0, 1.05)
        ax_en.set_ylabel("energy", rotation=0, ha="right", va="center")
        ax_en.set_xlabel("time (s)")
        ax_en.set_xlim(0, song.duration)
        for ax in (ax_wave, ax_en):
            ax.spines["top"].set_visible(False)
            ax.spines["right"].set_visible(False)
        path = Path(path)
        fig.savefig(path, dpi=110, bbox_inches="tight")
        plt.close(fig)
    return path
