"""A name written in one script finds the article that writes it in the other, through the
real index: `Mishustin` finds the Russian article, `Мишустин` the English one."""

from __future__ import annotations

import json

import pytest

from benchmarks import multilingual
from index.reindex import reindex
from search.engine import Engine
from search.request import SearchRequest

ENGLISH = {
    "id": "en-mishustin",
    "text": "Mishustin orders faster vaccination\n\nMOSCOW, April 12 (Reuters) - Russian Prime "
    "Minister Mikhail Mishustin on Monday ordered the regions to speed up vaccination "
    "against the coronavirus, saying the vaccine was available everywhere in the country.",
    "fetched": "2021-04-13",
}
# Not in the alias table: found through romanisation alone.
SILUANOV = {
    "id": "en-siluanov",
    "text": "Budget to balance, minister says\n\nMOSCOW, Nov 10 (Reuters) - Russian Finance "
    "Minister Anton Siluanov said on Wednesday that next year's budget would be balanced.",
    "fetched": "2021-11-11",
}
OTHER = {
    "id": "en-other",
    "text": "Markets rise\n\nLONDON, April 12 (Reuters) - European shares rose on Monday as "
    "investors bet on a quick recovery from the pandemic.",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("scripts")
    russian = multilingual.labelled()
    russian = next(a for a in russian if a["id"] == "ml-ru-03")  # "Михаил Мишустин"
    docs = [ENGLISH, SILUANOV, OTHER, {k: russian[k] for k in ("id", "text", "fetched")}]
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in docs), "utf-8")
    root = tmp_path_factory.mktemp("index")
    assert reindex(root, [folder]).switched
    return Engine(root)


def ids(engine: Engine, q: str) -> set[str]:
    return {hit.id for hit in engine.search(SearchRequest(q=q, per_page=10)).hits}


def test_a_latin_name_finds_the_cyrillic_article(engine):
    assert ids(engine, "Mishustin") == {"en-mishustin", "ml-ru-03"}
    assert ids(engine, "actor:Mishustin") == {"en-mishustin", "ml-ru-03"}


def test_a_cyrillic_name_finds_the_latin_article(engine):
    assert ids(engine, "Мишустин") == {"en-mishustin", "ml-ru-03"}
    assert ids(engine, "Силуанов") == {"en-siluanov"}
    assert ids(engine, "actor:Силуанов") == {"en-siluanov"}


def test_both_articles_share_one_actor_facet_value(engine):
    facet = engine.search(SearchRequest(q="")).facets["actor"]
    counts = {f.value: f.count for f in facet}
    assert counts["Mikhail Mishustin"] == 2
    assert not any("Мишустин" in value for value in counts)
