import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.fusion._modalities import resolve_modalities


def _names(*groups):
    return np.array([f"{prefix}__f{i}" for prefix, n in groups for i in range(n)], dtype=object)


def test_auto_groups_columns_by_their_union_prefix_in_order():
    names = _names(("time", 3), ("spectrogram", 2))
    columns = resolve_modalities("auto", 5, names)
    assert list(columns) == ["time", "spectrogram"]
    np.testing.assert_array_equal(columns["time"], [0, 1, 2])
    np.testing.assert_array_equal(columns["spectrogram"], [3, 4])


def test_auto_handles_interleaved_prefixes():
    names = np.array(["b__x", "a__y", "b__z"], dtype=object)
    columns = resolve_modalities("auto", 3, names)
    assert list(columns) == ["b", "a"]
    np.testing.assert_array_equal(columns["b"], [0, 2])


@pytest.mark.parametrize("names", [None, np.array(["age", "hr", "qrs"], dtype=object)])
def test_auto_without_prefixes_is_one_modality(names):
    columns = resolve_modalities("auto", 3, names)
    assert list(columns) == ["features"]
    np.testing.assert_array_equal(columns["features"], [0, 1, 2])


def test_auto_refuses_partly_prefixed_names():
    with pytest.raises(ValueError, match="1 columns have no prefix"):
        resolve_modalities("auto", 3, np.array(["time__a", "time__b", "age"], dtype=object))


def test_dict_of_sizes_gives_consecutive_blocks():
    columns = resolve_modalities({"time": 2, "spectrogram": 3}, 5)
    np.testing.assert_array_equal(columns["time"], [0, 1])
    np.testing.assert_array_equal(columns["spectrogram"], [2, 3, 4])


@pytest.mark.parametrize("sizes", [{"time": 2, "spectrogram": 2}, {"time": 0, "spectrogram": 5}])
def test_dict_of_sizes_must_cover_the_columns(sizes):
    with pytest.raises(ValueError, match="add up"):
        resolve_modalities(sizes, 5)


def test_dict_of_column_names_and_positions():
    names = _names(("time", 2), ("spectrogram", 2))
    by_name = resolve_modalities({"s": ["spectrogram__f1", "spectrogram__f0"], "t": [0, 1]}, 4, names)
    np.testing.assert_array_equal(by_name["s"], [2, 3])
    np.testing.assert_array_equal(by_name["t"], [0, 1])


@pytest.mark.parametrize("modalities, names, match", [
    ({"a": [0, 1], "b": [1, 2]}, None, "in several modalities"),
    ({"a": [0], "b": [2]}, None, "in no modality"),
    ({"a": ["x"], "b": [1, 2]}, None, "no column names"),
    ({"a": ["nope"], "b": [0, 1, 2]}, np.array(["x", "y", "z"], dtype=object), "not in X"),
    ({"a": [0, 5], "b": [1, 2]}, None, "outside"),
    ({}, None, "at least one"),
])
def test_dict_errors_name_the_problem(modalities, names, match):
    with pytest.raises(ValueError, match=match):
        resolve_modalities(modalities, 3, names)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(1, 5), min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_every_column_lands_in_exactly_one_modality(sizes, random):
    n_features = sum(sizes)
    order = list(range(n_features))
    random.shuffle(order)
    names = np.empty(n_features, dtype=object)
    start = 0
    for k, size in enumerate(sizes):
        for j in order[start:start + size]:
            names[j] = f"m{k}__{j}"
        start += size
    columns = resolve_modalities("auto", n_features, names)
    assert sorted(np.concatenate(list(columns.values())).tolist()) == list(range(n_features))
    assert [len(columns[f"m{k}"]) for k in range(len(sizes))] == sizes
