"""Ranking knobs: every boost and parameter named, with the reason beside it.

A test pins the ordered ids of a few queries on the hand-written corpus, so changing a
value here fails loudly and on purpose. `benchmarks/relevance.py` measures what they do to
ranking quality on public test collections; `docs/benchmarks.md` says which collection
each value was chosen on.
"""

from __future__ import annotations

from math import log

from whoosh import matching, scoring
from whoosh import query as wq

from index import schema
from index.analysis import STEMMED_LANGUAGES
from index.codec import postings as codec

# Measured on the relevance collections (docs/benchmarks.md, "Relevance"); chosen on the
# SciFact queries with odd ids, the other half and Cranfield and CISI left untouched.

# A plain word is scored once over headline and body together (BM25F, `FieldedTerm`),
# with a headline occurrence worth TITLE_WEIGHT body occurrences: a headline names what
# the article is about. 2 to 4 measured alike (within 0.006 nDCG@10), 1 clearly worse
# (-0.016); 3 is the middle of that plateau.
TITLE_WEIGHT = 3.0
# A phrase in the headline says more about what an article is about than one in its body
# (phrases are scored per field and summed).
TITLE_BOOST = 2.0
# An actor's name (or a known alias of it) means the article is about that actor, even
# where the body only says "IS" or a surname.
ACTOR_BOOST = 1.5

# BM25 saturation and length normalisation, for every field (headline included). BM25F
# adds up headline and body before saturating, so it saturates a little later than
# Robertson's 1.2 for one field: k1 1.2-2.0 and b 0.75-0.9 measured within 0.006 of
# these; Lucene's 0.9 / 0.4 measured -0.007.
BM25_K1 = 1.5
BM25_B = 0.75


def weighting() -> scoring.WeightingModel:
    """BM25 over Sift's fields, each scored with its own language's statistics."""
    return LanguageBM25(B=BM25_B, K1=BM25_K1)


class LanguageBM25(scoring.BM25F):
    """BM25 whose statistics are those of the documents a field can hold.

    Whoosh's own BM25F divides a field's total length by *every* document in the index,
    and takes idf against every document too. Sift keeps each language in its own fields
    (`text_de` holds only German documents), so in a mostly English archive a German
    article would look many times longer than average (and be punished for it), and any
    word in `text_de`, "und" included, would look rare. Here a language's fields count
    only that language's documents; the unstemmed fields count the documents of languages
    without a stemmer.
    """

    def __init__(self, B=BM25_B, K1=BM25_K1, **kwargs):
        super().__init__(B=B, K1=K1, **kwargs)
        self._documents: dict[str, int] = {}  # field -> documents; one model per searcher
        self._averages: dict[str, float] = {}  # field -> average length, as `documents`

    def documents(self, parent, fieldname: str) -> int:
        """How many documents `fieldname` serves (`parent`: the top-level searcher)."""
        docs = self._documents.get(fieldname)
        if docs is None:
            docs = self._documents[fieldname] = _documents_for(parent, fieldname)
        return docs

    def average_length(self, parent, fieldname: str) -> float:
        """Remembered: the total length is a sum over every segment (forty at a million
        articles), asked for each field of each term of each query."""
        found = self._averages.get(fieldname)
        if found is None:
            docs = self.documents(parent, fieldname)
            total = parent.field_length(fieldname) / docs if docs else 0.0
            found = self._averages[fieldname] = total or 1.0
        return found

    def field_b(self, fieldname: str) -> float:
        return codec.field_b(self, fieldname)

    def scorer(self, searcher, fieldname, text, qf=1):
        if not searcher.schema[fieldname].scorable:
            return scoring.WeightScorer.for_(searcher, fieldname, text)
        parent = searcher.get_parent()
        return _Scorer(
            searcher,
            fieldname,
            text,
            idf=field_idf(self, parent, fieldname, text),
            avgfl=self.average_length(parent, fieldname),
            B=self.field_b(fieldname),
            K1=self.K1,
        )


class _Scorer(scoring.WeightLengthScorer):
    def __init__(self, searcher, fieldname, text, *, idf, avgfl, B, K1):
        self.idf, self.avgfl, self.B, self.K1 = idf, avgfl or 1.0, B, K1
        self.setup(searcher, fieldname, text)

    def _score(self, weight, length):
        return scoring.bm25(self.idf, weight, length, self.avgfl, self.B, self.K1)


def field_idf(model: LanguageBM25, parent, fieldname: str, text, df: int | None = None) -> float:
    """A term's idf in one field, against the documents that field serves; `df`, its
    document frequency, where the caller knows it already (search/postings.py)."""
    if df is None:
        df = parent.doc_frequency(fieldname, text)
    return _idf(df, model.documents(parent, fieldname))


def _idf(df: int, docs: int) -> float:
    """Lucene's BM25 idf: never negative, even for a word in most documents."""
    return log(1 + (docs - df + 0.5) / (df + 0.5))


def _documents_for(searcher, fieldname: str) -> int:
    """How many documents (deleted ones included, as in Whoosh's lengths) `fieldname` serves."""
    total = searcher.doc_count_all()
    base, _, lang = fieldname.rpartition("_")
    reader = searcher.reader()
    if base in (schema.TITLE, schema.TEXT) and lang in STEMMED_LANGUAGES:
        return reader.doc_frequency(schema.LANGUAGE, lang)
    if fieldname in (schema.TITLE, schema.TEXT):
        stemmed = sum(reader.doc_frequency(schema.LANGUAGE, lang) for lang in STEMMED_LANGUAGES)
        return total - stemmed
    return total


class FieldedTerm(wq.Query):
    """One word in several fields of a document, scored as BM25F.

    Summing a BM25 score per field counts a word twice when it is in both the headline and
    the body, which is where an article's main words usually are: the title's boost then
    rewards repetition more than relevance. BM25F (Robertson, Zaragoza & Taylor, "Simple
    BM25 extension to multiple weighted fields", 2004) first adds the field-weighted,
    length-normalised frequencies, then saturates once, with one idf.
    """

    def __init__(self, fields: tuple[tuple[str, float], ...], text: str, boost: float = 1.0):
        self.fields = fields  # (field, weight)
        self.text = text
        self.boost = boost

    def __repr__(self):
        return f"FieldedTerm({self.fields!r}, {self.text!r}, boost={self.boost})"

    def __eq__(self, other):
        return type(other) is FieldedTerm and (self.fields, self.text, self.boost) == (
            other.fields,
            other.text,
            other.boost,
        )

    def __hash__(self):
        return hash((self.fields, self.text, self.boost))

    def estimate_size(self, ixreader):
        return sum(ixreader.doc_frequency(name, self.text) for name, _ in self.fields)

    def matcher(self, searcher, context=None):
        reader = searcher.reader()
        parent = searcher.get_parent()
        model = searcher.weighting
        if not isinstance(model, LanguageBM25):
            model = weighting()
        parts = []
        for name, weight in self.fields:
            if (name, self.text) in reader:
                avgfl = model.average_length(parent, name)
                parts.append(
                    _Part(
                        searcher.postings(name, self.text, weighting=model),
                        name,
                        weight,
                        model.field_b(name),
                        avgfl,
                    )
                )
        if not parts:
            return matching.NullMatcher()
        return _FieldedMatcher(searcher, parts, self.scale(searcher, model), model.K1)

    def idf(self, searcher, model: LanguageBM25, frequency=None) -> float:
        """One idf for the word: its document frequency in the field where it is most
        frequent, against the documents those fields serve. `frequency(field)`: the
        word's document frequency in a field, where the caller knows it already."""
        parent = searcher.get_parent()
        if frequency is None:
            frequency = lambda name: parent.doc_frequency(name, self.text)  # noqa: E731
        df = max(frequency(name) for name, _ in self.fields)
        return _idf(df, model.documents(parent, self.fields[0][0]))

    def scale(self, searcher, model: LanguageBM25) -> float:
        """idf times boost."""
        return self.idf(searcher, model) * self.boost


class _Part:
    """One field's postings within a FieldedTerm, with its weight and length statistics."""

    __slots__ = ("avgfl", "b", "field", "matcher", "weight")

    def __init__(self, matcher, field, weight, b, avgfl):
        self.matcher, self.field, self.weight, self.b, self.avgfl = (
            matcher,
            field,
            weight,
            b,
            avgfl,
        )


class _FieldedMatcher(matching.Matcher):
    """The union of a FieldedTerm's field postings, scored by BM25F."""

    def __init__(self, searcher, parts: list[_Part], scale: float, k1: float):
        self._searcher = searcher
        self._parts = parts
        self._scale = scale  # idf * boost
        self._k1 = k1

    def _active(self):
        return [part for part in self._parts if part.matcher.is_active()]

    def is_active(self):
        return any(part.matcher.is_active() for part in self._parts)

    def reset(self):
        for part in self._parts:
            part.matcher.reset()

    def copy(self):
        parts = [_Part(p.matcher.copy(), p.field, p.weight, p.b, p.avgfl) for p in self._parts]
        return _FieldedMatcher(self._searcher, parts, self._scale, self._k1)

    def id(self):
        return min(part.matcher.id() for part in self._active())

    def next(self):
        current = self.id()
        for part in self._active():
            if part.matcher.id() == current:
                part.matcher.next()

    def skip_to(self, id):
        for part in self._active():
            if part.matcher.id() < id:
                part.matcher.skip_to(id)

    def supports(self, astype):
        return False

    def supports_block_quality(self):
        return False

    def max_quality(self):
        # Saturation keeps tf/(k1 + tf) below 1: an upper bound Whoosh's unions rely on.
        return self._scale * (self._k1 + 1)

    def weight(self):
        current = self.id()
        return sum(p.matcher.weight() for p in self._active() if p.matcher.id() == current)

    def score(self):
        current = self.id()
        tf = 0.0
        for part in self._active():
            if part.matcher.id() == current:
                length = self._searcher.doc_field_length(current, part.field, 1)
                norm = 1 - part.b + part.b * length / part.avgfl
                tf += part.weight * part.matcher.weight() / norm
        return self._scale * tf * (self._k1 + 1) / (tf + self._k1)
