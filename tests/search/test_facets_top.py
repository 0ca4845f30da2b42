"""Facet values are listed by count, then name; the partition shortcut lists the same, and
years counted by bincount are np.unique's."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from search.facets import _count_years, top_values
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
    assert top_values(values, array, selected, size) == expected


@given(st.lists(st.integers(1900, 2100), max_size=60), st.sampled_from([np.int32, np.int64]))
def test_years_counted_as_np_unique_counts_them(years, dtype):
    array = np.array(years, dtype=dtype)
    expected_years, expected_counts = np.unique(array, return_counts=True)
    found_years, found_counts = _count_years(array)
    assert found_years.tolist() == expected_years.tolist()
    assert found_counts.tolist() == expected_counts.tolist()
    assert (found_years.dtype, found_counts.dtype) == (expected_years.dtype, expected_counts.dtype)
