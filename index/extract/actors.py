"""Actors: the people and organisations a text names, each under one canonical name.

Rule-based and fast (no model), in four steps:
1. one regex finds runs of capitalised words ("NATO Secretary-General Jens Stoltenberg");
2. each run is cut at known names (alias table, major places), role phrases ("Deputy
   Foreign Minister", "Secretary of State") and connectors that do not build an
   organisation name ("France and Germany", but "Bank of England");
3. each piece is typed by evidence: a role or courtesy title before it, a known given name,
   an organisation suffix ("... Corp", "... Party"), a head ("Ministry of ..."), an acronym;
4. the document resolves the rest: "Stoltenberg" is the "Jens Stoltenberg" it named,
   "(OPEC)" after a name is that organisation, a name typed once keeps its type.
Headline lines in capitals or Title Case only confirm names the body established.
"""

from __future__ import annotations

import re
import time
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from operator import itemgetter

from index.documents import ORGANISATION, PERSON, Actor
from index.extract.bylines import without_authors
from index.extract.lexicon import LOWER, UPPER, Lexicon, fold, lexicon
from index.extract.russian_names import nominative, surname_nominatives
from index.translit import has_cyrillic, person_name

PLACE = "place"
ROLE = "role"

# Text beyond this many characters is not searched for names (bounded cost on huge input).
MAX_CHARS = 200_000
# A person's name has at most this many words after its title ("Recep Tayyip Erdogan").
MAX_NAME_WORDS = 4
MAX_ACRONYM = 6
# A compound role is longer than its ending ("Finanzminister", not "Minister" alone).
MIN_COMPOUND_ROLE = 7
# A line at least this long that runs on into the next is hard-wrapped prose.
WRAPPED_LINE_CHARS = 50
# CPU seconds one document's name finding may take; past it, the names found so far are
# kept and `find_mentions` reports the text as not fully read. Text of any length is read
# in linear time, so only a huge or hostile document reaches it (a Reuters article takes
# about a millisecond).
BUDGET_S = 2.0
# Runs read between two looks at the clock.
BUDGET_CHECK_EVERY = 64
# Sentence-initial words looked up by scanning the text before every lower-case word of
# the text is listed once instead (each scan reads the text: a cap keeps it linear).
LOWER_CASE_SCANS = 32
# Distinct runs (and name words) whose analysis is remembered: runs repeat within and
# across articles ("U.S.", "Reuters"); 4,000 Reuters articles have about 15,000 distinct
# runs, and the most frequent ones stay in a cache this size.
RUN_CACHE_SIZE = 1 << 14

_HYPHEN_SUFFIXES = (
    "led|based|backed|born|era|owned|run|held|controlled|occupied|linked|funded|sponsored|"
    "style|made|bound|allied|friendly|like|type|wide|related|affiliated|inspired|dominated|"
    "speaking|language|registered|listed|designated|imposed|brokered|appointed|installed"
)
# Arabic particles, and French and Italian elided articles ("l'Allemagne", "dell'Italia").
_PREFIXES = "al|el|ad|an|ar|as|ash|at|az|bin|ibn|abu|abd|ul|ud|d|l|dell|nell|all|dall|sull"
_CONNECTORS = (
    "of|for|and|the|on|in|de|del|della|dei|der|den|di|da|dal|dos|das|do|du|la|le|van|von|zu|"
    "ter|ten|y|al|el|bin|ibn|bint|ben|&"
)
_WORD = (
    rf"(?:(?:{_PREFIXES})[-'’])?{UPPER}[\w'’&/]*"
    rf"(?:-(?!(?:{_HYPHEN_SUFFIXES})\b)[\w'’&/]+)*"
)
_ABBREVIATION = r"(?:Corp|Inc|Co|Cos|Ltd|Bros|Jr|Sr|Plc)\.(?![\w.])"
_TOKEN = (
    rf"(?:{_ABBREVIATION}"  # "Corp.", "Inc."
    rf"|(?:St|Ste|Mt|Ft)\.(?=[ \t]+{UPPER})"  # "St. Louis"
    rf"|{UPPER}(?:\.{UPPER})+\.?"  # "U.S.", "P.W."
    rf"|{UPPER}\.(?=[ \t]+{UPPER})"  # "J. Smith"
    rf"|{_WORD})"
)
_SEP = r"(?:[ \t]+|[ \t]*\r?\n[ \t]*)"
# The letters a run can start with (a capital, or an Arabic or elided prefix's first letter),
# tested first: most positions start no run, and are then left before _TOKEN's alternatives.
_RUN_FIRST = UPPER[:-1] + "".join(sorted({p[0] for p in _PREFIXES.split("|")})) + "]"
RUN = re.compile(
    rf"(?<![\w'’.])(?={_RUN_FIRST}){_TOKEN}(?:{_SEP}(?:(?:{_CONNECTORS}){_SEP}){{0,2}}{_TOKEN})*"
)
TOKEN = re.compile(rf"{_TOKEN}|\S+")
LOWER_WORD = re.compile(rf"(?<![\w'’-]){LOWER}[\w'’-]*")
WORD_CHAR = re.compile(r"[\w'’-]")  # what LOWER_WORD reads as part of a word
POSSESSIVE = re.compile(r"['’]s?$")
CONNECTOR_WORDS = frozenset(_CONNECTORS.split("|"))
ORG_CONNECTORS = frozenset({"of", "for", "and", "the", "on", "in"})
NAME_SPLITTING_CONNECTORS = frozenset({"de", "del", "di", "da", "du"})
# French courtesy titles that look like initials: "M. Macron", "MM. Dupont et Durand".
COURTESY_INITIALS = frozenset({"M.", "MM."})
HOME_TOWN_CONNECTORS = NAME_SPLITTING_CONNECTORS | {"van", "von"}
# What comes between a given name and a surname ("van der Plas", "von der Leyen").
NAME_PARTICLES = frozenset(
    ["van", "von", "der", "den", "de", "del", "di", "da", "du", "ter", "ten"]
)
# What joins a role to its complement outside English ("ministre de la Santé").
ROLE_COMPLEMENT_CONNECTORS = frozenset(
    ["de", "del", "della", "des", "du", "di", "da", "do", "la", "der"]
)
ACRONYM_DEFINITION = re.compile(r"[ \t]*\([ \t]*([A-Z][A-Za-z.&]{1,7})[ \t]*\)")
# Left context: the lower-case words just before a run ("Vatican spokesman Matteo Bruni").
# Possessive: a word matched in part cannot reach the end either, so no backtracking.
LEFT_WORD = re.compile(r"[\w'’-]++$")
SAID_AFTER = re.compile(r"[ \t]+(?:said|says|told|added|asked|noted|stressed|warned)\b")
SAID_BEFORE = re.compile(r"\b(?:said|says|added|told)[ \t]+$")


@dataclass(frozen=True)
class Mention:
    """One stretch of text naming an actor or a place, with the name it resolves to."""

    start: int
    end: int
    text: str
    type: str  # PERSON, ORGANISATION or PLACE
    canonical: str


@dataclass(slots=True)
class _Token:
    text: str  # possessive removed
    start: int
    end: int
    key: str  # folded text
    is_acronym: bool = False


def _is_acronym(word: str) -> bool:
    letters = [ch for ch in word if ch.isalpha()]
    return 2 <= len(letters) <= MAX_ACRONYM and all(ch.isupper() for ch in letters)


@dataclass(slots=True)
class _Piece:
    tokens: list[_Token]
    type: str | None = None  # PERSON, ORGANISATION, PLACE, ROLE or None (undecided)
    canonical: str | None = None
    after_role: bool = False
    known: bool = False  # from the alias or source table
    after_descriptor: bool = False  # "carmaker Toyota"
    after_determiner: bool = False  # "El Gobierno": never a person
    lower_role: bool = False  # a ROLE written in lower case mid-sentence ("Глава")
    after_connector: bool = False  # "ministre de la Santé ...", "presidente del Consiglio ..."
    suffix_only: bool = False  # a lone "Airways", "Newsroom"
    regnal: str | None = None  # "Pope" before a one-word name

    @property
    def text(self) -> str:
        return " ".join([t.text for t in self.tokens])

    @property
    def key(self) -> str:
        return " ".join([t.key for t in self.tokens])


class Deadline:
    """A CPU-time budget (this thread's), checked between steps; remembers running out."""

    def __init__(self, seconds: float | None = None):
        self.at = time.thread_time() + (BUDGET_S if seconds is None else seconds)
        self.passed = False

    def check(self) -> bool:
        """True once the budget is spent."""
        if not self.passed and time.thread_time() >= self.at:
            self.passed = True
        return self.passed


def find_mentions(text: str, deadline: Deadline | None = None) -> list[Mention]:
    """Every actor and place mention in `text`, in order of appearance; if `deadline`
    passes first, those in the part read in time (and `deadline.passed` is set)."""
    text = text[:MAX_CHARS]
    lex = lexicon()
    headline_spans = _headline_lines(text, lex)
    pieces: list[_Piece] = []
    held_back: list[tuple[int, int, bool]] = []  # runs in headline lines (start, end, in capitals)
    for number, run in enumerate(RUN.finditer(text)):
        if deadline and number % BUDGET_CHECK_EVERY == 0 and deadline.check():
            break
        word = run.group()
        if word.lower() in lex.not_names and not word.isupper():
            continue  # "The", "But", "Monday": the most common runs, and never names
        tokens = _tokens(text, run)
        if headline_spans and _inside(run.start(), headline_spans):
            inside = [t for t in tokens if _inside(t.start, headline_spans)]
            span = (inside[0].start, inside[-1].end)
            held_back.append((*span, not any(map(str.islower, text[span[0] : span[1]]))))
            tokens = tokens[len(inside) :]
        # Most runs sit on one line: nothing to split.
        for group in _split_at_line_ends(text, tokens) if "\n" in word else [tokens]:
            pieces.extend(_pieces_of_run(text, group, lex))
    _resolve(text, pieces, lex, deadline)
    mentions = [_mention(p) for p in pieces if p.type in (PERSON, ORGANISATION, PLACE)]
    mentions += _headline_mentions(text, held_back, mentions, lex)
    mentions.sort(key=lambda m: m.start)
    return without_authors(text, mentions, lex)


def actors_of(mentions: list[Mention], language: str | None = None) -> list[Actor]:
    """Distinct actors in order of first mention, each under its canonical name."""
    seen: dict[str, Actor] = {}
    for m in mentions:
        # A person named in Cyrillic is filed under the Latin name of the nominative
        # ("Михаилом Мишустиным" -> "Mikhail Mishustin"), romanised by the scheme of
        # the text's language (Ukrainian's own for "uk").
        name = person_name(nominative(m.canonical), language) if m.type == PERSON else m.canonical
        if m.type in (PERSON, ORGANISATION) and name not in seen:
            seen[name] = Actor(name, m.type)
    return list(seen.values())


def places_of(mentions: list[Mention]) -> list[str]:
    """Distinct places in order of first mention."""
    return list(dict.fromkeys(m.canonical for m in mentions if m.type == PLACE))


# --- step 1-2: runs and their pieces ----------------------------------------------------


def _tokens(text: str, run: re.Match) -> list[_Token]:
    start = run.start()
    return [
        _Token(word, start + offset, start + offset + len(word), key, is_acronym)
        for offset, word, key, is_acronym in _run_words(run.group())
    ]


@lru_cache(maxsize=RUN_CACHE_SIZE)
def _run_words(run: str) -> tuple[tuple[int, str, str, bool], ...]:
    """(offset, word, folded key, is an acronym) of each token of a run, possessives
    removed: computed once per distinct run, since the same runs recur in every article."""
    words = []
    for m in TOKEN.finditer(run):
        word = m.group()
        if word[-1:] in "s'’":
            word = POSSESSIVE.sub("", word)
        if word:
            words.append((m.start(), word, fold(word), word.isupper() and _is_acronym(word)))
    return tuple(words)


def _split_at_line_ends(text: str, tokens: list[_Token]) -> list[list[_Token]]:
    """A run may continue over a line break only in hard-wrapped prose, not after a short
    line such as a byline ("Rostislav Khotin" / "KIEV")."""
    groups = [tokens[:1]]
    for before, after in pairwise(tokens):
        if "\n" in text[before.end : after.start]:
            line_start = text.rfind("\n", 0, before.start) + 1
            if before.end - line_start < WRAPPED_LINE_CHARS:
                groups.append([])
        groups[-1].append(after)
    return [g for g in groups if g]


def _sentence_initial(text: str, start: int) -> bool:
    i = start - 1
    while i >= 0 and text[i] in " \t\"'“‘(«[•*-–—":
        i -= 1
    if i < 0:
        return True
    if text[i] == "\n":
        j = i - 1
        while j >= 0 and text[j] in " \t\r":
            j -= 1
        return j < 0 or text[j] in '\n.!?:;"”’)' or not text[j].isalnum()
    return text[i] in ".!?:;"


def _pieces_of_run(text: str, tokens: list[_Token], lex: Lexicon) -> list[_Piece]:
    if not tokens:
        return []
    run_start = tokens[0].start
    # "El Gobierno", "Die Bundesregierung": an article opens the run, so it names a thing
    # or an institution ("El Mundo"), never a person.
    determined = len(tokens) > 1 and _is_determiner(tokens, lex)
    if _sentence_initial(text, run_start):
        # "Arriving in ...", "Supported by ...": an ordinary word capitalised by position.
        while tokens and _is_ordinary_word(text, tokens[0], lex) and not _known_at(tokens, 0, lex):
            tokens.pop(0)
    pieces: list[_Piece] = []
    current: list[_Token] = []

    def flush() -> None:
        if not current:
            return
        for part in _split_connectors(current, lex):
            pieces.append(_Piece(part, after_role=_right_after_role(text, pieces, part)))
        current.clear()

    i = 0
    no_role_before = 0  # no role phrase starts before this token (see _role_phrase_end)
    while i < len(tokens):
        known = _known_at(tokens, i, lex)
        if (
            known
            and known[1] == PLACE
            and known[0] == i + 1
            and current
            and _opens_name(current[0], lex)
        ):
            known = None  # "Malivai Washington", "Jeff Wilson": a surname, not the place
        if known:
            flush()
            j, kind, canonical = known
            pieces.append(_Piece(tokens[i:j], kind, canonical, known=True))
            i = j
            continue
        role_end = None
        if i >= no_role_before:
            role_end, no_role_before = _role_phrase_end(tokens, i, lex)
        if role_end:
            flush()
            piece = _Piece(tokens[i:role_end], ROLE)
            last = tokens[role_end - 1].key
            lower = last in lex.lower_roles or last in lex.role_case_forms
            piece.lower_role = lower and last not in lex.roles
            if tokens[role_end - 1].key in lex.regnal:
                piece.regnal = tokens[role_end - 1].text
            pieces.append(piece)
            i = role_end
            continue
        token = tokens[i]
        is_connector = token.key in CONNECTOR_WORDS and not _capitalised(token)
        if token.key in lex.not_names and not token.is_acronym and not is_connector:
            flush()
        else:
            current.append(token)
        i += 1
    flush()
    if pieces and pieces[0].type is None:
        word_before = _word_before(text, run_start)
        pieces[0].after_role = _after_role(text, run_start, word_before, pieces[0], lex)
        pieces[0].after_descriptor = word_before in lex.org_descriptors
        pieces[0].after_determiner = determined
        pieces[0].after_connector = word_before in ROLE_COMPLEMENT_CONNECTORS
    elif len(pieces) > 1 and pieces[0].type == PLACE and pieces[1].type is None:
        # "министр иностранных дел Турции Мевлют Чавушоглу": a role, its country in the
        # genitive, then the name.
        word_before = _word_before(text, run_start)
        if _after_role(text, run_start, word_before, pieces[1], lex):
            pieces[1].after_role = _adjacent(text, pieces[0], pieces[1])
    for n, piece in enumerate(pieces):
        if piece.type is None:
            _classify(text, piece, lex)
        if piece.type == PERSON and n and pieces[n - 1].regnal and len(piece.tokens) == 1:
            piece.regnal = pieces[n - 1].regnal
    return [p for p in _merge_organisations(text, pieces) if p.type != ROLE]


def _right_after_role(text: str, pieces: list[_Piece], part: list[_Token]) -> bool:
    """Whether `part` follows a role directly ("Bundeskanzlerin Angela Merkel"), or a role
    and its place ("Prezydent Gdańska Aleksandra Dulkiewicz", "Президент Белоруссии
    Александр Лукашенко"), not across a connector ("die Gesundheitsminister der Länder")."""
    if len(pieces) > 1 and pieces[-1].type == PLACE and pieces[-2].type == ROLE:
        return (
            len(part) > 1
            and _adjacent(text, pieces[-2], pieces[-1])
            and _adjacent(text, pieces[-1], _Piece(part))
        )
    if not pieces or pieces[-1].type != ROLE:
        return False
    if pieces[-1].lower_role and len(part) < 2:
        return False  # "Глава Центробанка": a role's complement, not a surname
    return text[pieces[-1].tokens[-1].end : part[0].start].isspace()


def _after_role(text: str, start: int, word_before: str, piece: _Piece, lex: Lexicon) -> bool:
    """Whether a role comes just before the run starting at `start`."""
    if word_before in lex.role_case_forms and len(piece.tokens) < 2:
        return False  # "председателя Совета": the role's complement, not a name
    return _is_role(word_before, lex) or _role_before(text, start, lex)


def _adjacent(text: str, left: _Piece, right: _Piece) -> bool:
    """Only spaces between two pieces."""
    return text[left.tokens[-1].end : right.tokens[0].start].isspace()


# "La ministra de Sanidad, Carolina Darias": a role, its department, a comma, the name.
# Searched in a short window; a match never starts inside a word (the word's start would
# match further left), so the lookbehind and a possessive word skip the hopeless starts.
APPOSITION = re.compile(
    r"(?<![^\W\d_])([^\W\d_]++)(?:[ \t]+(?:de|del|des|du|di|da|do|della|dello|dei|der)"
    r"(?:[ \t]+(?:la|las|los|el|le|les))?[ \t]*(?:l['’][ \t]*)?"
    rf"(?:{UPPER}[\w'’-]*)(?:[ \t]+(?:y|e|et|und|{UPPER}[\w'’-]*)){{0,3}})?[ \t]*,[ \t]*$"
)
# A Russian role and its lower-case complement: "министр иностранных дел", "глава МИД".
ROLE_COMPLEMENT = re.compile(r"(?<![А-ЯЁа-яё-])([А-ЯЁа-яё-]++)((?:[ \t]+[а-яё-]++){1,2})[ \t]+$")


def _role_before(text: str, start: int, lex: Lexicon) -> bool:
    """A role just before a name, past what a plain word-before test cannot see: the
    department and comma of an apposition, or a Russian role's complement."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or not (text[i] == "," or "а" <= text[i] <= "я"):
        return False  # most runs: neither after a comma nor after a Russian word
    before = text[max(0, start - 60) : start]
    m = APPOSITION.search(before)
    if m and _is_role(fold(m.group(1)), lex):
        return True
    m = ROLE_COMPLEMENT.search(before)
    return (
        bool(m)
        and _is_role(fold(m.group(1)), lex)
        and not any(_is_role(w, lex) for w in map(fold, m.group(2).split()))
    )


def _is_determiner(tokens: list[_Token], lex: Lexicon) -> bool:
    """An article opening a run ("El Gobierno", "Die Bundesregierung"), unless both words
    open names ("Les Ferdinand") or the run is a known name ("La Paz")."""
    first = tokens[0]
    return (
        first.key in lex.determiners
        and not (first.key in lex.given_names and tokens[1].key in lex.given_names)
        and not _known_at(tokens, 0, lex)
    )


def _is_role(key: str, lex: Lexicon, opens: bool = True, compound: bool = True) -> bool:
    """A role or title word, or a German compound ending in one ("Außenministerin").
    Roles that French, Spanish, Italian or Russian write in lower case ("maire",
    "председатель") count only before a name or opening a run, never inside one
    ("Bruno Le Maire")."""
    return (
        key in lex.roles
        or key in lex.honorifics
        or (compound and len(key) > MIN_COMPOUND_ROLE and key.endswith(lex.role_suffixes))
        or (opens and (key in lex.lower_roles or key in lex.role_case_forms))
    )


def _is_ordinary_word(text: str, token: _Token, lex: Lexicon) -> bool:
    if token.is_acronym:
        return False
    if token.key in lex.not_names:
        return True
    return token.key not in lex.given_names and _in_lower_case(text, token.text.lower())


def _in_lower_case(text: str, word: str) -> bool:
    """Whether `text` has `word` as a whole word in lower case (a LOWER_WORD match)."""
    if not LOWER_WORD.fullmatch(word):
        return False
    return _lower_case_words(text).has(word)


class _LowerCaseWords:
    """Answers to "is this word in the text in lower case?" for one text. Only
    sentence-initial words are asked about, so scanning for a few words costs less than
    listing every lower-case word; but each scan may read the whole text (a word found
    only inside others), so after LOWER_CASE_SCANS of them the words are listed once."""

    def __init__(self, text: str):
        self.text = text
        self.answers: dict[str, bool] = {}
        self.words: frozenset[str] | None = None

    def has(self, word: str) -> bool:
        if self.words is not None:
            return word in self.words
        found = self.answers.get(word)
        if found is None:
            if len(self.answers) >= LOWER_CASE_SCANS:
                self.words = frozenset(m.group() for m in LOWER_WORD.finditer(self.text))
                return word in self.words
            found = self.answers[word] = self._scan(word)
        return found

    def _scan(self, word: str) -> bool:
        text = self.text
        start = text.find(word)
        while start >= 0:
            end = start + len(word)
            if not (start and WORD_CHAR.match(text, start - 1)) and not WORD_CHAR.match(text, end):
                return True
            start = text.find(word, start + 1)
        return False


@lru_cache(maxsize=1)
def _lower_case_words(text: str) -> _LowerCaseWords:
    """The answers for the text being read (a str caches its hash: a repeat is cheap)."""
    return _LowerCaseWords(text)


def _known_at(tokens: list[_Token], i: int, lex: Lexicon) -> tuple[int, str, str] | None:
    """The longest known name starting at tokens[i]: (end index, type, canonical)."""
    longest = lex.name_starts.get(tokens[i].key)
    if longest is None:
        return None
    for j in range(min(len(tokens), i + longest), i, -1):
        found = lex.known.get(" ".join([t.key for t in tokens[i:j]]))
        if found is None:
            continue
        kind, canonical, exact = found
        if exact is not None and exact != " ".join([t.text for t in tokens[i:j]]):
            continue
        if kind == PLACE and _name_particle(tokens, i, j):
            continue  # "Caroline van der Plas", "Van der Plas": not the Turkish city
        if (
            kind == PLACE
            and j == i + 1
            and tokens[i].key in lex.given_names
            and j < len(tokens)
            and _capitalised(tokens[j])
        ):
            continue  # "Jordan Henderson": a given name here, not the country
        return j, kind, canonical
    return None


def _name_particle(tokens: list[_Token], i: int, j: int) -> bool:
    """A one-word place that is a surname's particle here: written in lower case inside a
    run, or followed by another particle ("Van der Plas", "Van den Berg")."""
    if j != i + 1:
        return False
    if not _capitalised(tokens[i]):
        return True
    return (
        j < len(tokens) - 1
        and tokens[j].key in NAME_PARTICLES
        and not _capitalised(tokens[j])
        and _capitalised(tokens[j + 1])
    )


def _capitalised(token: _Token) -> bool:
    return token.text[:1].isupper()


def _role_phrase_end(tokens: list[_Token], i: int, lex: Lexicon) -> tuple[int | None, int]:
    """End of a role phrase starting at tokens[i] ("Deputy Foreign Minister", "Secretary of
    State for Near Eastern Affairs"), else None; and where the scan stopped. Between the
    phrase's end (or i) and that stop lie only role modifiers, so no phrase starts there:
    the caller skips them rather than scan a long run of modifiers once per word."""
    j, last_role = i, None
    while j < len(tokens):
        key = tokens[j].key
        # After a given name, "Dorfmeister" is a surname, not a compound role (the name is
        # looked for only before a word that would be one: most words are no role at all).
        if _is_role(key, lex, opens=j == i == 0, compound=False) or (
            _is_role(key, lex, opens=False) and not (j > 0 and _opens_name(tokens[j - 1], lex))
        ):
            last_role = j
        elif key in ("of", "for") and last_role == j - 1:
            department_end = _department_end(tokens, j + 1, lex)
            if department_end is None:
                break
            j = last_role = department_end - 1
        elif key not in lex.role_modifiers:
            break
        j += 1
    return (None if last_role is None else last_role + 1), j


def _department_end(tokens: list[_Token], i: int, lex: Lexicon) -> int | None:
    """End of "State", "Trade and Industry", "Near Eastern Affairs" after a role's "of"."""
    end = None
    for j in range(i, min(len(tokens), i + 5)):
        if tokens[j].key in lex.departments:
            end = j + 1
        elif not (_capitalised(tokens[j]) or tokens[j].key == "and"):
            break
    return end


def _word_before(text: str, start: int) -> str:
    """The folded lower-case word just before `start` ("spokesman Matteo Bruni"), or ""."""
    i = start - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    if i < 0 or not text[i].isalpha() or text[i].isupper():
        return ""
    m = LEFT_WORD.search(text, max(0, i - 30), i + 1)
    return fold(m.group()) if m and m.group()[0].islower() else ""


def _split_connectors(tokens: list[_Token], lex: Lexicon) -> list[list[_Token]]:
    """Keep "Bank of England" and "Securities and Exchange Commission" whole; cut "France
    and Germany", "Ross Perot of the Reform Party"; trim stray connectors at the ends."""
    if CONNECTOR_WORDS.isdisjoint([t.key for t in tokens]):
        return [list(tokens)] if tokens else []  # most names have no connector at all
    parts: list[list[_Token]] = [[]]
    for n, t in enumerate(tokens):
        if (
            (
                t.key in ORG_CONNECTORS
                and not _capitalised(t)
                and not _joins(parts[-1], t.key, tokens[n + 1 :], lex)
            )
            or _before_full_name(tokens, n, lex)
            or _before_home_town(tokens, n, lex)
        ):
            parts.append([])
            continue
        parts[-1].append(t)
    out = []
    for part in parts:
        while part and part[0].key in CONNECTOR_WORDS and not _capitalised(part[0]):
            part.pop(0)
        while part and part[-1].key in CONNECTOR_WORDS and not _capitalised(part[-1]):
            part.pop()
        if part:
            out.append(part)
    return out


def _before_full_name(tokens: list[_Token], n: int, lex: Lexicon) -> bool:
    """ "El PSOE de Pedro Sánchez", "il governo di Mario Draghi": a lower-case "de", "di",
    "da" after a name and before a given name and a surname parts two names ("Rebelo de
    Sousa" and "Lula da Silva" stay whole: "Sousa" and "Silva" open no name)."""
    t = tokens[n]
    if not (t.key in NAME_SPLITTING_CONNECTORS or t.key == "van"):
        return False  # nearly every token
    # The surname, past its particles: "De BoerBurgerBeweging van Caroline van der Plas".
    after = n + 2
    while after < len(tokens) - 1 and tokens[after].key in CONNECTOR_WORDS:
        after += 1
    return (
        (t.key in NAME_SPLITTING_CONNECTORS or t.key == "van")
        and not _capitalised(t)
        and 0 < n < len(tokens) - 2
        and _opens_name(tokens[n + 1], lex)
        and not _opens_name(tokens[after], lex)
        and _capitalised(tokens[after])
    )


def _before_home_town(tokens: list[_Token], n: int, lex: Lexicon) -> bool:
    """ "Burgemeester Femke Halsema van Amsterdam": a name, then where the person is from."""
    if tokens[n].key not in HOME_TOWN_CONNECTORS or n < 2 or _capitalised(tokens[n]):
        return False
    return " ".join([t.key for t in tokens[n + 1 :]]) in lex.major_places


def _joins(left: list[_Token], connector: str, right: list[_Token], lex: Lexicon) -> bool:
    """Whether `connector` between `left` and `right` belongs to an organisation's name."""
    if not left or not right:
        return False
    if connector in ("of", "for", "on"):
        return left[-1].key in lex.org_heads or left[-1].key in lex.org_suffixes
    if connector == "the":
        return left[-1].key in ("of", "for", "and")
    if connector == "and":
        rest = []
        for t in right:
            if t.key in ORG_CONNECTORS and not _capitalised(t):
                break
            rest.append(t)
        return (
            bool(rest)
            and rest[-1].key in lex.org_suffixes
            and not _opens_name(left[0], lex)
            and (len(left) == 1 or left[-1].key not in lex.org_suffixes)
        )
    return False


# --- step 3: typing by evidence ---------------------------------------------------------

# "in", "near", "from" in English and the languages Sift reads beyond it ("à Nantes",
# "nach Leipzig", "desde Sevilla", "в Казани").
LOCATIVE = re.compile(
    r"(?<!\w)(?i:in|near|at|from|to|outside|of|across|into|à|au|aux|en|dans|vers|de|nach|aus"
    r"|bei|desde|hacia|em|no|na|naar|uit|w|we|z|ze|в|во|из|под)[ \t]+(?:the[ \t]+)?$"
)
# A dateline opens a line: "Lille, 1er décembre 2020 –", "Alicante, jueves 9 de febrero".
DATELINE_PLACE = re.compile(r"[ \t]*,[ \t]+(?:\d|[^\W\d_]+[ \t]+\d|\w+\.?[ \t]+\(|le[ \t]+\d)")


def _classify(text: str, piece: _Piece, lex: Lexicon) -> None:
    """Type a piece by the evidence in and just before it; leave it undecided otherwise."""
    tokens = piece.tokens
    first, last = tokens[0], tokens[-1]
    if piece.after_determiner and len(tokens) == 2 and last.key in lex.org_suffixes:
        return  # "El Gobierno", "Die Bundesregierung": the government, not a name
    if len(tokens) == 1 and first.is_acronym:
        if _is_organisation_acronym(first, lex):
            piece.type = ORGANISATION
    elif len(tokens) == 1 and last.key in lex.org_suffixes:
        piece.suffix_only = True  # "Sudan" + "Airways": joined to what comes before, if anything
    elif last.key in lex.org_suffixes:
        piece.type = ORGANISATION
        if len(tokens) > 2 and first.key in lex.demonyms and tokens[1].key in lex.role_modifiers:
            piece.tokens = tokens[1:]  # "Russian Interior Ministry" is the "Interior Ministry"
    elif _is_organisation_name(text, piece, lex):
        piece.type = ORGANISATION
    elif last.key in lex.place_suffixes:
        return
    elif len(tokens) >= 2 and piece.key in lex.places and _is_place_phrase(text, piece, lex):
        piece.type, piece.canonical = PLACE, lex.places[piece.key]
    elif (
        len(tokens) >= 2
        and not piece.after_role
        and first.key in lex.places
        and _team_name(tokens[1:])
    ):
        piece.type = ORGANISATION
    elif _is_person_name(piece, lex):
        piece.type = PERSON
    elif len(tokens) == 1 and first.key in lex.places and _is_place_here(text, first, lex):
        piece.type, piece.canonical = PLACE, lex.places[first.key]  # "Genève" is Geneva
    elif len(tokens) == 1 and _german_genitive_place(text, first, lex):
        piece.type, piece.canonical = PLACE, lex.places[first.key[:-1]]


def _is_organisation_acronym(token: _Token, lex: Lexicon) -> bool:
    key = token.key
    return token.text.isalpha() and not (
        key in lex.not_org_acronyms or key in lex.places or key in lex.not_names
    )


def _is_organisation_name(text: str, piece: _Piece, lex: Lexicon) -> bool:
    """ "carmaker Toyota", "Ministry of ...", "Procter & Gamble", "the Senate"."""
    tokens = piece.tokens
    first = tokens[0]
    if piece.after_descriptor and len(tokens) <= 3 and piece.key not in lex.places:
        return True
    if first.key in lex.org_heads and len(tokens) > 2 and tokens[1].key in ("of", "for"):
        return True
    if "&" in [t.text for t in tokens]:
        return True
    return (
        len(tokens) == 1
        and first.key in lex.institutions
        and not _sentence_initial(text, first.start)
    )


def _is_place_here(text: str, token: _Token, lex: Lexicon) -> bool:
    """A major place anywhere; a small town's name only after "in", "near", "from"... or
    opening a dateline (otherwise "Clinton said" would be a town in Iowa)."""
    if token.key in lex.major_places:
        return True
    line_start = token.start == 0 or text[token.start - 1] == "\n"
    if line_start and DATELINE_PLACE.match(text, token.end):
        return True
    return bool(LOCATIVE.search(text, max(0, token.start - 20), token.start))


def _german_genitive_place(text: str, token: _Token, lex: Lexicon) -> bool:
    """ "Kanadas Premierminister", "Hamburgs Bürgermeister": a country or major city
    in the German genitive, before the noun it qualifies."""
    key = token.key
    return (
        key.endswith("s")
        and key[:-1] in lex.major_places
        and key not in lex.places
        and text[token.end : token.end + 1] == " "
        and text[token.end + 1 : token.end + 2].isupper()
    )


def _is_place_phrase(text: str, piece: _Piece, lex: Lexicon) -> bool:
    """A town named with an article ("La Grange", "Le Mans") only where a place is
    expected: "à la villa La Grange" is a house."""
    if not piece.after_determiner or piece.key in lex.major_places:
        return True
    return bool(LOCATIVE.search(text, max(0, piece.tokens[0].start - 20), piece.tokens[0].start))


def _team_name(tokens: list[_Token]) -> bool:
    """ "Braves", "Red Sox", "Blue Jays": a club after its city ("Atlanta Braves")."""
    return (
        len(tokens) <= 2
        and tokens[-1].text[-1:] in "sx"
        and all(_capitalised(t) and not t.is_acronym for t in tokens)
    )


INITIAL = re.compile(r"\w\.(?:\w\.)?")


def _is_person_name(piece: _Piece, lex: Lexicon) -> bool:
    """A role before it, or a given name (or initial) opening two to four words; never a
    phrase with a nationality or place in it ("West African", "German Anke Huber" is
    "Anke Huber" once the nationality is cut off)."""
    if piece.after_determiner:
        return False
    tokens = piece.tokens
    while len(tokens) > 1 and tokens[0].key in lex.demonyms:
        tokens = tokens[1:]
    if len(tokens) > MAX_NAME_WORDS and sum(t.key not in CONNECTOR_WORDS for t in tokens) > (
        MAX_NAME_WORDS
    ):
        return False  # "Luiz Inácio Lula da Silva" has four
    tokens = _without_leading_noun(piece, tokens, lex)
    if tokens[0].text[:1].islower() and ELIDED_LOWER.match(tokens[0].text):
        return False  # "ministro dell'Interno": a department, not a name
    for n, t in enumerate(tokens):
        if (
            t.key in lex.demonyms
            or (t.key in lex.affiliations and not (n == 0 and piece.after_role))
            or (t.is_acronym and not INITIAL.fullmatch(t.text))
        ):
            return False
    if piece.after_role:
        piece.tokens = _after_role_without_noun(tokens, lex)
        return True
    if len(tokens) >= 2 and _opens_name(tokens[0], lex) and tokens[-1].key not in lex.major_places:
        piece.tokens = tokens
        return True
    return False


def _without_leading_noun(piece: _Piece, tokens: list[_Token], lex: Lexicon) -> list[_Token]:
    """ "ministre de la Santé Olivier Véran", "presidente del Consiglio Mario Draghi",
    "Глава Центробанка Эльвира Набиуллина", "МИД Мария Захарова", "l'État Emmanuel
    Macron": a word that ends a role's complement, then a full name. Only after a
    connector, in Cyrillic, or with an elided article: in English such a word is part of
    a name ("Innisbrook Hilton Resort")."""
    if len(tokens) != 3 or not _opens_name(tokens[1], lex) or tokens[0].key in lex.places:
        return tokens
    first = tokens[0]
    if _opens_name(first, lex) and first.key not in lex.departments:
        return tokens
    if piece.after_connector or has_cyrillic(first.text) or ELIDED.match(first.text):
        return tokens[1:]
    return tokens


def _after_role_without_noun(tokens: list[_Token], lex: Lexicon) -> list[_Token]:
    """ "президентом Татарстана Рустамом Миннихановым", "Przewodniczący Platformy
    Obywatelskiej Donald Tusk": after a role, its complement (words that open no name),
    then the name; in Russian the given name may be unknown."""
    if len(tokens) == 3 and has_cyrillic(tokens[0].text) and not _opens_name(tokens[0], lex):
        return tokens[1:]
    if (
        len(tokens) > 2
        and _opens_name(tokens[-2], lex)
        and not any(_opens_name(t, lex) for t in tokens[:-2])
    ):
        return tokens[-2:]
    return tokens


def _opens_name(token: _Token, lex: Lexicon) -> bool:
    return (
        token.key in lex.given_names
        or bool(INITIAL.fullmatch(token.text))
        or _hyphenated_given_name(token.key, lex)
    )


def _hyphenated_given_name(key: str, lex: Lexicon) -> bool:
    """ "Jean-Luc", "Marie-Christine", "Hans-Joachim": given names joined by a hyphen."""
    if "-" not in key:
        return False
    parts = key.split("-")
    return len(parts) == 2 and all(part in lex.given_names for part in parts)


# "Bank of England", "Banco de España", "Banque de France", "Banca d'Italia".
ORG_PLACE_GAP = re.compile(r"\s+(?:of|for|de|del|du|des|di|della|do|da|van|von)\s+")


def _merge_organisations(text: str, pieces: list[_Piece]) -> list[_Piece]:
    """Join what an organisation's name spans: "New York" + "Stock Exchange",
    "Reserve Bank" + "of" + "India", "United Nations" + "General Assembly"."""
    out: list[_Piece] = []
    for piece in pieces:
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.suffix_only
            and piece.type == PLACE
            and has_cyrillic(piece.text)
            and text[prev.tokens[-1].end : piece.tokens[0].start].isspace()
        ):
            # "Банк России", "Правительство Москвы": Russian puts the place after the
            # organisation, in the genitive, where English says "Bank of Russia".
            out[-1] = _Piece(prev.tokens + piece.tokens, ORGANISATION)
            continue
        if (
            prev is not None
            and prev.type in (PLACE, ORGANISATION)
            and ((piece.type == ORGANISATION and not piece.known) or piece.suffix_only)
            and text[prev.tokens[-1].end : piece.tokens[0].start].isspace()
        ):
            out[-1] = _Piece(prev.tokens + piece.tokens, ORGANISATION)
            continue
        if (
            prev is not None
            and (prev.type == ORGANISATION or prev.suffix_only)
            and not prev.known
            and piece.type == PLACE
            and ORG_PLACE_GAP.fullmatch(text[prev.tokens[-1].end : piece.tokens[0].start])
        ):
            gap = text[prev.tokens[-1].end : piece.tokens[0].start]
            connector = _Token(
                gap.strip(), prev.tokens[-1].end + 1, piece.tokens[0].start - 1, gap.strip()
            )
            out[-1] = _Piece([*prev.tokens, connector, *piece.tokens], ORGANISATION)
            continue
        out.append(piece)
    return out


# --- step 4: resolution within the document ---------------------------------------------


PARTICLE = re.compile(rf"^(?:{_PREFIXES})[-'’]")
ELIDED = re.compile(r"^(?:l|d|dell|nell|all|dall|sull)['’]", re.IGNORECASE)
ELIDED_LOWER = re.compile(r"^(?:l|d|dell|nell|all|dall|sull)['’]")


def _name_keys(piece_or_text) -> list[str]:
    """Folded words of a name without particles: "al-Kuraishi" and "Kuraishi" meet."""
    words = (
        piece_or_text.split()
        if isinstance(piece_or_text, str)
        else [t.key for t in piece_or_text.tokens]
    )
    return [key for key in map(_name_key, words) if key not in CONNECTOR_WORDS]


@lru_cache(maxsize=RUN_CACHE_SIZE)
def _name_key(word: str) -> str:
    """A word's key without its particle, once per distinct word (names recur)."""
    return PARTICLE.sub("", fold(word))


def _resolve(text: str, pieces: list[_Piece], lex: Lexicon, deadline: Deadline | None) -> None:
    people: dict[str, list[tuple[list[str], str]]] = {}  # last name key -> [(name keys, canonical)]
    typed: dict[str, tuple[str, str]] = {}  # piece key -> (type, canonical) once decided
    acronyms: dict[str, str] = {}
    for number, p in enumerate(pieces):
        if deadline and number % BUDGET_CHECK_EVERY == 0 and deadline.check():
            return  # the pieces typed so far keep their names
        if p.type == PERSON and p.canonical is None:
            # "Михаилом Мишустиным" is filed by "мишустин", so "Мишустина" finds it.
            keys = _name_keys(nominative(p.text)) if has_cyrillic(p.text) else _name_keys(p)
            match = _person_for(keys, people) if len(keys) < 3 else None
            if match is None and len(keys) == 2 and p.tokens[0].text in COURTESY_INITIALS:
                match = _person_for(keys[1:], people)  # "M. Macron" is Monsieur Macron
            p.canonical = match or (f"{p.regnal} {p.text}" if p.regnal else p.text)
            if len(keys) >= 2 and not match:
                known = people.setdefault(keys[-1], [])
                if (keys, p.canonical) not in known:
                    known.append((keys, p.canonical))
        elif p.type == PERSON and p.known and has_cyrillic(p.text):
            # A Russian name the alias table knows ("Дмитрий Кулеба"): "Кулебы" is them.
            keys = _name_keys(nominative(p.text))
            if len(keys) >= 2:
                people.setdefault(keys[-1], []).append((keys, p.canonical or p.text))
        if p.type == ORGANISATION and p.canonical is None:
            p.canonical = p.text.rstrip(".")
            defined = ACRONYM_DEFINITION.match(text, p.tokens[-1].end)
            if defined and _is_initials(defined.group(1), p):
                acronyms[defined.group(1)] = p.canonical
    for p in pieces:
        if p.type in (PERSON, ORGANISATION, PLACE):
            typed.setdefault(p.key, (p.type, p.canonical))
    for number, p in enumerate(pieces):
        if deadline and number % BUDGET_CHECK_EVERY == 0 and deadline.check():
            return
        if (
            p.type is not None
            and p.type != PERSON
            and not (p.type == ORGANISATION and acronyms and p.text in acronyms)
        ):
            continue
        keys = _name_keys(p) if people else []  # no full name in the text to abbreviate
        person = _person_for(keys, people) if keys else None
        if person is None and len(keys) == 1 and has_cyrillic(p.text):
            person = _surname_in_any_case(p.tokens[-1].text, people)
        if person and (p.type is None or len(keys) < 3):
            p.type, p.canonical = PERSON, person
        elif acronyms and p.text in acronyms:
            p.type, p.canonical = ORGANISATION, acronyms[p.text]
        elif p.type is None and p.key in typed:
            p.type, p.canonical = typed[p.key]
        elif p.type is None and _speaks(text, p, lex):
            p.type, p.canonical = PERSON, p.text


def _speaks(text: str, piece: _Piece, lex: Lexicon) -> bool:
    """ "Bogdanov added", "said Maas": a short name that says something is a person."""
    tokens = piece.tokens
    if len(tokens) > 3:
        return False
    for t in tokens:
        if t.is_acronym or t.key in lex.demonyms or t.key in lex.places:
            return False
    if len(tokens) == 1 and _sentence_initial(text, tokens[0].start):
        return False  # "Officials said", "Analysts say"
    return bool(
        SAID_AFTER.match(text, tokens[-1].end)
        or SAID_BEFORE.search(text, max(0, tokens[0].start - 12), tokens[0].start)
    )


def _surname_in_any_case(word: str, people: dict[str, list[tuple[list[str], str]]]) -> str | None:
    """The full name a Russian surname alone abbreviates in whatever case it is in
    ("Мишустина", "Кулебы" after "Михаил Мишустин", "Дмитрием Кулебой")."""
    for candidate in surname_nominatives(word)[1:]:
        person = _person_for([_name_key(candidate)], people)
        if person:
            return person
    return None


def _person_for(keys: list[str], people: dict[str, list[tuple[list[str], str]]]) -> str | None:
    """The most recent full name that `keys` abbreviates ("Maas" -> "Heiko Maas")."""
    n = len(keys)
    for full, canonical in reversed(people.get(keys[-1], ()) if keys else ()):
        if n < len(full) and full[-n:] == keys:
            return canonical
    return None


def _is_initials(acronym: str, piece: _Piece) -> bool:
    letters = "".join(ch for ch in acronym if ch.isalpha()).upper()
    initials = "".join(t.text[0] for t in piece.tokens if _capitalised(t)).upper()
    return len(letters) >= 2 and (letters == initials or letters == initials.replace("O", "", 1))


def _mention(p: _Piece) -> Mention:
    start, end = p.tokens[0].start, p.tokens[-1].end
    return Mention(start, end, p.text, p.type, p.canonical or p.text)


# --- headlines: capitals and Title Case confirm what the body named ---------------------

# Words that only a Title Case headline capitalises in mid-line.
TITLE_CASE_WORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "with",
        "from",
        "by",
        "as",
        "is",
        "are",
        "was",
        "were",
        "will",
        "would",
        "says",
        "say",
        "said",
        "not",
        "into",
        "over",
        "after",
        "before",
        "up",
        "out",
        "be",
        "has",
        "have",
        "its",
    }
)


def _headline_lines(text: str, lex: Lexicon) -> list[tuple[int, int]]:
    """Lines in capitals, or in Title Case (function words capitalised: "NATO Chief Says
    Leaders Will Focus On Terrorism"), where capitals say nothing about names."""
    spans = []
    start = 0
    for line in text.split("\n"):
        words = line.split()
        if len(words) >= 3 and sum(map(str.islower, map(itemgetter(0), words))) <= 0.2 * len(words):
            shouting = not any(map(str.islower, line))
            if shouting or any(
                w.casefold() in TITLE_CASE_WORDS for w in words[1:] if w[:1].isupper()
            ):
                spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _inside(pos: int, spans: list[tuple[int, int]]) -> bool:
    """Whether `pos` lies in one of `spans` (in order, not overlapping)."""
    n = bisect_right(spans, (pos, float("inf"))) - 1
    return n >= 0 and pos < spans[n][1]


def _headline_mentions(
    text: str, runs: list[tuple[int, int, bool]], body: list[Mention], lex: Lexicon
) -> list[Mention]:
    """Names in headline runs that the body named, or that the alias and source tables know
    (short capitals such as "IS" only where the line is not all in capitals)."""
    if not runs:
        return []
    known: dict[str, tuple[str, str]] = {}
    for m in body:
        known.setdefault(" ".join(map(fold, m.text.split())), (m.type, m.canonical))
        known.setdefault(" ".join(map(fold, m.canonical.split())), (m.type, m.canonical))
    out = []
    for start, end, shouting in runs:
        words = [
            (m.start(), POSSESSIVE.sub("", m.group())) for m in TOKEN.finditer(text, start, end)
        ]
        keys = [fold(w) for _, w in words]
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + MAX_NAME_WORDS), i, -1):
                key = " ".join(keys[i:j])
                found = known.get(key)
                begin, finish = words[i][0], words[j - 1][0] + len(words[j - 1][1])
                if found is None and key in lex.known:
                    kind, canonical, exact = lex.known[key]
                    if exact is None or (not shouting and exact == text[begin:finish]):
                        found = (kind, canonical)
                if found:
                    out.append(Mention(begin, finish, text[begin:finish], *found))
                    i = j - 1
                    break
            i += 1
    return out
