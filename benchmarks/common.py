"""Helpers shared by the benchmark phases: timing, medians, result files."""

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_setup() -> None:
    """Set up Django with the benchmark settings (the app's, plus the floors)."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
    import django

    django.setup()


def interleaved_medians(
    runs: dict[str, Callable[[], object]], *, repeats: int, warmup: int = 3
) -> dict[str, float]:
    """Median seconds of each callable, run round-robin so drift hits all of them alike."""
    for _ in range(warmup):
        for run in runs.values():
            run()
    samples: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            samples[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in samples.items()}


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_result(path: str, result: dict) -> None:
    Path(path).write_text(json.dumps(result, indent=2, sort_keys=True, default=str))
