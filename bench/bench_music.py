"""Music analysis: accuracy on synthesized songs (mir_eval) and speed on a 3-minute song.

    python bench/bench_music.py score   # tempo/beat/downbeat/section figures for docs/EVALUATION.md
    python bench/bench_music.py speed   # a new process twice: import, first and second analysis (BENCHMARKS.md)

Songs come from choreo.music.demo_song (known ground truth), 10 ms timing jitter.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SHORT = (("intro", 2), ("verse", 4), ("chorus", 4), ("verse", 4), ("chorus", 4), ("outro", 2))


def score_one(kw: dict, structure=None) -> dict:
    import mir_eval
    import soxr

    from choreo.music.analyze import analyze_audio
    from choreo.music.audio import SAMPLE_RATE, Audio
    from choreo.music.demo_song import synthesize

    demo = synthesize(structure=structure or SHORT, jitter_ms=10.0, seed=kw.pop("seed", 7), **kw)
    song = analyze_audio(Audio(soxr.resample(demo.samples, demo.rate, SAMPLE_RATE).astype(np.float32),
                               SAMPLE_RATE, "bench")).song
    t = demo.truth
    ref = np.array([[s["start"], s["end"]] for s in t["sections"]])
    est = np.array([[s.start, s.end] for s in song.sections])
    est[-1, 1] = ref[-1, 1]
    _, hit, _ = mir_eval.segment.detection(ref, est, window=0.5, trim=True)
    _, _, pair_f = mir_eval.segment.pairwise(ref, [s["label"] for s in t["sections"]], est,
                                             [s.label for s in song.sections])
    kinds_ok = [s.kind for s in song.sections] == [s["kind"] for s in t["sections"]]
    if not kinds_ok and len(song.sections) == len(t["sections"]):
        wrong = [(s["kind"], e.kind) for s, e in zip(t["sections"], song.sections, strict=True) if s["kind"] != e.kind]
        print(f"  kinds (truth, found) that differ: {wrong}", file=sys.stderr)
    return {"tempo_err": abs(song.tempo - t["tempo"]), "meter_ok": song.meter == t["meter"],
            "beat_f": mir_eval.beat.f_measure(np.array(t["beats"]), song.beats),
            "downbeat_f": mir_eval.beat.f_measure(np.array(t["downbeats"]), song.downbeats),
            "hit_0.5": hit, "pairwise_f": pair_f, "kinds_ok": kinds_ok}


def score() -> None:
    from choreo.music.demo_song import DEFAULT_STRUCTURE

    cases = [(f"{b} BPM", {"bpm": b}, None) for b in (70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180)]
    cases += [("100 BPM, 2.5 s silence", {"bpm": 100, "lead_in": 2.5}, None),
              ("120 BPM, 1-beat pickup", {"bpm": 120, "pickup_beats": 1}, None),
              ("160 BPM, 3-beat pickup", {"bpm": 160, "pickup_beats": 3}, None),
              ("140 BPM, 6 s tempo-free intro", {"bpm": 140, "free_intro": 6.0}, None),
              ("96 BPM, 3/4", {"bpm": 96, "meter": 3}, None), ("150 BPM, 3/4", {"bpm": 150, "meter": 3}, None),
              ("demo song (132 BPM, 10 sections)", {"bpm": 132, "seed": 0}, DEFAULT_STRUCTURE),
              ("demo song seed 1 at 124 BPM", {"bpm": 124, "seed": 1}, DEFAULT_STRUCTURE),
              ("demo song played twice (3 min, bench_dance's)", {"bpm": 132, "seed": 0},
               DEFAULT_STRUCTURE[:-1] * 2 + DEFAULT_STRUCTURE[-1:])]
    print("| song | tempo error (BPM) | meter | beat F | downbeat F | boundary hit rate ±0.5 s | pairwise F "
          "| kinds all right |")
    print("|---|---|---|---|---|---|---|---|")
    for name, kw, structure in cases:
        r = score_one(dict(kw), structure)
        print(f"| {name} | {r['tempo_err']:.3f} | {'ok' if r['meter_ok'] else 'WRONG'} | {r['beat_f']:.3f} | "
              f"{r['downbeat_f']:.3f} | {r['hit_0.5']:.2f} | {r['pairwise_f']:.2f} | "
              f"{'yes' if r['kinds_ok'] else 'no'} |")


CHILD = """
import sys, time, json
t0 = time.perf_counter()
from choreo.music.analyze import analyze_file
t1 = time.perf_counter()
analyze_file(sys.argv[1])
t2 = time.perf_counter()
analyze_file(sys.argv[1])
t3 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "first": t2 - t1, "second": t3 - t2}))
"""


def speed() -> None:
    from choreo.music.demo_song import DEFAULT_STRUCTURE, synthesize, write_demo_song

    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "three_minutes.wav"
        write_demo_song(wav, synthesize(bpm=132, structure=DEFAULT_STRUCTURE * 2))
        import soundfile

        print(f"song: {soundfile.info(str(wav)).duration:.1f} s, 22.05 kHz 16-bit WAV")
        for label in ("new process", "new process again"):
            wall = time.perf_counter()
            out = subprocess.run([sys.executable, "-c", CHILD, str(wav)], capture_output=True, text=True,
                                 check=True).stdout
            r = json.loads(out)
            print(f"{label}: process {time.perf_counter() - wall:.1f} s; import {r['import']:.2f} s, "
                  f"first analysis {r['first']:.2f} s, second analysis in the same process {r['second']:.2f} s")


if __name__ == "__main__":
    {"score": score, "speed": speed}[sys.argv[1] if len(sys.argv) > 1 else "score"]()
