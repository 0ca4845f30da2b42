"""The document page in Chromium: full text with matches, provenance, similar articles."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_open_a_document_from_the_results_and_come_back(page, shot):
    page.goto("/?q=NATO&source=RFE/RL")
    hit = page.locator(".hit-title a").first
    title = hit.inner_text()
    hit.click()

    expect(page).to_have_url(re.compile(r"/documents/[^?]+\?q=NATO&source=RFE%2FRL"))
    expect(page.locator("h1")).to_have_text(title)
    expect(page).to_have_title(re.compile(re.escape(title)))
    marks = page.locator("#doc-text mark")
    assert marks.count() > 3
    expect(marks.first).to_have_text(re.compile("^nato", re.I))
    # paragraphs survive: the text is not one run-on line
    assert page.locator("#doc-text").inner_text().count("\n") > 5

    details = page.locator(".meta")
    expect(details.locator("div").filter(has_text="Source")).to_contain_text("RFE/RL")
    expect(details.locator("div").filter(has_text="Source").locator(".prov")).to_have_text("given")
    expect(details.locator("div").filter(has_text="Language").locator(".prov")).to_have_text(
        "extracted"
    )
    similar = page.locator(".similar a")
    expect(similar.first).to_be_visible()
    shot(page, "11-document")

    page.get_by_role("button", name="Next match").click()
    expect(page.locator(".match-status")).to_have_text(f"1 of {marks.count()}")
    expect(page.locator("#doc-text mark.current")).to_be_in_viewport()
    page.get_by_role("button", name="Next match").click()
    expect(page.locator(".match-status")).to_have_text(f"2 of {marks.count()}")

    page.get_by_role("link", name="← Back to results").click()
    expect(page).to_have_url(re.compile(r"/\?q=NATO&source=RFE%2FRL$"))
    expect(page.locator(".hit")).to_have_count(1)


def test_similar_articles_open_in_turn(page):
    page.goto("/?q=coalition")
    page.locator(".hit-title a").first.click()
    expect(page.locator("#doc-title")).to_be_visible()
    first_title = page.locator("h1").inner_text()
    other = page.locator(".similar a").first
    other_title = other.inner_text()
    assert other_title != first_title
    other.click()
    expect(page.locator("h1")).to_have_text(other_title)
    page.go_back()
    expect(page.locator("h1")).to_have_text(first_title)


def test_an_unknown_document_is_a_friendly_404(page, shot):
    response = page.goto("/documents/no-such-article")
    assert response.status == 404
    expect(page.locator("h1")).to_have_text("Nothing here")
    expect(page.get_by_role("link", name="Start a new search")).to_be_visible()


def test_a_bad_parameter_is_a_friendly_400(page, shot):
    response = page.goto("/?q=NATO&page=abc")
    assert response.status == 400
    expect(page.locator(".error-list")).to_contain_text("page")
    shot(page, "12-bad-parameter")
    page.get_by_role("link", name="Try again without it").click()
    expect(page.locator(".hit")).to_have_count(2)  # 3 articles, 2 stories
