"""Language identification: seeded langdetect on a bounded sample of running text.

The sample is the text's prose lines (at most `SAMPLE_CHARS` characters): headlines,
tables, tickers and lists say little about a language and mislead detectors (langdetect
called one in ten Reuters earnings tables German or Swedish). A text without running text,
or with too few letters in it to tell, is "und".

langdetect (seeded, so the same text always gets the same answer) costs about 3 ms a call
whatever the length, which alone would cap ingest near 300 documents/s; so a screen
answers first when the sample's function words leave no doubt: at least
`SCREEN_MIN_WORDS` words, of which at least `SCREEN_MIN_HITS` and 8 % are function words
of one language, with four times as many as any other language's. On Reuters-21578 the
screen agrees with langdetect wherever it answers (benchmarks/extraction.py measures it).
langdetect decides the rest, and "und" is kept when it is not confident.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from operator import itemgetter

from langdetect import DetectorFactory, LangDetectException, detect_langs
from langdetect.detector_factory import init_factory

from index.documents import UNDETERMINED

DetectorFactory.seed = 0

SAMPLE_CHARS = 1000
MIN_LETTERS = 40
# langdetect is asked only with this much running text: below it, it is both slow
# (about 6 ms a call) and unreliable (notes: 80 % on three-word fragments).
LANGDETECT_MIN_LETTERS = 100
MIN_PROBABILITY = 0.80
SCREEN_MIN_WORDS = 8
SCREEN_MIN_HITS = 3
SCREEN_MIN_SHARE = 0.08
SCREEN_MIN_LEAD = 4.0  # the leader needs this many times the runner-up's function words
# A prose line: enough words, most starting in lower case (or, for scripts without
# capitals such as Chinese or Arabic, enough letters).
PROSE_MIN_WORDS = 8
PROSE_MIN_UNCASED_LETTERS = 30

# Frequent function words that are not also frequent words of the other languages listed.
FUNCTION_WORDS = {
    "en": "the of and to is that for was with by as from have has are this which will be "
    "its it were been would their said but not they he she who after about",
    "de": "der die und das ist nicht mit den von zu sich des auf für ein eine im dem auch "
    "es wird wurde sind bei nach über oder werden haben hat noch wie",
    "fr": "le les et est une du dans que qui pour pas au sur avec il ce sont ont mais "
    "aux été leur cette comme plus elle ses nous",
    "es": "el los las y que en una por con para del se es al lo su como más pero sus "
    "fue ha han este esta entre también",
    "it": "il di che è gli della delle del per non sono con nel alla anche come più "
    "dei una stato ha hanno questo essere",
    "nl": "het een van en is dat op niet met voor zijn te die ook aan wordt er worden "
    "bij naar heeft door maar nog werd",
    "pt": "os do da em um uma para com não por dos das na ao é foi mais mas "
    "também pelo pela ser está são",
    "ru": "и в не на что с по это как из к за для от о но он она они его был была было "
    "также уже только при",
}


def _exclusive_words() -> dict[str, str]:
    seen: dict[str, str | None] = {}
    for lang, words in FUNCTION_WORDS.items():
        for word in words.split():
            seen[word] = None if word in seen else lang
    return {word: lang for word, lang in seen.items() if lang}


LANGUAGE_OF_WORD = _exclusive_words()
WORD = re.compile(r"[^\W\d_]+")
# WORD for lower-case ASCII text: the same words, without Unicode category look-ups.
ASCII_WORD = re.compile(r"[a-z]+")
LETTER = re.compile(r"[^\W\d_]")
ASCII_LETTERS = string.ascii_letters.encode("ascii")  # LETTER in ASCII text
# Letters of scripts without capitals: Hebrew, Arabic, Indic, Thai, Georgian, CJK, Hangul.
UNCASED = re.compile(
    r"[\u0590-\u08ff\u0900-\u0dff\u0e00-\u0eff\u10d0-\u10ff\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]"
)


def _is_running_text(line: str) -> bool:
    initials = list(map(itemgetter(0), line.split()))
    words = sum(map(str.isalpha, initials))
    if words >= PROSE_MIN_WORDS and sum(map(str.islower, initials)) * 2 >= words:
        return True
    return (
        len(line) >= PROSE_MIN_UNCASED_LETTERS
        and len(UNCASED.findall(line)) >= PROSE_MIN_UNCASED_LETTERS
    )


def running_text(text: str) -> str:
    """The prose lines of `text`, joined, up to SAMPLE_CHARS characters."""
    lines, size = [], 0
    for line in text.splitlines():
        if _is_running_text(line):
            lines.append(line.strip())
            size += len(line)
            if size >= SAMPLE_CHARS:
                break
    return "\n".join(lines)[:SAMPLE_CHARS]


def screen(sample: str) -> str | None:
    """The language whose function words clearly dominate `sample`, else None."""
    sample = sample.lower()
    words = (ASCII_WORD if sample.isascii() else WORD).findall(sample)
    if len(words) < SCREEN_MIN_WORDS:
        return None
    counts = Counter(filter(None, map(LANGUAGE_OF_WORD.get, words)))
    if not counts:
        return None
    (leader, hits), *rest = counts.most_common(2)
    runner_up = rest[0][1] if rest else 0
    if (
        hits >= max(SCREEN_MIN_HITS, SCREEN_MIN_SHARE * len(words))
        and hits >= SCREEN_MIN_LEAD * runner_up
    ):
        return leader
    return None


def load_profiles() -> None:
    """Load langdetect's 55 language profiles now (about 0.3 s of CPU) rather than on the
    first text the screen cannot decide: before forking ingest workers, so they share one
    copy instead of each loading its own."""
    init_factory()


def _count_letters(text: str) -> int:
    """How many LETTER characters `text` has. In ASCII text (nearly all news) those are
    a-z and A-Z, and deleting them from the bytes is far cheaper than a regex listing them."""
    if text.isascii():
        return len(text) - len(text.encode("ascii").translate(None, ASCII_LETTERS))
    return len(LETTER.findall(text))


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`, or "und" when it is too short or too mixed to tell."""
    sample = running_text(text)
    letters = _count_letters(sample)
    if letters < MIN_LETTERS:
        return UNDETERMINED
    screened = screen(sample)
    if screened:
        return screened
    if letters < LANGDETECT_MIN_LETTERS:
        return UNDETERMINED
    try:
        best = detect_langs(sample)[0]
    except LangDetectException:
        return UNDETERMINED
    if best.prob < MIN_PROBABILITY:
        return UNDETERMINED
    return best.lang.split("-")[0]
