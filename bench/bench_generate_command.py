"""Wall time of the whole `choreo generate` command as a user types it (a fresh process each run), with
and without the preview MP4, plus the load average, so busy-machine numbers can be judged.

    ../.venv/bin/python ../bench/bench_generate_command.py --runs 3      # from backend/
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", default="10")
    p.add_argument("--samples", default="2")
    a = p.parse_args()
    choreo = [sys.executable, "-m", "choreo"]
    with tempfile.TemporaryDirectory() as tmp:
        timed([*choreo, "--version"])  # warm the file cache once
        rows = {}
        for label, extra in (("--version (start-up only)", None), ("generate --no-video", ["--no-video"]),
                             ("generate (with preview.mp4)", [])):
            times = []
            for i in range(a.runs):
                if extra is None:
                    times.append(timed([*choreo, "--version"]))
                    continue
                out = Path(tmp) / f"{len(rows)}_{i}"
                times.append(timed([*choreo, "generate", "--text", "a person dances salsa", "--seconds", a.seconds,
                                    "--samples", a.samples, "--seed", "1", "--out", str(out), *extra]))
            rows[label] = times
        print(f"load average {os.getloadavg()[0]:.1f} (2 cores)")
        for label, times in rows.items():
            print(f"{label:<30} median {statistics.median(times):.2f} s  runs {', '.join(f'{t:.2f}' for t in times)}")


if __name__ == "__main__":
    main()
