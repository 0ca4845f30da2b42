"""`make bench-scale` runs end to end: `python -m benchmarks.scale --quick` on 1,000
Reuters-21578 articles twice (ids rewritten), every figure present.

Slow (`make stress`): it builds an index, starts gunicorn three times and reads the
Reuters corpus from ../shared/data (or $SIFT_REUTERS). Figures are never asserted: the
machine may be shared."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT

REUTERS = os.environ.get(
    "SIFT_REUTERS", str(ROOT.parent / "shared" / "data" / "reuters21578.jsonl.gz")
)

# Every size has these; the largest also has "incremental".
PER_SIZE = [
    "build.documents",
    "build.seconds",
    "build.docs_per_s",
    "build.cpu_seconds",
    "build.peak_rss_bytes",
    "build.index_bytes",
    "build.phases.serial_seconds",
    "build.phases.longest_serial_s",
    "build.phases.longest_serial_share",
    "build.phases.starved_seconds",
    "build.phases.others_cores_mean",
    "fts5_build.seconds",
    "fts5_build.index_bytes",
    "fts5_build.peak_rss_bytes",
    "cold_start.median_s",
    "worker_cost.pss_bytes",
    "worker_cost.rss_bytes",
    "worker_cost.machine_bytes",
    "worker_cost.private_bytes",
    "serve_2.memory.max_worker_rss_bytes",
    "serve_2.memory.max_worker_pss_bytes",
    "serve_2.memory.tree_pss_bytes",
    "serve_2.memory.machine_used_bytes",
    "serve_2.memory_warm.tree_pss_bytes",
    "serve_3.memory_warm.tree_pss_bytes",
    "serve_3.memory.tree_pss_bytes",
    "serve_2.memory_held_out.tree_pss_bytes",
]
LATENCY = ["p50_ms", "p95_ms", "p99_ms", "requests", "4xx", "5xx", "failed"]
ENGINE_MODES = {"mix": ("ranked", "snippets", "facets"), "broad": ("facets",)}
INCREMENTAL = ["reindex.seconds", "reindex.searchable_s", "api.posted_s", "api.searchable_s"]


def _get(data: dict, path: str):
    for key in path.split("."):
        assert key in data, f"missing {path}"
        data = data[key]
    return data


def _number(data: dict, path: str) -> float:
    value = _get(data, path)
    assert isinstance(value, int | float) and not math.isnan(value), f"{path} = {value!r}"
    return value


@pytest.mark.slow
def test_bench_scale_quick_reports_every_figure(tmp_path):
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scale",
            "--quick",
            "--corpus",
            REUTERS,
            "--out",
            str(tmp_path),
            "--work",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads((tmp_path / "scale-quick.json").read_text("utf-8"))
    assert list(report["sizes"]) == ["2x"]
    assert len(report["broad_words"]) == 10
    for tag, size in report["sizes"].items():
        assert size["build"]["documents"] == 1000 * size["copies"], tag
        assert size["fts5_build"]["documents"] == size["build"]["documents"], tag
        for path in PER_SIZE:
            _number(size, path)
        assert len(size["serve_2"]["memory"]["workers"]) == 2
        assert len(size["serve_3"]["memory_warm"]["workers"]) == 3
        for served in ("serve_2", "serve_3"):
            for field in LATENCY:  # the first pass, nothing cached yet
                _number(size, f"{served}.latency_first_pass.{field}")
            assert size[served]["latency_first_pass"]["5xx"] == 0, tag
            for category in ("facets", "no_facets", "broad"):
                for field in LATENCY:
                    _number(size, f"{served}.latency.{category}.{field}")
                # No benchmark query may fail the server (a 4xx is a figure, not a bug).
                assert size[served]["latency"][category]["5xx"] == 0, (tag, category)
        # The held-out queries: each sent once, by two clients between them.
        held = size["serve_2"]["latency_held_out"]
        for field in LATENCY:
            _number(size, f"serve_2.latency_held_out.{field}")
        assert held["requests"] == len(report["held_out_queries"]) == 200, tag
        assert held["5xx"] == 0 and held["failed"] == 0, tag
        for group, modes in ENGINE_MODES.items():
            for mode in modes:
                for engine in ("sift", "fts5"):
                    _number(size, f"engine.{group}.{engine}.{mode}.p50_ms")
                    _number(size, f"engine.{group}.{engine}.{mode}.p95_ms")
                _number(size, f"engine.{group}_ratio.{mode}.p50_ratio")
    last = report["sizes"]["2x"]
    for path in INCREMENTAL:
        _number(last, f"incremental.{path}")
    assert {t["target"] for t in report["targets"]} and all(
        t["met"] in (True, False, None) and t["measured"] for t in report["targets"]
    )
    assert len(report["targets"]) == 12
    # The table printed, and nothing left behind in the work folder but the JSON.
    assert "target (at 2x)" in done.stdout
    assert [p.name for p in tmp_path.iterdir()] == ["scale-quick.json"]
    print(f"bench-scale --quick: {time.monotonic() - started:.0f} s")


def test_cpu_phases_ignore_a_sample_taken_after_the_build_ended():
    """The sample after `sift reindex` exits reads no CPU for its tree: that is not a
    stretch of negative cores, nor the machine's other processes at work (run 16 showed
    "other processes' CPU meanwhile 1.94 cores" from that one sample)."""
    from benchmarks.scale import CpuSampler

    sampler = CpuSampler()
    sampler.cpus = 2
    # (time, the tree's CPU s, the machine's busy s): 2 s on two cores, 1 s on one,
    # then a sample after the tree is gone
    sampler.samples = [(0.0, 0.0, 0.0), (1.0, 2.0, 2.0), (2.0, 4.0, 4.0), (3.0, 5.0, 5.0)]
    sampler.samples.append((3.5, 0.0, 5.5))
    phases = sampler.phases(0.0, 3.5)
    assert [(s["kind"], s["seconds"], s["cores"]) for s in phases["stretches"]] == [
        ("parallel", 2.0, 2.0),
        ("serial", 1.0, 1.0),
    ]
    assert phases["others_cores_mean"] == 0.0
    assert phases["longest_serial_s"] == 1.0
