"""Story, actor and comparison pages in Chromium, over the seeds."""

from __future__ import annotations

import re

from playwright.sync_api import expect


def test_results_fold_a_story_by_default_and_its_page_lists_every_report(page):
    page.goto("/?q=coalition")  # no collapse parameter: one result per story
    story_links = page.locator(".hit-story a")
    expect(story_links).to_have_count(1)  # the seeds 001 and 002 are one story
    expect(story_links.first).to_have_text("2 reports of this story")
    expect(page.locator(".hit-story").first).to_contain_text("first by RFE/RL on 24 May 2017")
    expect(page.locator(".stories-count a")).to_have_text("show every article")
    shown = page.get_by_role("navigation", name="Stories or articles")
    expect(shown.get_by_role("link", name="One per story")).to_have_attribute(
        "aria-current", "true"
    )
    folded = page.locator(".hit").count()

    story_links.first.click()
    expect(page).to_have_url(re.compile(r"/stories/s[0-9a-f]{12}$"))
    members = page.locator(".story-member")
    expect(members).to_have_count(2)
    expect(members.first.locator("time")).to_have_attribute("datetime", "2017-05-24")
    expect(members.first).to_contain_text("first report")
    expect(members.nth(1).locator("time")).to_have_attribute("datetime", "2017-05-25")
    members.nth(1).locator("summary").click()
    expect(members.nth(1).locator(".story-adds li").first).to_be_visible()

    # every article: a choice kept in the URL, through the links that change the rest
    page.goto("/?q=coalition")
    shown.get_by_role("link", name="Every article").click()
    expect(page).to_have_url(re.compile(r"collapse=none"))
    expect(page.locator(".hit")).to_have_count(folded + 1)
    expect(page.locator(".hit-story")).to_have_count(0)
    expect(page.locator(".stories-count a")).to_have_text("one result per story")
    page.get_by_role("link", name="Oldest").click()
    expect(page).to_have_url(re.compile(r"sort=oldest.*collapse=none"))
    expect(page.locator(".hit")).to_have_count(folded + 1)


def test_actor_page_links_who_appears_with_them_to_the_articles(page):
    page.goto("/actors/NATO")
    expect(page.locator("h1")).to_have_text("NATO")
    row = page.locator(".actor-related tr").filter(has_text="Jens Stoltenberg")
    count = int(row.locator("td").nth(1).inner_text())
    row.locator("td").nth(1).locator("a").click()
    expect(page.locator(".hit")).to_have_count(count)
    expect(page).to_have_url(re.compile(r"actor=NATO"))


def test_compare_page_shows_each_source(page):
    page.goto("/compare?source=RFE/RL&source=NATO")
    sections = page.locator(".compare-source")
    expect(sections).to_have_count(2)
    expect(sections.first.locator("h2")).to_have_text("RFE/RL")
    expect(sections.nth(1).locator("h2")).to_have_text("NATO")
    expect(sections.first.locator(".compare-actors li").first).to_be_visible()
