"""Text analysis shared by indexing and querying: tokens, per-language stems, accent folding.

One function turns a word into an index term, `term(word, lang)`: lower-case, stem in the
document's language where Whoosh has a stemmer, then fold accents (stemming first, because
the Snowball stemmers expect "ä", "é", "ё"). Query words go through the same function for
each language present in the index, so a German inflection finds a German article and `Rub`
finds `Rüb`. Words in a language without a stemmer (and "und") are only folded: the
non-stemming fallback.

Whoosh never analyses document text itself: the writer hands it term lists made here, so
index and query analysis cannot drift apart. Stems are cached per language: news
vocabulary is Zipfian, so almost every call is a dictionary hit, and analysis is never
repeated for the same word.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import cache

from whoosh.analysis import Analyzer, Token
from whoosh.lang import NoStopWords, has_stemmer, stemmer_for_language, stopwords_for_language

# A word: letters/digits, with inner apostrophes kept so the English stemmer can strip
# possessives ("NATO's" -> "nato"). Hyphens split ("anti-IS" -> "anti", "is").
WORD_RE = re.compile(r"\w+(?:['’]\w+)*")

# Longer tokens are junk (base64, URLs without separators) and would bloat the lexicon.
MAX_TOKEN_CHARS = 64

# Languages Whoosh can stem (Snowball, plus ISRI for Arabic).
STEMMED_LANGUAGES = frozenset(
    lang
    for lang in (
        "ar",
        "da",
        "de",
        "en",
        "es",
        "fi",
        "fr",
        "hu",
        "it",
        "nl",
        "no",
        "pt",
        "ro",
        "ru",
        "sv",
        "tr",
    )
    if has_stemmer(lang)
)

# Letters NFKD does not decompose but readers expect to fold.
_FOLD_EXTRA = str.maketrans(
    {
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "đ": "d",
        "ł": "l",
        "ı": "i",
        "ð": "d",
        "þ": "th",
        "’": "'",
    }
)

_CACHE_LIMIT = 500_000


def fold(text: str) -> str:
    """Lower-case `text` and strip accents: "Rüb" -> "rub", "Straße" -> "strasse"."""
    text = text.lower().translate(_FOLD_EXTRA)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@cache
def _stemmer(lang: str) -> Callable[[str], str] | None:
    return stemmer_for_language(lang) if lang in STEMMED_LANGUAGES else None


@cache
def stop_words(lang: str | None) -> frozenset[str]:
    """The Snowball project's stop words for `lang` (Whoosh ships them), folded; or none.

    Only queries use them (OR groups drop them, see `search.parser`): the index keeps
    every word, so phrases such as "the who" still match.
    """
    try:
        return frozenset(fold(word) for word in stopwords_for_language(lang or ""))
    except NoStopWords:
        return frozenset()


class _Terms(dict):
    """One language's index terms, by word: computed on a miss (`__missing__`), so a
    whole word list is looked up by `map` without a Python step per word (the ingest hot
    loop), and forgotten all at once past _CACHE_LIMIT words (a bound on memory)."""

    def __init__(self, lang: str | None):
        super().__init__()
        self.stem = _stemmer(lang) if lang else None

    def __missing__(self, word: str) -> str:
        lowered = word.lower().replace("’", "'")
        result = fold(self.stem(lowered) if self.stem else lowered)
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[word] = result
        return result


_term_caches: dict[str | None, _Terms] = {}


def _terms(lang: str | None) -> _Terms:
    found = _term_caches.get(lang)
    if found is None:
        found = _term_caches[lang] = _Terms(lang)
    return found


def term(word: str, lang: str | None) -> str:
    """The index term for `word` in a document of language `lang` (None: no stemming)."""
    return _terms(lang)[word]


def words(text: str) -> Iterator[re.Match[str]]:
    """Word matches in `text`, with their character offsets (for snippets)."""
    for match in WORD_RE.finditer(text):
        if len(match.group()) <= MAX_TOKEN_CHARS:
            yield match


def document_terms(text: str, lang: str | None) -> list[str]:
    """The index terms of `text`, in order: what the writer hands to Whoosh."""
    return terms_of(word_list(text), lang)


def word_list(text: str) -> list[str]:
    """The words of `text` (as `words` finds them), as strings: tokenise once, then derive
    several term lists from them (stemmed, unstemmed) without scanning the text again."""
    found = WORD_RE.findall(text)
    if max(map(len, found), default=0) <= MAX_TOKEN_CHARS:  # the usual case: keep them all
        return found
    return [w for w in found if len(w) <= MAX_TOKEN_CHARS]


def terms_of(word_strings: list[str], lang: str | None) -> list[str]:
    """`term(word, lang)` of each word."""
    return list(map(_terms(lang if lang in STEMMED_LANGUAGES else None).__getitem__, word_strings))


class FoldingAnalyzer(Analyzer):
    """The schema's analyzer: words, folded, not stemmed.

    Sift hands Whoosh pre-analysed term lists (`document_terms`), so this only runs when
    Whoosh itself analyses text; it must then agree with the unstemmed fallback.
    """

    def __eq__(self, other):
        return isinstance(other, FoldingAnalyzer)

    def __call__(
        self,
        value,
        positions=False,
        chars=False,
        keeporiginal=False,
        removestops=True,
        start_pos=0,
        start_char=0,
        tokenize=True,
        mode="",
        **kwargs,
    ):
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, match in enumerate(words(value), start_pos):
            token.text = term(match.group(), None)
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = match.group()
            if positions:
                token.pos = pos
            if chars:
                token.startchar = start_char + match.start()
                token.endchar = start_char + match.end()
            yield token
