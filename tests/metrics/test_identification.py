import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.metrics import pairwise_distances

from sklearn_ecg.metrics import identification_accuracy

finite = st.floats(-10, 10, allow_nan=False, width=32)


@st.composite
def gallery_and_probes(draw):
    """Embeddings of patients with two records each (rows i and i + n)."""
    n = draw(st.integers(2, 8))
    embeddings = draw(arrays(np.float64, (2 * n, draw(st.integers(2, 5))), elements=finite))
    return embeddings, np.tile(np.arange(n), 2)


def _distinct(embeddings, metric="cosine"):
    distances = pairwise_distances(embeddings, metric=metric)
    return distances[~np.eye(len(embeddings), dtype=bool)].min() > 1e-6


@settings(max_examples=100, deadline=None)
@given(data=gallery_and_probes())
def test_identical_records_of_a_patient_are_always_identified(data):
    embeddings, groups = data
    n = len(groups) // 2
    embeddings[n:] = embeddings[:n]
    assume(_distinct(embeddings[:n]) and np.linalg.norm(embeddings, axis=1).min() > 1e-3)
    assert identification_accuracy(embeddings, groups) == 1.0


@settings(max_examples=100, deadline=None)
@given(data=gallery_and_probes(), seed=st.integers(0, 1000))
def test_invariant_to_the_order_of_the_records(data, seed):
    embeddings, groups = data
    n = len(groups) // 2
    gallery, probe = np.arange(n), np.arange(n, 2 * n)
    expected = identification_accuracy(embeddings, groups, gallery=gallery, probe=probe)
    order = np.random.default_rng(seed).permutation(2 * n)
    inverse = np.argsort(order)
    result = identification_accuracy(embeddings[order], groups[order], gallery=inverse[gallery],
                                     probe=inverse[probe])
    assert result == expected


@settings(max_examples=100, deadline=None)
@given(data=gallery_and_probes())
def test_top_k_is_monotone_and_reaches_one(data):
    embeddings, groups = data
    n = len(groups) // 2
    scores = [identification_accuracy(embeddings, groups, top_k=k) for k in range(1, n + 1)]
    assert all(0 <= a <= b <= 1 for a, b in zip(scores, scores[1:]))
    assert scores[-1] == 1.0


@settings(max_examples=50, deadline=None)
@given(data=gallery_and_probes())
def test_matches_a_loop_over_probes(data):
    embeddings, groups = data
    n = len(groups) // 2
    hits = 0
    for i in range(n, 2 * n):
        distances = pairwise_distances(embeddings[i:i + 1], embeddings[:n], metric="euclidean")[0]
        hits += np.sum(distances <= distances[groups[i]]) <= 1
    assert identification_accuracy(embeddings, groups, metric="euclidean") == hits / n


def test_hand_computed_case_with_several_gallery_records():
    embeddings = np.array([[1.0, 0.0], [0.0, 1.0], [0.7, 0.7], [0.9, 0.2], [0.1, 1.0], [0.75, 0.7]])
    groups = np.array(["a", "b", "a", "a", "b", "a"])
    # Probe 2 lies as near "a"'s record 0 as "b"'s record 1 (a tie, counted
    # against it) but nearest "a"'s record 5: a patient is as near as its
    # nearest gallery record.
    assert identification_accuracy(embeddings, groups, gallery=[0, 1], probe=[2, 4]) == 0.5
    assert identification_accuracy(embeddings, groups, gallery=[0, 1, 5], probe=[2, 4]) == 1.0
    gallery, probe = np.isin(np.arange(6), [0, 1, 5]), np.isin(np.arange(6), [2, 4])
    assert identification_accuracy(embeddings, groups, gallery=gallery, probe=probe) == 1.0


def test_ties_count_against_the_probe():
    embeddings = np.array([[1.0, 0.0], [1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    groups = np.array([0, 1, 0, 1])
    assert identification_accuracy(embeddings, groups) == 0.0
    assert identification_accuracy(embeddings, groups, top_k=2) == 1.0


@pytest.mark.parametrize("kwargs, match", [
    ({"gallery": [0, 1]}, "both gallery and probe, or neither"),
    ({"gallery": [0, 1], "probe": [1, 2]}, "share 1 records"),
    ({"gallery": [0], "probe": [3]}, "1 probe records belong to patients without a gallery record"),
    ({"gallery": [0, 9], "probe": [2]}, r"gallery indices must lie in \[0, 4\)"),
    ({"gallery": [], "probe": [2]}, "gallery is empty"),
    ({"gallery": [True, False], "probe": [2]}, r"boolean gallery mask must have shape \(4,\)"),
    ({"top_k": 0}, "top_k must be a positive integer"),
])
def test_bad_arguments_are_named(kwargs, match):
    embeddings, groups = np.eye(4), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=match):
        identification_accuracy(embeddings, groups, **kwargs)


def test_bad_embeddings_are_named():
    with pytest.raises(ValueError, match="NaN"):
        identification_accuracy(np.full((4, 2), np.nan), [0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"groups must have shape \(4,\)"):
        identification_accuracy(np.eye(4), [0, 1, 0])


def test_float32_embeddings_are_compared_in_float64():
    # Nearly parallel float32 embeddings: their float32 cosine distances tie.
    rng = np.random.default_rng(0)
    base = rng.random(64)
    gallery = (base + 1e-4 * rng.standard_normal((20, 64))).astype(np.float32)
    probe = (gallery + 1e-6 * rng.standard_normal((20, 64))).astype(np.float32)
    embeddings, groups = np.concatenate([gallery, probe]), np.tile(np.arange(20), 2)
    assert identification_accuracy(embeddings, groups) == 1.0
