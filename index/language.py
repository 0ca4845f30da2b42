"""Language identification: langdetect, seeded so the same text always gets the same code."""

from langdetect import DetectorFactory, LangDetectException, detect

from index.documents import UNDETERMINED

DetectorFactory.seed = 0

MIN_LETTERS = 20


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`, or "und" when it is too short to tell."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return UNDETERMINED
    try:
        return detect(text[:2000])
    except LangDetectException:
        return UNDETERMINED
