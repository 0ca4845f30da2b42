"""Latin queries find Cyrillic articles that name a person only in oblique cases, or in
Ukrainian, through the real index: the actor is filed under its nominative romanised by
the text's language."""

from __future__ import annotations

import json

import pytest

from benchmarks import multilingual
from index.reindex import reindex
from search.engine import Engine
from search.request import SearchRequest

UKRAINIAN = {
    "id": "uk-shmyhal",
    "text": "Шмигаль доповів про підготовку до зими\n\nКиїв, 15 травня 2023 року. "
    "Прем'єр-міністр Денис Шмигаль доповів президентові про підготовку енергетики до "
    "зими. Шмигаль заявив, що уряд отримає нову допомогу від партнерів.",
    "fetched": "2023-05-16",
}


@pytest.fixture(scope="module")
def engine(tmp_path_factory) -> Engine:
    folder = tmp_path_factory.mktemp("declined")
    # "Путин поблагодарил Дмитрия Медведева ...", "встретился с Михаилом Мишустиным"
    russian = next(a for a in multilingual.labelled() if a["id"] == "ml-ru-13")
    docs = [UKRAINIAN, {k: russian[k] for k in ("id", "text", "fetched")}]
    (folder / "docs.jsonl").write_text("\n".join(json.dumps(d) for d in docs), "utf-8")
    root = tmp_path_factory.mktemp("index")
    assert reindex(root, [folder]).switched
    return Engine(root)


def ids(engine: Engine, q: str) -> set[str]:
    return {hit.id for hit in engine.search(SearchRequest(q=q, per_page=10)).hits}


def test_a_latin_name_finds_the_article_that_declines_it(engine):
    assert ids(engine, "Mishustin") == {"ml-ru-13"}
    assert ids(engine, "actor:Medvedev") == {"ml-ru-13"}


def test_a_ukrainian_name_under_the_ukrainian_romanisation(engine):
    assert ids(engine, "Shmyhal") == {"uk-shmyhal"}
    facet = engine.search(SearchRequest(q="")).facets["actor"]
    assert "Denys Shmyhal" in {f.value for f in facet}
