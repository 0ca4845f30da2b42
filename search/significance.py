"""Which values are over-represented in a subset: Elasticsearch's significant_terms JLH.

JLH = (fg% - bg%) * (fg% / bg%): large when a value is both much more common in the
foreground than in the background and common enough in the foreground to matter; zero or
below when it is no more common than chance would make it.
"""

from __future__ import annotations

import numpy as np

# A value must be in this many foreground documents to count (Elasticsearch's
# min_doc_count is 3); in small foregrounds, where that would leave nothing, one will do.
MIN_COUNT = 2
SMALL_FOREGROUND = 20


def jlh(fg: np.ndarray, fg_total: int, bg: np.ndarray, bg_total: int) -> np.ndarray:
    """JLH score of each value from its foreground and background document counts."""
    fg_pct = fg / max(fg_total, 1)
    bg_pct = np.maximum(bg, fg) / max(bg_total, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        score = (fg_pct - bg_pct) * np.where(bg_pct > 0, fg_pct / bg_pct, 0.0)
    return np.nan_to_num(score)


def significant(
    fg: np.ndarray, fg_total: int, bg: np.ndarray, bg_total: int, limit: int
) -> list[tuple[int, int, float]]:
    """(value index, foreground count, score) of the most significant values, strongest
    first (ties by index), keeping only values above chance."""
    least = 1 if fg_total < SMALL_FOREGROUND else MIN_COUNT
    scores = jlh(fg, fg_total, bg, bg_total)
    wanted = np.flatnonzero((fg >= least) & (scores > 0))
    order = wanted[np.lexsort((wanted, -scores[wanted]))][:limit]
    return [(int(i), int(fg[i]), round(float(scores[i]), 4)) for i in order]
