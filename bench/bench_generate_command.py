"""Wall time of the whole `choreo generate` command as a user types it (a fresh process each run), with and
without the preview MP4, and where it goes: start-up and loading, sampling, repairs, files, the MP4 (as the
command itself reports them) and the imports (`python -X importtime`). Runs are interleaved, so a changing load
on the machine hits every variant alike; `--old` adds the same command run on another source tree (e.g. the
code before a change) and prints new/old ratios from the same run.

    cd backend && ../.venv/bin/python ../bench/bench_generate_command.py --runs 5
    cd backend && ../.venv/bin/python ../bench/bench_generate_command.py --runs 5 --old /path/to/old/backend
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from machine import machine_info

BACKEND = Path(__file__).resolve().parents[1] / "backend"
PHASES = {  # what `choreo generate` prints -> our name
    r"in ([\d.]+) s \(([\d.]+) s of it repairs\)": ("sampling incl. repairs", "repairs"),
    r"start-up and loading ([\d.]+) s": ("start-up and loading",),
    r"files ([\d.]+) s": ("files (BVH, JSON, NPY)",),
    r"preview.mp4 ([\d.]+) s": ("preview.mp4",),
}
TOP_IMPORTS = ("numpy", "onnxruntime", "tokenizers", "safetensors", "tqdm", "torch", "scipy", "choreo")


def run(args: list[str], source: Path) -> tuple[float, dict[str, float], str]:
    env = {**os.environ, "PYTHONPATH": str(source)}
    started = time.perf_counter()
    done = subprocess.run(args, check=True, capture_output=True, text=True, env=env, cwd=source)
    wall = time.perf_counter() - started
    phases = {}
    for pattern, names in PHASES.items():
        m = re.search(pattern, done.stdout)
        if m:
            phases.update({n: float(v) for n, v in zip(names, m.groups(), strict=True)})
    return wall, phases, done.stdout + done.stderr


def import_times(cmd: list[str], source: Path) -> dict[str, float]:
    """Cumulative seconds of each top-level package imported by one run (python -X importtime)."""
    env = {**os.environ, "PYTHONPATH": str(source)}
    done = subprocess.run([cmd[0], "-X", "importtime", *cmd[1:]], capture_output=True, text=True, env=env,
                          cwd=source)
    out: dict[str, float] = {}
    for line in done.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$", line)  # top level: no indentation
        if m and m.group(2).split(".")[0] in TOP_IMPORTS:
            key = m.group(2).split(".")[0]
            out[key] = out.get(key, 0.0) + int(m.group(1)) / 1e6
    return out


def summary(xs: list[float]) -> str:
    return f"min {min(xs):.2f}  median {statistics.median(xs):.2f}"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--seconds", default="10")
    p.add_argument("--samples", default="2")
    p.add_argument("--old", type=Path, help="another backend/ folder to run the same command from, for ratios")
    p.add_argument("--extra", nargs="*", default=[], help="more flags for every generate run (e.g. --repairs 0)")
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    sources = {"new": BACKEND} | ({"old": a.old.resolve()} if a.old else {})
    py = [sys.executable, "-m", "choreo"]
    facts = machine_info()
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources.values():
            run([*py, "--version"], source)  # warm the file cache (and write bytecode) once per tree
            run([*py, "generate", "--text", "warm", "--seconds", "1", "--out", f"{tmp}/warm", "--force",
                 "--no-video"], source)
        variants = [("--version (start-up only)", ["--version"]),
                    ("generate --no-video", ["--no-video"]), ("generate (with preview.mp4)", [])]
        walls: dict[tuple[str, str], list[float]] = {}
        phases: dict[tuple[str, str], list[dict[str, float]]] = {}
        loads = [os.getloadavg()[0]]
        for i in range(a.runs):
            for label, extra in variants:
                for name, source in sources.items():
                    if extra == ["--version"]:
                        cmd = [*py, "--version"]
                    else:
                        cmd = [*py, "generate", "--text", "a person dances salsa", "--seconds", a.seconds,
                               "--samples", a.samples, "--seed", "1", "--out", f"{tmp}/{name}{i}", "--force",
                               *extra, *a.extra]
                    wall, ph, _ = run(cmd, source)
                    walls.setdefault((label, name), []).append(wall)
                    phases.setdefault((label, name), []).append(ph)
            loads.append(os.getloadavg()[0])
        gen_cmd = [*py, "generate", "--text", "a person dances salsa", "--seconds", a.seconds, "--samples",
                   a.samples, "--seed", "1", "--out", f"{tmp}/imports", "--force", "--no-video", *a.extra]
        imports = {name: import_times(gen_cmd, source) for name, source in sources.items()}
    print(f"machine: {facts['cpu']}, {facts['cores']} cores, SIMD {' '.join(facts['simd_flags'])}")
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    for label, _ in variants:
        for name in sources:
            xs = walls[(label, name)]
            print(f"{label:<30} {name:<4} {summary(xs)} s   runs {', '.join(f'{t:.2f}' for t in xs)}")
        if "old" in sources:
            ratios = [n / o for n, o in zip(walls[(label, "new")], walls[(label, "old")], strict=True)]
            print(f"{'':<30} new/old per run: {', '.join(f'{r:.2f}' for r in ratios)} "
                  f"(median {statistics.median(ratios):.2f})")
    for name in sources:
        rows = phases[("generate (with preview.mp4)", name)] + phases[("generate --no-video", name)]
        keys = sorted({k for r in rows for k in r})
        parts = [f"{k} {summary([r[k] for r in rows if k in r])}" for k in keys]
        print(f"phases ({name}): " + "; ".join(parts))
        print(f"imports ({name}, one run, cumulative s): "
              + ", ".join(f"{k} {v:.2f}" for k, v in sorted(imports[name].items(), key=lambda kv: -kv[1])))
    if a.json:
        a.json.write_text(json.dumps({"machine": facts, "loads": loads, "imports": imports,
                                      "walls": {f"{k[0]} | {k[1]}": v for k, v in walls.items()},
                                      "phases": {f"{k[0]} | {k[1]}": v for k, v in phases.items()}}, indent=1))


if __name__ == "__main__":
    main()
