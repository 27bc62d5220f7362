"""`choreo demo-song --out FILE.wav [--bpm B] [--seed N]`: a synthesized K-pop-shaped song + ground truth.

Writes FILE.wav and FILE.truth.json (tempo, beats, downbeats, sections with labels and kinds).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from choreo.errors import ChoreoError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo-song", help="synthesize a demo song (no recorded audio) with its ground truth")
    p.add_argument("--out", required=True, help="audio file to write (.wav, .flac or .ogg)")
    p.add_argument("--bpm", type=float, default=132.0, help="tempo, 70-180 (default 132)")
    p.add_argument("--seed", type=int, default=0, help="random seed of melodies and drum details (default 0)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not 70.0 <= args.bpm <= 180.0:
        raise ChoreoError(f"--bpm {args.bpm:g}: choose a tempo from 70 to 180")
    out = Path(args.out)
    if out.suffix.lower() not in (".wav", ".flac", ".ogg"):
        raise ChoreoError(f"--out {out}: use a .wav, .flac or .ogg file name")
    if out.is_dir():
        raise ChoreoError(f"--out {out}: is a folder; give a file name")
    from choreo.music.demo_song import synthesize, write_demo_song

    song = synthesize(bpm=args.bpm, seed=args.seed)
    audio, truth = write_demo_song(out, song)
    t = song.truth
    print(f"wrote {audio} ({t['duration']:.1f} s, {t['tempo']:g} BPM, {len(t['downbeats'])} bars, "
          f"{len(t['sections'])} sections) and {truth}")
    return 0
