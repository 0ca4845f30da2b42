"""Stories, actors and source comparison over HTTP, on the shared test index."""

from __future__ import annotations

from tests.helpers import assert_problem

NATO_RFE = "001_3dbdce3846ecd486"
NATO_OTHER = "002_75796edd39bcd684"


def test_hits_and_documents_carry_their_story(client):
    hits = client.get("/api/v1/search?q=coalition&per_page=50&facets=").get_json()["hits"]
    story = {hit["id"]: hit["story"] for hit in hits}
    assert story[NATO_RFE] == story[NATO_OTHER]
    document = client.get(f"/api/v1/documents/{NATO_OTHER}").get_json()
    assert document["story"] == story[NATO_RFE]


def test_collapse_gives_one_hit_per_story_with_its_summary(client):
    plain = client.get("/api/v1/search?q=NATO&per_page=50&facets=").get_json()
    collapsed = client.get("/api/v1/search?q=NATO&per_page=50&collapse=story").get_json()
    assert collapsed["total"] == plain["total"]  # articles
    assert collapsed["stories"] == plain["stories"] == len(collapsed["hits"])
    assert collapsed["stories"] < collapsed["total"]
    stories = [hit["story"] for hit in collapsed["hits"]]
    assert len({s["id"] for s in stories}) == len(stories)
    nato = next(s for s in stories if NATO_RFE in (s["first"]["id"],))
    assert nato["size"] == 2
    assert nato["first"] == {"id": NATO_RFE, "source": "RFE/RL", "date": "2017-05-24"}
    assert nato["sources"] == ["RFE/RL"]
    # the best-ranked member stands for its story, in rank order
    kept = [hit["id"] for hit in collapsed["hits"]]
    ranked = [hit["id"] for hit in plain["hits"] if hit["id"] in kept]
    assert kept == ranked


def test_collapsed_facets_count_articles_and_stories(client):
    plain = client.get("/api/v1/search?q=NATO").get_json()["facets"]
    collapsed = client.get("/api/v1/search?q=NATO&collapse=story").get_json()["facets"]
    assert all("stories" not in value for values in plain.values() for value in values)
    assert collapsed.keys() == plain.keys()
    for name, values in collapsed.items():
        assert [{k: v[k] for k in ("value", "count", "selected")} for v in values] == plain[name]
        for value in values:
            narrowed = (
                f"date_from={value['value']}-01-01&date_to={value['value']}-12-31"
                if name == "year"
                else f"{name}={value['value']}"
            )
            alone = client.get(f"/api/v1/search?q=NATO&{narrowed}&facets=").get_json()
            assert value["stories"] == alone["stories"] <= value["count"], (name, value)
    years = {v["value"]: v for v in collapsed["year"]}
    assert years["2017"]["stories"] < years["2017"]["count"]  # 001 and 002: one story


def test_collapse_pages_through_stories(client):
    every = client.get("/api/v1/search?collapse=story&per_page=100&facets=").get_json()
    second = client.get("/api/v1/search?collapse=story&per_page=3&page=2").get_json()
    assert [h["id"] for h in second["hits"]] == [h["id"] for h in every["hits"][3:6]]


def test_a_story_lists_its_members_in_date_order_with_what_they_add(client):
    story = client.get(f"/api/v1/documents/{NATO_RFE}").get_json()["story"]
    body = client.get(f"/api/v1/stories/{story}").get_json()
    assert body["id"] == story and body["size"] == 2
    assert [m["id"] for m in body["members"]] == [NATO_RFE, NATO_OTHER]
    assert [m["date"] for m in body["members"]] == ["2017-05-24", "2017-05-25"]
    first, second = body["members"]
    assert first["adds"] == []
    texts = {
        m["id"]: " ".join(client.get(f"/api/v1/documents/{m['id']}").get_json()["text"].split())
        for m in body["members"]
    }
    assert second["adds"]
    for sentence in second["adds"]:
        assert sentence in texts[NATO_OTHER] and sentence not in texts[NATO_RFE]
    assert_problem(client.get("/api/v1/stories/s000000000000"), 404)


def test_actor_lists_who_appears_with_them_more_than_chance(client):
    body = client.get("/api/v1/actors/NATO").get_json()
    assert body["name"] == "NATO" and body["type"] == "organisation"
    plain = client.get("/api/v1/search?actor=NATO&facets=").get_json()
    assert body["total"] == plain["total"]
    assert sum(b["count"] for b in body["timeline"]) + body["undated"] == body["total"]
    related = {r["name"]: r for r in body["related"]}
    assert related["Jens Stoltenberg"]["count"] >= 2
    scores = [r["score"] for r in body["related"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    link = client.get(related["Jens Stoltenberg"]["search"]).get_json()
    assert link["total"] == related["Jens Stoltenberg"]["count"]
    # the query narrows the actor's articles
    narrowed = client.get("/api/v1/actors/NATO?q=Manchester").get_json()
    assert narrowed["total"] < body["total"]
    assert_problem(client.get("/api/v1/actors/Nobody%20At%20All"), 404)
    assert_problem(client.get("/api/v1/actors/NATO?interval=week"), 400)


def test_compare_sources(client):
    body = client.get("/api/v1/compare?source=RFE/RL&source=NATO").get_json()
    assert [s["source"] for s in body["sources"]] == ["RFE/RL", "NATO"]
    for profile in body["sources"]:
        alone = client.get(f"/api/v1/search?source={profile['source']}&facets=").get_json()
        assert profile["total"] == alone["total"] > 0
        assert profile["actors"] and profile["terms"]
        assert all(t["score"] > 0 for t in profile["terms"])
    words = {s["source"]: {t["term"] for t in s["terms"]} for s in body["sources"]}
    assert not words["RFE/RL"] & words["NATO"]
    assert_problem(client.get("/api/v1/compare?q=nato"), 400)
    many = "&".join(f"source=S{i}" for i in range(11))
    assert "source" in assert_problem(client.get(f"/api/v1/compare?{many}"), 400)["errors"]


def test_collapse_rejects_unknown_values(client):
    body = assert_problem(client.get("/api/v1/search?collapse=source"), 400)
    assert "collapse" in body["errors"]
