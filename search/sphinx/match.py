"""Query tree -> Sphinx extended query syntax (the text of `MATCH()`), plus snippet marks.

The same compilation as search/queries.py, leaf for leaf: a word becomes, per language
present, its stem in that language's title and text fields, and the plain word in
`actor_text`; prefixes and fuzzy terms expand against Sift's vocabulary
(search/sphinx/vocabulary.py). Terms are written as the tokens index/cluster/rows.py
indexed, so both backends match the same documents. A NOT is subtracted from the token
every document holds, so NOT-only groups (which Sphinx refuses) work too.
"""

from __future__ import annotations

from index import schema
from index.analysis import term
from index.cluster.rows import ALL_TOKEN, NONE_TOKEN, token
from search import parser as p
from search.queries import Compiler, Marks


class MatchCompiler(Compiler):
    """Compiles one query tree to MATCH() text against one vocabulary."""

    def compile(self, node: p.Node) -> str:
        if isinstance(node, p.MatchAll):
            return ALL_TOKEN
        if isinstance(node, p.And):
            return "(" + " ".join(self.compile(child) for child in node.children) + ")"
        if isinstance(node, p.Or):
            return _or([self._or_child(child, node.children) for child in node.children])
        if isinstance(node, p.Not):
            return f"({ALL_TOKEN} -{_Unmarked(self).compile(node.child)})"
        if isinstance(node, p.Word):
            return self._word(node.text, node.field, node.weight)
        if isinstance(node, p.Phrase):
            return self._phrase(node.words, node.field)
        if isinstance(node, p.Prefix):
            return self._expanded(node.text, node.field, self._prefix_words(node.text))
        if isinstance(node, p.Fuzzy):
            return self._expanded(node.text, node.field, self._fuzzy_words(node))
        raise TypeError(f"not a query node: {node!r}")

    def _either(self, clauses: list) -> str:
        return _or(clauses)

    def _word_as_written(
        self, word: str, field_name: str | None, weight: int = 1, skip=frozenset()
    ) -> str:
        plain = term(word, None)
        if field_name == "language":
            return _in(("language_t",), token(word.lower()))
        if field_name == "source":
            self.marks.words.add(plain)
            return _in((schema.SOURCE_TEXT,), token(plain))
        if field_name == "actor":
            self._mark_actor(word)
            self.marks.words.add(plain)
            return _in((schema.ACTOR_TEXT,), token(plain))
        clauses = []
        for lang in self.languages:
            if lang in skip:
                continue
            stem = term(word, lang)
            self.marks.terms.setdefault(lang, set()).add(stem)
            bases = (schema.TITLE, schema.TEXT) if field_name is None else (field_name,)
            clauses.append(_in(tuple(schema.field_for(b, lang) for b in bases), token(stem)))
        if field_name is None and not skip:
            self._mark_actor(word)
            clauses.append(_in((schema.ACTOR_TEXT,), token(plain)))
        return _or(clauses)

    def _phrase(self, words: tuple[str, ...], field_name: str | None) -> str:
        plain = [term(word, None) for word in words]
        if field_name in ("source", "actor"):
            target = schema.SOURCE_TEXT if field_name == "source" else schema.ACTOR_TEXT
            self.marks.plain_phrases.add(tuple(plain))
            if field_name == "actor":
                self._mark_actor(" ".join(words))
            return _in((target,), _quoted(plain))
        if field_name == "language":
            return _in(("language_t",), token("-".join(words).lower()))
        clauses = []
        for lang in self.languages:
            seq = [term(word, lang) for word in words]
            self.marks.phrases.setdefault(lang, set()).add(tuple(seq))
            bases = (schema.TITLE, schema.TEXT) if field_name is None else (field_name,)
            for base in bases:
                clauses.append(_in((schema.field_for(base, lang),), _quoted(seq)))
        if field_name is None:
            self._mark_actor(" ".join(words))
            clauses.append(_in((schema.ACTOR_TEXT,), _quoted(plain)))
        return _or(clauses)

    def _expanded(self, text: str, field_name: str | None, words: list[str]) -> str:
        if field_name in ("source", "actor", "language"):
            target = {
                "source": schema.SOURCE_TEXT,
                "actor": schema.ACTOR_TEXT,
                "language": "language_t",
            }[field_name]
            return _or([_in((target,), token(word)) for word in words])
        self._count_expansion(len(words))
        self.marks.words.update(words)
        return _or([self._word(word, field_name) for word in words])


class _Unmarked(MatchCompiler):
    """The inside of a NOT: the same query, nothing to highlight."""

    def __init__(self, outer: MatchCompiler):
        super().__init__(outer.reader, outer.languages)
        self.expanded = outer.expanded


def _in(fields: tuple[str, ...], text: str) -> str:
    limit = fields[0] if len(fields) == 1 else "(" + ",".join(fields) + ")"
    return f"(@{limit} {text})"


def _quoted(terms: list[str]) -> str:
    return '"' + " ".join(token(t) for t in terms) + '"'


def _or(clauses: list[str]) -> str:
    if not clauses:
        return NONE_TOKEN
    return clauses[0] if len(clauses) == 1 else "(" + " | ".join(clauses) + ")"


def compile_match(node: p.Node, vocabulary, languages: list[str]) -> tuple[str, Marks]:
    """The MATCH() text for `node` and the marks for its snippets."""
    compiler = MatchCompiler(vocabulary, languages)
    return compiler.compile(node), compiler.marks
