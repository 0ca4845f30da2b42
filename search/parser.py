"""User query text -> a small query tree, leniently: malformed syntax degrades to words.

Allowed syntax, and nothing else: words (ANDed, or ORed with `op=or`), `OR`, `AND`, `NOT`
and `-word`, `+word`, `"phrases"`, `field:term` for the fields in `schema.QUERY_FIELDS`,
`prefix*` (at least MIN_PREFIX_CHARS before the star), `fuzzy~` / `fuzzy~1`, and
parentheses. A `?` or a `*` anywhere else is punctuation, never a wildcard, so a question
("who leads nato?") is just words. Unknown `field:` prefixes, stray or unbalanced
parentheses and dangling operators are read as words or dropped, never an error.

The parser is our own rather than Whoosh's QueryParser: Whoosh's re-runs every tagger at
every character (quadratic on long tokens), allows leading wildcards and unbounded
ranges, and recurses without a depth limit. Here the cost caps are explicit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from index.analysis import WORD_RE, fold
from index.schema import QUERY_FIELDS
from search.errors import QueryTooComplex

MAX_QUERY_CHARS = 1000
MAX_CLAUSES = 64  # words, phrases, prefixes and fuzzy terms in one query
MAX_DEPTH = 8  # deeper parentheses are read as plain grouping-free text
MIN_PREFIX_CHARS = 2
MIN_FUZZY_CHARS = 3
MAX_FUZZY_DISTANCE = 2
# Fuzzy terms per query: each walks the lexicon with an edit-distance automaton (up to
# ~0.1 s on Reuters-21578's 40,000 words), so a query of 64 of them ran for minutes.
MAX_FUZZY_TERMS = 8


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None
    weight: int = 1  # how often the query repeats it (query-term frequency)


@dataclass(frozen=True)
class Phrase:
    words: tuple[str, ...]
    field: str | None = None


@dataclass(frozen=True)
class Prefix:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Fuzzy:
    text: str
    distance: int = 1
    field: str | None = None


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class MatchAll:
    pass


Node = Word | Phrase | Prefix | Fuzzy | And | Or | Not | MatchAll
Leaf = Word | Phrase | Prefix | Fuzzy

# Lexer: a phrase (optional sign and field; closing quote optional), an opening
# parenthesis (optional sign), a closing one, or a run of other text.
_LEX_RE = re.compile(r'[-+]*(?:[A-Za-z_]+:)?"[^"]*"?|[-+]*\(|\)|[^\s()"]+')
_FIELD_RE = re.compile(r"^([A-Za-z_]+):(.*)$", re.S)
_FUZZY_RE = re.compile(r"^(.*?)~(\d*)$", re.S)


def parse(text: str, default_op: str = "and", stop_words: frozenset[str] = frozenset()) -> Node:
    """The query tree for `text`; QueryTooComplex if it is over a cap.

    A word repeated among the words of one group is one leaf whose `weight` counts the
    repeats. `stop_words` (folded) are dropped from OR groups that have other words: they
    match almost every document, so they add cost and noise, not ranking signal. Both
    happen before the caps are checked, so a long question is not refused for its "the"s.
    """
    if len(text) > MAX_QUERY_CHARS:
        raise QueryTooComplex(f"the query is longer than {MAX_QUERY_CHARS} characters")
    tokens = _lex(text)
    node = _Parser(tokens, default_op).parse()
    if stop_words:
        node = _without_stop_words(node, stop_words)
    clauses = count_leaves(node)
    if clauses > MAX_CLAUSES:
        raise QueryTooComplex(f"the query has {clauses} terms; at most {MAX_CLAUSES} are allowed")
    fuzzy = sum(isinstance(leaf, Fuzzy) for leaf in all_leaves(node))
    if fuzzy > MAX_FUZZY_TERMS:
        raise QueryTooComplex(
            f"the query has {fuzzy} fuzzy terms (word~); at most {MAX_FUZZY_TERMS} are allowed"
        )
    return node


def count_leaves(node: Node) -> int:
    if isinstance(node, And | Or):
        return sum(count_leaves(child) for child in node.children)
    if isinstance(node, Not):
        return count_leaves(node.child)
    return 0 if isinstance(node, MatchAll) else 1


def all_leaves(node: Node) -> list[Leaf]:
    if isinstance(node, And | Or):
        return [leaf for child in node.children for leaf in all_leaves(child)]
    if isinstance(node, Not):
        return all_leaves(node.child)
    return [] if isinstance(node, MatchAll) else [node]


def positive_leaves(node: Node) -> list[Leaf]:
    """Leaves that can make a document match (not under NOT): what snippets highlight."""
    if isinstance(node, And | Or):
        return [leaf for child in node.children for leaf in positive_leaves(child)]
    if isinstance(node, Not | MatchAll):
        return []
    return [node]


def is_stop_word(node: Node, stop_words: frozenset[str]) -> bool:
    """Whether `node` is a plain word (no field) in `stop_words` (folded)."""
    return isinstance(node, Word) and node.field is None and fold(node.text) in stop_words


def _without_stop_words(node: Node, stop_words: frozenset[str]) -> Node:
    if isinstance(node, Not):
        return Not(_without_stop_words(node.child, stop_words))
    if not isinstance(node, And | Or):
        return node
    children = [_without_stop_words(child, stop_words) for child in node.children]
    if isinstance(node, Or):
        kept = [child for child in children if not is_stop_word(child, stop_words)]
        children = kept or children
    return _combine(type(node), children)


def _lex(text: str) -> list[str]:
    return _LEX_RE.findall(text)


class _Parser:
    """Recursive descent over lexer tokens: or_expr := and_expr (OR and_expr)*."""

    def __init__(self, tokens: list[str], default_op: str):
        self.tokens = tokens
        self.pos = 0
        self.default_op = default_op
        self.depth = 0

    def parse(self) -> Node:
        node = self._or_expr()
        while self.pos < len(self.tokens):  # stray ")" at top level: skip and go on
            self.pos += 1
            rest = self._or_expr()
            node = _combine(And if self.default_op == "and" else Or, [node, rest])
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _or_expr(self) -> Node:
        parts = [self._and_expr()]
        while self._peek() == "OR":
            self.pos += 1
            parts.append(self._and_expr())
        return _combine(Or, parts)

    def _and_expr(self) -> Node:
        """Clauses up to OR: `+`/`-`/NOT ones required, the others joined by the default op.

        `x AND y` binds its two neighbours, as in Lucene: with `op=or`, `a b AND c` is
        `a OR (b AND c)`.
        """
        required: list[Node] = []
        optional: list[Node] = []
        last: list[Node] | None = None  # the list the previous clause went into
        pending_and = False
        while True:
            token = self._peek()
            if token is None or token in ("OR", ")"):
                break
            if token == "AND":
                self.pos += 1
                pending_and = True
                continue
            node, is_required = self._unary()
            if node is None:
                continue
            if pending_and and last is optional and optional and not is_required:
                optional[-1] = _combine(And, [optional[-1], node])
            elif is_required or (pending_and and last is not None) or isinstance(node, Not):
                required.append(node)
                last = required
            else:
                optional.append(node)
                last = optional
            pending_and = False
        if optional:
            required.append(_combine(self._implicit_type(), optional))
        return _combine(And, required)

    def _implicit_type(self):
        return And if self.default_op == "and" else Or

    def _unary(self) -> tuple[Node | None, bool]:
        """One clause with its NOT / - / + prefixes (read iteratively: no deep recursion)."""
        negate = required = False
        while self._peek() == "NOT":
            self.pos += 1
            negate, required = not negate, True
        token = self._peek()
        if token is None or token in ("OR", "AND") or (token == ")" and self.depth > 0):
            return None, False
        if token == ")":
            return None, False
        body = token.lstrip("+-")
        if len(body) < len(token):
            required = True
            negate ^= "-" in token[: len(token) - len(body)]
        if body == "(":
            node = self._group()
        else:
            self.pos += 1
            node = _term(body, self.default_op)
        if node is None:
            return None, False
        return (Not(node) if negate else node), required

    def _group(self) -> Node | None:
        self.pos += 1  # "("
        if self.depth >= MAX_DEPTH:
            return None  # too deep: the parenthesis is dropped, its words still parse
        self.depth += 1
        node = self._or_expr()
        self.depth -= 1
        if self._peek() == ")":
            self.pos += 1
        return node


def _combine(kind, parts: list[Node | None]) -> Node:
    nodes = [part for part in parts if part is not None and part != MatchAll()]
    if not nodes:
        return MatchAll()
    if len(nodes) == 1:
        return nodes[0]
    flat: list[Node] = []
    for node in nodes:
        flat.extend(node.children if isinstance(node, kind) else [node])
    flat = _merge_repeated_words(flat)
    return flat[0] if len(flat) == 1 else kind(tuple(flat))


def _merge_repeated_words(nodes: list[Node]) -> list[Node]:
    """Plain words said more than once become one word weighted by its count."""
    merged: dict[tuple[str, str | None], int] = {}
    out: list[Node] = []
    for node in nodes:
        if not isinstance(node, Word):
            out.append(node)
            continue
        key = (fold(node.text), node.field)
        if key in merged:
            at = merged[key]
            first = out[at]
            out[at] = Word(first.text, first.field, first.weight + node.weight)
        else:
            merged[key] = len(out)
            out.append(node)
    return out


def _term(token: str, default_op: str = "and") -> Node | None:
    """One lexer token (not an operator or parenthesis) as a leaf, or None if no words.

    An unquoted token of several words ("AMP-activated", "H2A.Z") is a phrase when words
    are ANDed; with `op=or` it is its words, ORed like every other word, as Lucene's and
    Elasticsearch's match queries read it (measured: +0.004 nDCG@10 on SciFact's
    development half, where compounds are common).
    """
    field = None
    match = _FIELD_RE.match(token)
    if match and match.group(1).lower() in QUERY_FIELDS and match.group(2):
        field, token = match.group(1).lower(), match.group(2)
    if token.startswith('"'):
        words = tuple(WORD_RE.findall(token))
        return _phrase_or_word(words, field)
    fuzzy = _FUZZY_RE.match(token)
    if fuzzy:
        words = WORD_RE.findall(fuzzy.group(1))
        if len(words) == 1 and len(words[0]) >= MIN_FUZZY_CHARS:
            distance = min(int(fuzzy.group(2) or 1), MAX_FUZZY_DISTANCE) or 1
            return Fuzzy(words[0], distance, field)
        return _phrase_or_word(tuple(words), field)
    words = tuple(WORD_RE.findall(token))
    is_prefix = token.endswith("*") and len(words) == 1 and re.fullmatch(r"\W*\w[\w'’]*\*", token)
    if is_prefix and len(words[0]) >= MIN_PREFIX_CHARS:
        return Prefix(words[0], field)
    if default_op == "or" and field is None and len(words) > 1:
        return _combine(Or, [Word(word) for word in words])
    return _phrase_or_word(words, field)


def _phrase_or_word(words: tuple[str, ...], field: str | None) -> Node | None:
    if not words:
        return None
    if len(words) == 1:
        return Word(words[0], field)
    return Phrase(words, field)
