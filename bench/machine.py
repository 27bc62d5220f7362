"""What machine a benchmark ran on: CPU model, its SIMD flags (AVX2-only and AVX-512 machines both occur
here, so results are only comparable as ratios within one run), cores and the load before measuring."""

from __future__ import annotations

import os
import platform

SIMD_PREFIXES = ("avx", "fma", "amx", "sse4")


def machine_info() -> dict:
    cpu, flags = platform.processor(), []
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = sorted(f for f in line.split(":", 1)[1].split() if f.startswith(SIMD_PREFIXES))
            if cpu and flags:
                break
    except OSError:
        pass
    return {"cpu": cpu, "simd_flags": flags, "cores": os.cpu_count(), "load_average": os.getloadavg()}
