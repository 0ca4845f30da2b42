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
from index.analysis import STEMMED_LANGUAGES, fold, stop_words, term
from index.translit import has_cyrillic, to_latin
from search import budget
from search import parser as p
from search.actors import resolve_actor
from search.errors import QueryTooComplex
from search.ranking import ACTOR_BOOST, TITLE_BOOST, TITLE_WEIGHT, FieldedTerm

# Words one `prefix*` may stand for; broader prefixes are refused with a clear message.
MAX_PREFIX_EXPANSION = 256
# Words one `fuzzy~` may stand for (the closest come first).
MAX_FUZZY_EXPANSION = 50
# Words all the prefix and fuzzy terms of one query may stand for together: each word
# becomes a term per language and field, so 64 prefixes of 256 words each would be
# hundreds of thousands of terms.
MAX_EXPANDED_WORDS = 512
# Letters a fuzzy match must share with the query word at its start, by edit distance:
# misspellings rarely touch the first letters, and for distance 2 a shared first letter
# alone lets the automaton walk most of the lexicon (0.15 s for `said~2` on Reuters,
# 197 words) where two letters take a fifth of that.
FUZZY_SHARED_PREFIX = {1: 1, 2: 2}


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
        self.languages = self.stemming(languages)
        self.stop_words = language_stop_words(self.languages)
        self.marks = Marks()
        self.expanded = [0]  # words prefixes and fuzzy terms stood for (shared with NOT)

    @staticmethod
    def stemming(languages: list[str]) -> list[str | None]:
        """Stemming languages present (None stands for every unstemmed one)."""
        return sorted(
            {lang if lang in STEMMED_LANGUAGES else None for lang in languages or [None]},
            key=lambda x: x or "",
        )

    def compile(self, node: p.Node) -> wq.Query:
        if isinstance(node, p.MatchAll):
            return wq.Every()
        if isinstance(node, p.And):
            return wq.And([self.compile(child) for child in node.children])
        if isinstance(node, p.Or):
            return wq.Or([self._or_child(child, node.children) for child in node.children])
        if isinstance(node, p.Not):
            return wq.Not(_Unmarked(self).compile(node.child))
        if isinstance(node, p.Word):
            return self._word(node.text, node.field, node.weight)
        if isinstance(node, p.Phrase):
            return self._phrase(node.words, node.field)
        if isinstance(node, p.Prefix):
            return self._expanded(node.text, node.field, self._prefix_words(node.text))
        if isinstance(node, p.Fuzzy):
            return self._expanded(node.text, node.field, self._fuzzy_words(node))
        raise TypeError(f"not a query node: {node!r}")

    def _or_child(self, node: p.Node, siblings: tuple[p.Node, ...]) -> wq.Query:
        """One alternative of an OR: a stop word is left out of the languages it is a stop
        word in (where another alternative is not), as those languages' analyzers would."""
        if not isinstance(node, p.Word) or node.field is not None:
            return self.compile(node)
        skip = {
            lang
            for lang in self.languages
            if p.is_stop_word(node, self.stop_words[lang])
            and not all(p.is_stop_word(other, self.stop_words[lang]) for other in siblings)
        }
        return self._word(node.text, None, node.weight, skip)

    # -- leaves ---------------------------------------------------------------------------

    def _word(
        self, word: str, field_name: str | None, weight: int = 1, skip: set = frozenset()
    ) -> wq.Query:
        """A word as written, and a word in Cyrillic also romanised: "Мишустин" finds the
        articles that write "Mishustin" (and the Latin name extraction files a Cyrillic
        one under finds the Cyrillic article: index/translit.py)."""
        query = self._word_as_written(word, field_name, weight, skip)
        if field_name in (None, "text", "title", "actor") and has_cyrillic(word):
            latin = self._word_as_written(to_latin(word), field_name, weight, skip)
            query = self._either([query, latin])
        return query

    def _either(self, clauses: list) -> wq.Query:
        """Any of `clauses` (the compiled form a backend's subclass overrides)."""
        return _or(clauses)

    def _word_as_written(
        self, word: str, field_name: str | None, weight: int = 1, skip: set = frozenset()
    ) -> wq.Query:
        """A word in every language's fields (but the `skip` ones), boosted by `weight`."""
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
        for lang in self.languages:
            if lang in skip:
                continue
            stem = term(word, lang)
            self.marks.terms.setdefault(lang, set()).add(stem)
            if field_name is None:
                fields = (
                    (schema.field_for(schema.TITLE, lang), TITLE_WEIGHT),
                    (schema.field_for(schema.TEXT, lang), 1.0),
                )
                clauses.append(FieldedTerm(fields, stem, boost=weight))
                continue
            if field_name == "title":
                clauses.append(wq.Term(schema.field_for(schema.TITLE, lang), stem, boost=weight))
            if field_name == "text":
                clauses.append(wq.Term(schema.field_for(schema.TEXT, lang), stem, boost=weight))
        if field_name is None and not skip:  # actor names are in no one language
            self._mark_actor(word)
            clauses.append(wq.Term(schema.ACTOR_TEXT, plain, boost=ACTOR_BOOST * weight))
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
        self._count_expansion(len(words))
        self.marks.words.update(words)
        clauses = [self._word(word, field_name) for word in words]
        return _or(clauses)

    def _count_expansion(self, words: int) -> None:
        """Count words a prefix or fuzzy term stands for against the query's cap."""
        self.expanded[0] += words
        if self.expanded[0] > MAX_EXPANDED_WORDS:
            raise QueryTooComplex(
                f"the prefix and fuzzy terms match more than {MAX_EXPANDED_WORDS} words "
                "together; use fewer of them or longer prefixes"
            )

    def _prefix_words(self, prefix: str) -> list[str]:
        folded = fold(prefix)
        found = []
        for word in budget.checked(self.reader.expand_prefix(schema.WORDS, folded), every=64):
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
        shared = FUZZY_SHARED_PREFIX[node.distance]
        within = self.reader.terms_within(schema.WORDS, folded, node.distance, prefix=shared)
        found = list(budget.checked(within, every=16))
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
        self.expanded = outer.expanded


def language_stop_words(languages) -> dict[str | None, frozenset[str]]:
    """Stop words per stemming language; for unstemmed fields (None), those of any language
    present, as a document of an undetermined language is most likely in one of them."""
    found = {lang: stop_words(lang) for lang in languages if lang}
    if None in languages:
        found[None] = frozenset().union(*found.values())
    return found


def common_stop_words(languages: list[str]) -> frozenset[str]:
    """Words that are stop words in every language present: what the parser may drop."""
    sets = list(language_stop_words(Compiler.stemming(languages)).values())
    return frozenset.intersection(*sets) if sets else frozenset()


def _or(clauses: list[wq.Query]) -> wq.Query:
    if not clauses:
        return wq.NullQuery
    return clauses[0] if len(clauses) == 1 else wq.Or(clauses)


def compile_query(node: p.Node, reader, languages: list[str]) -> tuple[wq.Query, Marks]:
    """The Whoosh query for `node` and the marks for its snippets."""
    compiler = Compiler(reader, languages)
    return compiler.compile(node), compiler.marks
