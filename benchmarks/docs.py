"""docs/benchmarks.md's figures, rendered from the result files the benchmarks write.

A block of the page between `<!-- results: NAME -->` and `<!-- end results -->` is made
from benchmarks/results/NAME.json by the renderer of that name. `python -m
benchmarks.docs` rewrites every block after a run; tests/test_docs.py fails when a block
differs from what its file gives, so no figure is copied by hand.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks import scale as scale_bench
from benchmarks.run import RESULTS, render

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "benchmarks.md"
BLOCK = re.compile(r"(<!-- results: ([\w.-]+) -->\n)(.*?)(<!-- end results -->)", re.S)


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def speed(r: dict) -> str:
    """`make bench`'s table, and the targets read from the same run."""
    machine = r["machine"]
    loads = f"{machine['load_before'][0]:.1f} → {machine['load_after'][0]:.1f}"
    q, big = r["queries_1x"], f"{r['scale']}x"
    sift, fts = q["sift"]["facets"], q["fts5"]["facets"]
    lat, thr = r["http"]["latency"], r["http"]["throughput"]
    ingest, ingest_big = r["build_1x"]["sift"]["docs_per_s"], r[f"build_{big}"]["sift"]
    growth = q["sift"]["facets"]["cpu_p50_ms"], r[f"queries_{big}"]["sift"]["facets"]
    time_growth = growth[1]["cpu_p50_ms"] / growth[0]
    match_growth = r[f"matches_{big}"]["sift"] / max(r["matches_1x"]["sift"], 1)
    ratio = sift["p50_ms"] / fts["p50_ms"]
    rows = [
        (
            "engine p50 with 4 facets and 10 snippets ≤ 2× FTS5",
            f"{sift['p50_ms']:.2f} ms vs {fts['p50_ms']:.2f} ms: **{ratio:.2f}×**",
            _met(ratio <= 2),
        ),
        (
            "HTTP p50 ≤ 10 ms, p99 ≤ 50 ms (snippets + facets)",
            f"**{lat['p50_ms']:.1f} / {lat['p99_ms']:.1f} ms** "
            f"({r['http']['workers']} workers, {lat['concurrency']} clients)",
            _met(lat["p50_ms"] <= 10 and lat["p99_ms"] <= 50),
        ),
        (
            f"≥ 300 requests/s with {r['http']['workers']} workers",
            f"**{thr['requests_per_s']:,.0f}/s** ({thr['concurrency']} clients, "
            f"{thr['errors']} errors)",
            _met(thr["requests_per_s"] >= 300),
        ),
        (
            "ingest ≥ 1,000 docs/s on both cores",
            f"**{ingest:,.0f}/s** at 1×, **{ingest_big['docs_per_s']:,.0f}/s** at {big}",
            _met(min(ingest, ingest_big["docs_per_s"]) >= 1000),
        ),
        (
            f"at {big}, latency grows no faster than matches",
            f"facets CPU p50 ×{time_growth:.1f} for ×{match_growth:.1f} matches",
            _met(time_growth <= match_growth),
        ),
    ]
    table = "\n".join(f"| {a} | {b} | {c} |" for a, b, c in rows)
    return (
        f"`make bench` of {r['when'][:10]}, {machine['cpus']} cores, load {loads}, "
        f"{r['seconds']:,.0f} s; `benchmarks/results/reuters-latest.json`:\n\n"
        f"```\n{render(r)}\n```\n\n"
        f"| target | measured | |\n|---|---|---|\n{table}\n"
    )


def metrics_cost(r: dict) -> str:
    """`make bench-metrics`: HTTP p50 with and without /metrics' counting."""
    p50, hooks = r["median_p50_ms"], r["hook_cpu_us"]
    loads = f"{r['machine']['load_before'][0]:.1f} → {r['machine']['load_after'][0]:.1f}"
    return (
        f"`make bench-metrics` of {r['when'][:10]} (load {loads}), "
        f"`benchmarks/results/metrics-cost.json`:\n\n"
        "| | with metrics | without | change |\n|---|---:|---:|---:|\n"
        f"| HTTP search p50, median of {len(r['rounds']['with_metrics'])} rounds of "
        f"{r['requests_per_round']} requests | {p50['with_metrics']:.2f} ms | "
        f"{p50['without_metrics']:.2f} ms | {r['change_percent']:+.1f} % |\n"
        f"| CPU per request (`/healthz`, in-process) | {hooks['with_metrics']:.1f} µs | "
        f"{hooks['without_metrics']:.1f} µs | +{hooks['metrics']:.1f} µs "
        f"({r['hook_share_of_p50_percent']:.2f} % of the search p50) |\n"
    )


def multilingual(r: dict) -> str:
    """`python -m benchmarks.extraction multilingual`: the per-language table beyond English."""
    from benchmarks.multilingual import table

    return (
        f"`python -m benchmarks.extraction multilingual` of {r['when'][:10]}: "
        f"{r['articles']} articles (mean {r['mean_chars']} characters); `extract()` at "
        f"{r['articles_per_cpu_s']:,} articles/s per core (CPU time, median of 5):\n\n" + table(r)
    )


def scale(r: dict) -> str:
    """`make bench-scale`: a table per size, and issue 17's targets at the largest."""
    machine = r["machine"]
    loads = f"{machine['load_before'][0]:.1f} → {machine['load_after'][0]:.1f}"
    sizes = ", ".join(r["sizes"])
    judged = scale_bench.targets(r)  # from the figures, by the rules of today's code
    table = "\n".join(
        f"| {t['target']} | {t['measured']} | "
        f"{'unmeasured' if t['met'] is None else _met(t['met'])} |"
        for t in judged
    )
    return (
        f"`make bench-scale` of {r['when'][:10]} ({sizes}), {machine['cpus']} cores, "
        f"load {loads}, {r['seconds']:,.0f} s; `benchmarks/results/scale-latest.json`:\n\n"
        f"```\n{scale_bench.render(r, with_targets=False)}\n```\n\n"
        f"| target (at {judged[0]['size']}) | measured | |\n|---|---|---|\n{table}\n"
    )


NAMES = {"scifact": "SciFact", "cranfield": "Cranfield", "cisi": "CISI"}


def _target(ndcg: float, expanded: float | None, target: float) -> str:
    if ndcg >= target:
        return f"{target:.2f}: met"
    if expanded is not None and expanded >= target:
        return f"{target:.2f}: met with `expand=true` only"
    return f"{target:.2f}: **not met**"


def relevance(r: dict) -> str:
    """`make eval-relevance`: nDCG@10 beside the anchors, MAP and recall, paired tests."""
    anchors, collections, targets = r["anchors"], r["collections"], r["targets"]
    head = ["collection", *anchors, "**Sift**", "Sift `expand=true`", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, c in collections.items():
        ndcg = c["sift"]["measures"]["nDCG@10"]
        expanded = c.get("sift expand", {}).get("measures", {}).get("nDCG@10")
        cells = [
            NAMES.get(name, name),
            *(f"{figures[name]:.4f}" for figures in anchors.values()),
            f"**{ndcg:.4f}**",
            f"{expanded:.4f}" if expanded is not None else "-",
            _target(ndcg, expanded, targets[name]),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines += ["", "| collection | Sift MAP | Sift R@100 | `expand` MAP | `expand` R@100 |"]
    lines.append("|---|---|---|---|---|")
    for name, c in collections.items():
        cells = [NAMES.get(name, name)]
        for label in ("sift", "sift expand"):
            m = c.get(label, {}).get("measures", {})
            cells += [f"{m[k]:.4f}" if k in m else "-" for k in ("AP", "R@100")]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    for name, c in collections.items():
        halves = c["sift"].get("halves")
        if halves:
            lines.append(
                f"{NAMES.get(name, name)} by half: development (odd ids) "
                f"{halves['development']:.4f}, held out (even ids) {halves['held_out']:.4f}."
            )
    lines += ["", f"Paired randomization tests against {r['baseline']} (p < {r['alpha']}):", ""]
    for name, c in collections.items():
        for label in ("sift", "sift expand"):
            if label not in c:
                continue
            tests = "; ".join(
                f"{m} {d:+.4f} (p = {p:.3f}{', significant' if p < r['alpha'] else ''})"
                for m, d, p in c[label]["paired"]
            )
            lines.append(f"- {NAMES.get(name, name)}, {label}: {tests}")
    cpu = ", ".join(f"{NAMES.get(n, n)} {c['cpu_s']:.0f} s" for n, c in collections.items())
    lines += ["", f"CPU (indexing, both rankings, 1,000-deep runs): {cpu}."]
    return (
        f"`make eval-relevance` of {r['when'][:10]}, `benchmarks/results/relevance.json`:\n\n"
        + "\n".join(lines)
        + "\n"
    )


RENDERERS: dict[str, Callable[[dict], str]] = {
    "relevance": relevance,
    "reuters-latest": speed,
    "metrics-cost": metrics_cost,
    "multilingual": multilingual,
    "multilingual-first-look": multilingual,
    "multilingual-first-look-batch4": multilingual,
    "scale-latest": scale,
}


def rendered(name: str) -> str:
    return RENDERERS[name](json.loads((RESULTS / f"{name}.json").read_text("utf-8")))


def blocks(text: str) -> list[tuple[str, str]]:
    """(result name, the block's text) for every results block of a page."""
    return [(match.group(2), match.group(3)) for match in BLOCK.finditer(text)]


def refresh(text: str) -> str:
    return BLOCK.sub(lambda m: m.group(1) + rendered(m.group(2)) + m.group(4), text)


def main() -> int:
    PAGE.write_text(refresh(PAGE.read_text("utf-8")), "utf-8")
    print(f"{PAGE.relative_to(ROOT)}: {len(blocks(PAGE.read_text('utf-8')))} blocks rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
