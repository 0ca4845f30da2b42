"""How the pages write values for people: language names, dates, counts, safe links."""

from __future__ import annotations

import datetime as dt

from flask import Flask

# ISO 639-1 names for the languages a news archive is likeliest to hold; others show
# their code. "und" is what ingest records for text too short or mixed to tell.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fa": "Persian",
    "fi": "Finnish",
    "fr": "French",
    "he": "Hebrew",
    "hi": "Hindi",
    "hr": "Croatian",
    "hu": "Hungarian",
    "id": "Indonesian",
    "it": "Italian",
    "ja": "Japanese",
    "ko": "Korean",
    "nl": "Dutch",
    "no": "Norwegian",
    "pl": "Polish",
    "pt": "Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sk": "Slovak",
    "sr": "Serbian",
    "sv": "Swedish",
    "tr": "Turkish",
    "uk": "Ukrainian",
    "ur": "Urdu",
    "zh-cn": "Chinese",
    "zh-tw": "Chinese (traditional)",
    "und": "Undetermined",
}

PROVENANCE_NOTES = {
    "given": "supplied with the document",
    "page": "declared by the web page or feed (JSON-LD, OpenGraph, <meta>)",
    "extracted": "found in the text by Sift",
    "unknown": "neither given nor found",
}


def language_name(code: str | None) -> str:
    if not code:
        return ""
    return LANGUAGE_NAMES.get(code.lower(), code)


def long_date(day: dt.date | None) -> str:
    """24 May 2017: unambiguous wherever the reader is."""
    return f"{day.day} {day:%B %Y}" if day else ""


def number(value: int) -> str:
    return f"{value:,}"


def web_url(url: str | None) -> str | None:
    """`url` if it is an http(s) link; None for anything a browser could run or misroute."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def register_formatting(app: Flask) -> None:
    app.add_template_filter(language_name)
    app.add_template_filter(long_date)
    app.add_template_filter(number)
    app.add_template_filter(web_url)
    app.jinja_env.globals["provenance_notes"] = PROVENANCE_NOTES
