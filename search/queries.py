"""Query tree -> Whoosh query, plus what a snippet should highlight.

A plain word becomes, for every language present in the index, a term in that language's
title and text fields, stemmed by that language's stemmer (`index.schema.field_for`):
each document sits in exactly one language's fields, so it is matched by its own
language's form of the word and nothing else. Prefix and
fuzzy terms expand against the unstemmed `words` field, with caps that raise
`QueryTooComplex` instead of running away.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from whoosh import query as wq

from index import schema
from index.analysis import STEMMED_LANGUAGES, fold, term
from search import parser as p
from search.actors import resolve_actor
from search.errors import QueryTooComplex
from search.ranking import ACTOR_BOOST, TITLE_BOOST

# Words one `prefix*` may stand for; broader prefixes are refused with a clear message.
MAX_PREFIX_EXPANSION = 256
# Words one `fuzzy~` may stand for (the closest come first).
MAX_FUZZY_EXPANSION = 50


@dataclass
class Marks:
    """What to highlight in a hit's text: index terms, phrases, prefixes, aliases.

    Terms and phrases are kept per stemming language (None: unstemmed), so a document
    is marked where its own language's form of a query word occurs.
    """

    terms: dict[str | None, set[str]] = field(default_factory=dict)
    phrases: dict[str | None, set[tuple[str, ...]]] = field(default_factory=dict)
    plain_phrases: set[tuple[str, ...]] = field(default_factory=set)  # unstemmed sequences
    words: set[str] = field(default_factory=set)  # folded, unstemmed words
    prefixes: set[str] = field(default_factory=set)  # folded prefixes
    actors: set[str] = field(default_factory=set)  # canonical actors: mark their aliases


class Compiler:
    """Compiles one query tree against one reader (for expansions and languages)."""

    def __init__(self, reader, languages: list[str]):
        self.reader = reader
        # Stemming languages present (None stands for every unstemmed one).
        self.languages = sorted(
            {lang if lang in STEMMED_LANGUAGES else None for lang in languages or [None]},
            key=lambda x: x or "",
        )
        self.marks = Marks()

    def compile(self, node: p.Node) -> wq.Query:
        if isinstance(node, p.MatchAll):
            return wq.Every()
        if isinstance(node, p.And):
            return wq.And([self.compile(child) for child in node.children])
        if isinstance(node, p.Or):
            return wq.Or([self.compile(child) for child in node.children])
        if isinstance(node, p.Not):
            return wq.Not(_Unmarked(self).compile(node.child))
        if isinstance(node, p.Word):
            return self._word(node.text, node.field)
        if isinstance(node, p.Phrase):
            return self._phrase(node.words, node.field)
        if isinstance(node, p.Prefix):
            return self._expanded(node.text, node.field, self._prefix_words(node.text))
        if isinstance(node, p.Fuzzy):
            return self._expanded(node.text, node.field, self._fuzzy_words(node))
        raise TypeError(f"not a query node: {node!r}")

    # -- leaves ---------------------------------------------------------------------------

    def _word(self, word: str, field_name: str | None) -> wq.Query:
        plain = term(word, None)
        if field_name == "language":
            return wq.Term(schema.LANGUAGE, word.lower())
        if field_name == "source":
            self.marks.words.add(plain)
            return wq.Term(schema.SOURCE_TEXT, plain)
        if field_name == "actor":
            self._mark_actor(word)
            self.marks.words.add(plain)
            return wq.Term(schema.ACTOR_TEXT, plain)
        clauses = []
        title_boost = TITLE_BOOST if field_name is None else 1.0
        for lang in self.languages:
            stem = term(word, lang)
            self.marks.terms.setdefault(lang, set()).add(stem)
            if field_name in (None, "title"):
                clauses.append(
                    wq.Term(schema.field_for(schema.TITLE, lang), stem, boost=title_boost)
                )
            if field_name in (None, "text"):
                clauses.append(wq.Term(schema.field_for(schema.TEXT, lang), stem))
        if field_name is None:
            self._mark_actor(word)
            clauses.append(wq.Term(schema.ACTOR_TEXT, plain, boost=ACTOR_BOOST))
        return _or(clauses)

    def _phrase(self, words: tuple[str, ...], field_name: str | None) -> wq.Query:
        plain = [term(word, None) for word in words]
        if field_name in ("source", "actor"):
            target = schema.SOURCE_TEXT if field_name == "source" else schema.ACTOR_TEXT
            self.marks.plain_phrases.add(tuple(plain))
            if field_name == "actor":
                self._mark_actor(" ".join(words))
            return wq.Phrase(target, plain)
        if field_name == "language":
            return wq.Term(schema.LANGUAGE, "-".join(words).lower())
        clauses = []
        title_boost = TITLE_BOOST if field_name is None else 1.0
        for lang in self.languages:
            seq = [term(word, lang) for word in words]
            self.marks.phrases.setdefault(lang, set()).add(tuple(seq))
            if field_name in (None, "title"):
                clauses.append(
                    wq.Phrase(schema.field_for(schema.TITLE, lang), seq, boost=title_boost)
                )
            if field_name in (None, "text"):
                clauses.append(wq.Phrase(schema.field_for(schema.TEXT, lang), seq))
        if field_name is None:
            self._mark_actor(" ".join(words))
            clauses.append(wq.Phrase(schema.ACTOR_TEXT, plain, boost=ACTOR_BOOST))
        return _or(clauses)

    def _expanded(self, text: str, field_name: str | None, words: list[str]) -> wq.Query:
        """A prefix or fuzzy term: the OR of the indexed words it stands for."""
        if field_name in ("source", "actor", "language"):
            target = {
                "source": schema.SOURCE_TEXT,
                "actor": schema.ACTOR_TEXT,
                "language": schema.LANGUAGE,
            }[field_name]
            return _or([wq.Term(target, word) for word in words])
        self.marks.words.update(words)
        clauses = [self._word(word, field_name) for word in words]
        return _or(clauses)

    def _prefix_words(self, prefix: str) -> list[str]:
        folded = fold(prefix)
        found = []
        for word in self.reader.expand_prefix(schema.WORDS, folded):
            found.append(word.decode() if isinstance(word, bytes) else word)
            if len(found) > MAX_PREFIX_EXPANSION:
                raise QueryTooComplex(
                    f"'{prefix}*' matches more than {MAX_PREFIX_EXPANSION} words; "
                    "use a longer prefix"
                )
        self.marks.prefixes.add(folded)
        return found

    def _fuzzy_words(self, node: p.Fuzzy) -> list[str]:
        folded = fold(node.text)
        found = list(self.reader.terms_within(schema.WORDS, folded, node.distance, prefix=1))
        found = [w.decode() if isinstance(w, bytes) else w for w in found]
        if len(found) > MAX_FUZZY_EXPANSION:
            found.sort(key=lambda w: -self.reader.doc_frequency(schema.WORDS, w))
            found = found[:MAX_FUZZY_EXPANSION]
        return sorted(found) or [folded]

    def _mark_actor(self, name: str) -> None:
        canonical = resolve_actor(name)
        if canonical:
            self.marks.actors.add(canonical)


class _Unmarked(Compiler):
    """Compiles the inside of a NOT: the same query, nothing to highlight."""

    def __init__(self, outer: Compiler):
        super().__init__(outer.reader, outer.languages)


def _or(clauses: list[wq.Query]) -> wq.Query:
    if not clauses:
        return wq.NullQuery
    return clauses[0] if len(clauses) == 1 else wq.Or(clauses)


def compile_query(node: p.Node, reader, languages: list[str]) -> tuple[wq.Query, Marks]:
    """The Whoosh query for `node` and the marks for its snippets."""
    compiler = Compiler(reader, languages)
    return compiler.compile(node), compiler.marks
