"""Facet values are listed by count, then name; the partition shortcut lists the same."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from search.facets import _top
from search.results import FacetValue


@given(
    st.lists(st.integers(0, 4), min_size=1, max_size=40),
    st.integers(1, 12),
    st.sets(st.integers(0, 39), max_size=3),
)
def test_top_values_equal_a_full_sort(counts, size, selected):
    values = [f"v{i % 7}-{i}" for i in range(len(counts))]
    selected = {vid for vid in selected if vid < len(counts)}
    array = np.array(counts)
    full = sorted(np.flatnonzero(array).tolist(), key=lambda vid: (-counts[vid], values[vid]))
    chosen = full[:size] + sorted(vid for vid in selected if vid not in full[:size])
    expected = [FacetValue(values[v], counts[v], v in selected) for v in chosen]
    assert _top(values, array, selected, size) == expected
