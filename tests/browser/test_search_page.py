"""The search page used as a newcomer would, in Chromium, on the seeds.

Each test drives the page with the mouse or the keyboard and checks what a person would
see; screenshots of the main states are kept in test-artifacts/browser/.
"""

from __future__ import annotations

import csv
import io
import json
import re
from urllib.parse import quote_plus

from playwright.sync_api import expect

from tests.browser.conftest import PHONE


def search_for(page, text: str) -> None:
    box = page.locator("#q")
    box.fill(text)
    box.press("Enter")


def facet_count(page, facet: str, value: str) -> int:
    """The count shown beside `value` in a facet panel."""
    row = page.locator(f"#facet-{facet} li").filter(has=page.get_by_text(value, exact=True))
    return int(re.sub(r"\D", "", row.locator(".count").inner_text()))


def test_search_nato_shows_three_results_with_marked_terms(page, shot):
    page.goto("/")
    search_for(page, "NATO")
    expect(page).to_have_url(re.compile(r"/\?q=NATO$"))
    expect(page.locator("#results")).to_have_text("3 results for NATO")
    # one result per story by default: the seeds 001 and 002 are one story
    expect(page.locator(".stories-count")).to_contain_text("in 2 stories")
    expect(page.locator(".hit")).to_have_count(2)
    expect(page.locator(".hit-story a")).to_have_text("2 reports of this story")
    page.get_by_role("link", name="Every article", exact=True).click()
    expect(page).to_have_url(re.compile(r"/\?q=NATO&collapse=none$"))
    hits = page.locator(".hit")
    expect(hits).to_have_count(3)
    for i in range(3):
        hit = hits.nth(i)
        expect(hit.locator(".hit-title a")).not_to_be_empty()
        expect(hit.locator(".hit-meta time")).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
        expect(hit.locator(".hit-meta")).to_contain_text("English")
        expect(hit.locator(".snippet mark").first).to_have_text(re.compile("^nato", re.I))
    shot(page, "01-search-nato")


def test_ticking_a_source_filters_and_the_other_counts_follow(page, shot):
    page.goto("/?q=NATO&collapse=none")
    assert facet_count(page, "language", "English") == 3
    assert facet_count(page, "year", "2017") == 2
    page.get_by_role("checkbox", name=re.compile(r"^RFE\/RL")).click()

    expect(page).to_have_url(re.compile(r"source=RFE%2FRL"))
    expect(page.locator(".hit")).to_have_count(1)
    expect(page.get_by_role("checkbox", name=re.compile(r"^RFE\/RL"))).to_be_checked()
    assert facet_count(page, "language", "English") == 1
    assert facet_count(page, "year", "2017") == 1
    expect(page.locator("#facet-year label")).to_have_count(1)  # 2019 is gone
    # disjunctive: the other source is still offered, with its own count
    assert facet_count(page, "source", "NATO") == 1
    expect(page.locator(".active-filters .chip")).to_have_text(re.compile(r"Source:\s+RFE/RL"))
    shot(page, "02-source-ticked")

    page.get_by_role("checkbox", name=re.compile(r"^RFE\/RL")).click()  # clear it
    expect(page).to_have_url(re.compile(r"/\?q=NATO&collapse=none$"))  # still every article
    expect(page.locator(".hit")).to_have_count(3)
    assert facet_count(page, "language", "English") == 3

    page.go_back()  # every state is in the URL, so Back restores the filtered view
    expect(page).to_have_url(re.compile(r"source=RFE%2FRL"))
    expect(page.locator(".hit")).to_have_count(1)


def test_several_years_at_once_and_a_chip_clears_them(page):
    page.goto("/?collapse=none")
    page.get_by_role("checkbox", name=re.compile("^2014")).click()
    expect(page.locator(".hit")).to_have_count(1)
    page.get_by_role("checkbox", name=re.compile("^2021")).click()
    expect(page).to_have_url(re.compile(r"year=2014&year=2021"))
    expect(page.locator(".hit")).to_have_count(2)
    page.get_by_role("link", name="Clear all filters").click()
    expect(page.locator(".hit")).to_have_count(5)


def test_an_actor_under_a_hit_filters_by_that_actor(page):
    page.goto("/?q=NATO&collapse=none")
    chip = page.locator(".hit-actors a").first
    actor = chip.inner_text()
    chip.click()
    expect(page).to_have_url(re.compile(r"actor=" + re.escape(quote_plus(actor))))
    expect(page.get_by_role("checkbox", name=re.compile("^" + re.escape(actor)))).to_be_checked()
    api = page.request.get("/api/v1/search", params={"q": "NATO", "actor": actor}).json()
    assert api["total"] >= 1
    expect(page.locator(".hit")).to_have_count(api["total"])
    expect(page.locator("#results")).to_have_text(re.compile(rf"^{api['total']} results? for"))


def test_paging_through_the_archive(page, shot):
    page.goto("/?per_page=2&collapse=none")
    expect(page.locator("#results")).to_have_text("All 5 documents")
    first_page = page.locator(".hit-title").all_inner_texts()
    page.get_by_role("link", name="Next →").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.locator(".hits")).to_have_attribute("start", "3")
    expect(page.locator(".hit")).to_have_count(2)
    second_page = page.locator(".hit-title").all_inner_texts()
    assert not set(first_page) & set(second_page)
    shot(page, "03-page-2")
    page.get_by_role("link", name="Page 3").click()
    expect(page.locator(".hit")).to_have_count(1)
    expect(page.get_by_role("link", name="Page 3")).to_have_attribute("aria-current", "page")
    page.go_back()
    expect(page.locator(".hit")).to_have_count(2)


def test_sorting_newest_and_oldest(page):
    page.goto("/?q=NATO&collapse=none")
    page.get_by_role("link", name="Oldest").click()
    expect(page).to_have_url(re.compile(r"sort=oldest"))
    dates = page.locator(".hit-meta time").evaluate_all("els => els.map(e => e.dateTime)")
    assert dates == sorted(dates) and len(dates) == 3
    page.get_by_role("link", name="Newest").click()
    expect(page).to_have_url(re.compile(r"sort=newest"))
    expect(page.locator(".hit-meta time").first).to_have_attribute("datetime", max(dates))


def test_the_timeline_filters_by_a_bar(page, shot):
    page.goto("/?collapse=none")
    timeline = page.locator(".timeline")
    expect(timeline.locator("h2")).to_have_text("Matches per year")
    expect(timeline.locator("a.bar")).to_have_count(4)  # 2014, 2017, 2019, 2021
    timeline.get_by_role("link", name=re.compile(r"^2017: 2 documents")).click()

    expect(page).to_have_url(re.compile(r"date_from=2017-01-01&date_to=2017-12-31"))
    expect(page.locator(".hit")).to_have_count(2)
    expect(timeline.locator("h2")).not_to_have_text("Matches per year")  # zoomed in
    expect(page.locator(".active-filters .chip")).to_have_text(
        re.compile(r"Dates:\s+1 January 2017 – 31 December 2017")
    )
    shot(page, "04-timeline-2017")
    timeline.get_by_role("link", name="Show all dates").click()
    expect(page.locator(".hit")).to_have_count(5)


def test_did_you_mean_follows_the_suggestion(page, shot):
    page.goto("/")
    search_for(page, "Stoltenbrg")
    expect(page.locator("#results")).to_contain_text("No results")
    suggestion = page.locator(".did-you-mean a")
    expect(suggestion).to_have_text("stoltenberg")
    shot(page, "05-did-you-mean")
    suggestion.click()
    expect(page).to_have_url(re.compile(r"q=stoltenberg"))
    expect(page.locator(".hit").first).to_be_visible()
    expect(page.locator(".hit .snippet mark").first).to_have_text(re.compile("stoltenberg", re.I))


def test_completions_as_you_type(page, shot):
    page.goto("/")
    box = page.locator("#q")
    box.press_sequentially("stolt", delay=30)
    first = page.get_by_role("option").first
    expect(first).to_contain_text(re.compile("stoltenberg", re.I))
    expect(box).to_have_attribute("aria-expanded", "true")
    shot(page, "06-completions")
    completion = first.locator("span").first.inner_text()
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", "q-option-0")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"\?q=" + re.escape(quote_plus(completion)) + "$"))
    expect(page.get_by_role("option")).to_have_count(0)
    expect(page.locator(".hit").first).to_be_visible()


def test_keyboard_alone_reaches_and_opens_a_result(page, shot):
    page.goto("/?q=NATO")
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#results")).to_be_focused()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('.hit-title a')"):
            break
    else:
        raise AssertionError("Tab never reached a result")
    title = page.evaluate("document.activeElement.textContent")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused result shows no focus ring"
    shot(page, "13-keyboard-focus")
    page.keyboard.press("Enter")
    expect(page.locator("h1")).to_have_text(title)
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()


def test_export_links_download_every_result(page):
    page.goto("/?q=NATO&per_page=10")
    csv_href = page.get_by_role("link", name="CSV").get_attribute("href")
    assert csv_href.startswith("/api/v1/export?format=csv") and "q=NATO" in csv_href
    response = page.request.get(csv_href)
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text())))
    assert len(rows) == 3 and all("NATO" in row["text"] for row in rows)
    jsonl = page.request.get(page.get_by_role("link", name="JSON Lines").get_attribute("href"))
    records = [json.loads(line) for line in jsonl.text().splitlines()]
    assert [r["id"] for r in records] == [row["id"] for row in rows]


def test_works_without_javascript(plain_page, shot):
    page = plain_page
    page.goto("/")
    search_for(page, "NATO")
    expect(page.locator(".hit")).to_have_count(2)  # 3 articles in 2 stories
    expect(page).to_have_url(re.compile(r"/\?q=NATO$"))  # empty fields left out
    page.get_by_role("checkbox", name=re.compile(r"^RFE\/RL")).check()
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator(".hit")).to_have_count(1)
    shot(page, "07-no-javascript")
    page.locator(".hit-title a").first.click()
    expect(page.locator("#doc-text mark").first).to_be_visible()


def test_phone_width(phone_page, shot):
    page = phone_page
    page.goto("/?q=NATO")
    filters = page.locator("#filters")
    expect(filters).not_to_have_attribute("open", "")
    first_hit = page.locator(".hit").first
    expect(first_hit).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "08-phone-results")
    page.get_by_text("Filters", exact=True).click()
    expect(page.get_by_role("checkbox", name=re.compile(r"^RFE\/RL"))).to_be_visible()
    shot(page, "09-phone-filters")
    page.get_by_role("checkbox", name=re.compile(r"^RFE\/RL")).click()
    expect(page.locator(".hit")).to_have_count(1)
    page.locator(".hit-title a").first.click()
    expect(page.locator("#doc-text")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(page, "10-phone-document")
