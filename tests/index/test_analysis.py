"""Index terms: a word's term, computed once per language and kept (`analysis._Terms`)."""

from __future__ import annotations

from whoosh.lang import stemmer_for_language

from index import analysis
from index.analysis import fold, term, terms_of, word_list


def _computed(word: str, lang: str | None) -> str:
    """The term as the cache must give it: lower-cased, stemmed in a stemmed language,
    folded."""
    lowered = word.lower().replace("’", "'")
    if lang in analysis.STEMMED_LANGUAGES:
        lowered = stemmer_for_language(lang)(lowered)
    return fold(lowered)


TEXT = (
    "The Ministers’ talks RESUMED in Zürich; Straße closures and the Øresund "
    "bridge's running costs were discussed by Ministers running late."
)


def test_terms_of_gives_each_words_term_stemmed_or_not():
    words = word_list(TEXT)
    for lang in ("en", "de", None, "xx"):  # "xx": a language without a stemmer
        assert terms_of(words, lang) == [_computed(w, lang) for w in words]
        assert [term(w, lang) for w in words] == [_computed(w, lang) for w in words]
    assert terms_of(["running"], "en") == ["run"] and terms_of(["running"], None) == ["running"]


def test_a_full_cache_is_emptied_and_answers_stay_the_same(monkeypatch):
    monkeypatch.setattr(analysis, "_term_caches", {})
    monkeypatch.setattr(analysis, "_CACHE_LIMIT", 3)
    words = word_list(TEXT)
    assert terms_of(words, "en") == [_computed(w, "en") for w in words]
    assert 0 < len(analysis._term_caches["en"]) <= 3
    assert terms_of(words, "en") == [_computed(w, "en") for w in words]
