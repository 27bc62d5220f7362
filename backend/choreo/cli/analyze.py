"""`choreo analyze SONG [--json] [--out DIR]`: tempo, beats, bars, sections with repeats, energy.

Prints a table (or the `Song` as JSON); with --out also writes analysis.json and analysis.png. The
analysis runs before anything is written, so a bad file leaves --out untouched.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from choreo.errors import ChoreoError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("analyze", help="read a song: tempo, beats, bars, sections (with repeats), energy")
    p.add_argument("song", help="audio file: WAV, FLAC, OGG, MP3, M4A/AAC or anything ffmpeg reads")
    p.add_argument("--json", action="store_true", help="print the analysis as JSON instead of a table")
    p.add_argument("--out", help="folder to write analysis.json and analysis.png into")
    p.add_argument("--max-minutes", type=float, default=15.0, help="refuse longer files (default 15)")
    p.set_defaults(func=run)


def format_table(song) -> str:  # noqa: ANN001 - a choreo.music.Song
    lines = [f"song:    {song.source}",
             f"length:  {song.duration:.2f} s",
             f"tempo:   {song.tempo:.2f} BPM",
             f"meter:   {song.meter}/4",
             f"bars:    {song.bars} ({len(song.beats)} beats, first bar at {song.downbeats[0]:.2f} s)"
             if song.bars else "bars:    0",
             "",
             f"{'#':>2}  {'start':>7}  {'end':>7}  {'bars':>4}  {'label':<5}  {'kind':<11}  {'energy':>6}  "
             f"{'conf.':>5}"]
    lines.append("-" * len(lines[-1]))
    for i, s in enumerate(song.sections, start=1):
        lines.append(f"{i:>2}  {s.start:>7.2f}  {s.end:>7.2f}  {song.section_bars(s):>4}  {s.label:<5}  {s.kind:<11}  "
                     f"{s.energy:>6.2f}  {s.confidence:>5.2f}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    out = Path(args.out) if args.out else None
    if out is not None and out.exists() and not out.is_dir():
        raise ChoreoError(f"--out {out}: exists and is not a folder")
    if not args.max_minutes > 0:
        raise ChoreoError("--max-minutes must be positive")
    from choreo.music.analyze import analyze_file

    analysis = analyze_file(args.song, max_seconds=args.max_minutes * 60.0)
    song = analysis.song
    if out is not None:
        from choreo.music.plot import plot_analysis

        out.mkdir(parents=True, exist_ok=True)
        song.save(out / "analysis.json")
        plot_analysis(analysis, out / "analysis.png")
    print(song.to_json() if args.json else format_table(song))
    if out is not None and not args.json:
        print(f"\nwrote {out / 'analysis.json'} and {out / 'analysis.png'}")
    return 0
