"""The service over HTTP: latency of `POST /motions` (6 s of dance, the answer carries the motion) and the
throughput of demo-song dance jobs, against a real `uvicorn main:app` with the default worker count.

    cd backend && ../.venv/bin/python ../bench/bench_service.py --motions 20 --dances 3 --json /tmp/bench_service.json

Records the machine (bench/machine.py). Starts its own server with a fresh data folder (tests/service.py).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from choreo.music.demo_song import synthesize, write_demo_song

from machine import machine_info

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend" / "tests"))
from service import running_service  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--motions", type=int, default=20, help="POST /motions requests, one after another")
    ap.add_argument("--dances", type=int, default=3, help="demo-song jobs submitted at once")
    ap.add_argument("--members", type=int, default=5)
    ap.add_argument("--workers", type=int, default=1, help="the service's worker processes (default: its default)")
    ap.add_argument("--video", action="store_true", help="dance jobs also write preview.mp4")
    ap.add_argument("--json")
    args = ap.parse_args()
    result: dict = {"machine_before": machine_info(), "args": vars(args)}
    with tempfile.TemporaryDirectory() as tmp:
        song, _ = write_demo_song(Path(tmp) / "demo.wav", synthesize())
        env = {"CHOREO_VIDEO": "1" if args.video else "0"}
        with running_service(Path(tmp) / "data", workers=args.workers, **env) as svc:
            client = httpx.Client(base_url=svc.url, timeout=600)
            client.post("/api/v1/motions", json={"text": "warm up", "seconds": 2, "seed": 0})  # text encoder, JIT
            latencies = []
            for i in range(args.motions):
                t0 = time.perf_counter()
                r = client.post("/api/v1/motions", json={"text": "a person dances salsa", "seconds": 6, "seed": i})
                latencies.append(time.perf_counter() - t0)
                assert r.status_code == 200, r.text
            result["motions_6s"] = {"n": len(latencies), "p50_s": round(statistics.median(latencies), 3),
                                    "p95_s": round(percentile(latencies, 0.95), 3),
                                    "min_s": round(min(latencies), 3), "max_s": round(max(latencies), 3)}
            print("POST /motions 6 s:", result["motions_6s"])
            t0 = time.perf_counter()
            ids = []
            for i in range(args.dances):
                with open(song, "rb") as f:
                    r = client.post("/api/v1/choreographies", files={"song": ("demo.wav", f)},
                                    data={"members": str(args.members), "seed": str(i)})
                assert r.status_code == 202, r.text
                ids.append(r.json()["id"])
            ends = {}
            while len(ends) < len(ids):
                for job_id in ids:
                    if job_id in ends:
                        continue
                    job = client.get(f"/api/v1/choreographies/{job_id}").json()
                    if job["status"] in ("done", "failed", "cancelled"):
                        assert job["status"] == "done", job["error"]
                        ends[job_id] = time.perf_counter() - t0
                time.sleep(0.2)
            total = max(ends.values())
            result["dances"] = {"jobs": len(ids), "members": args.members, "song_s": 89,
                                "all_done_s": round(total, 1), "jobs_per_minute": round(60 * len(ids) / total, 2),
                                "first_done_s": round(min(ends.values()), 1)}
            print("demo-song jobs:", result["dances"])
    result["machine_after"] = machine_info()
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
