"""The docs stay true: every relative link and anchor in README.md and docs/ resolves,
every page in docs/ is reachable from the README, and the benchmark figures in
docs/benchmarks.md are those of the result files (benchmarks/docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchmarks import docs as benchmark_docs
from tests.conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def _text(page: Path) -> str:
    """The page without its code blocks (their brackets are not links)."""
    return _FENCE.sub("", page.read_text("utf-8"))


def anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    return {anchor(m) for m in re.findall(r"^#{1,6} (.+)$", _text(page), re.M)}


def links(page: Path) -> list[str]:
    return [t for t in _LINK.findall(_text(page)) if not re.match(r"[a-z]+:", t)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_and_anchor_resolves(page):
    for target in links(page):
        path, _, fragment = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        assert resolved.exists(), f"{page.name}: {target} does not exist"
        if fragment:
            assert resolved.suffix == ".md", f"{page.name}: anchor into {path}"
            assert fragment in anchors(resolved), f"{page.name}: no #{fragment} in {path}"


def test_every_docs_page_is_reachable_from_the_readme():
    seen, todo = set(), [ROOT / "README.md"]
    while todo:
        page = todo.pop()
        if page in seen or page.suffix != ".md":
            continue
        seen.add(page)
        todo += [(page.parent / t.partition("#")[0]).resolve() for t in links(page)]
    unreachable = [p.name for p in PAGES if p.resolve() not in seen]
    assert not unreachable, f"link these from README.md or a page it links: {unreachable}"


def test_benchmark_figures_are_the_result_files():
    page = benchmark_docs.PAGE.read_text("utf-8")
    found = benchmark_docs.blocks(page)
    assert {name for name, _ in found} == set(benchmark_docs.RENDERERS)
    for name, block in found:
        assert block == benchmark_docs.rendered(name), (
            f"docs/benchmarks.md's {name} block is stale: run `python -m benchmarks.docs`"
        )
