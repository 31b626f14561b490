import csv
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.model_selection import GalleryProbeSplit


def _split(groups, **params):
    splits = list(GalleryProbeSplit(**params).split(np.zeros((len(groups), 1)), groups=groups))
    assert len(splits) == GalleryProbeSplit(**params).get_n_splits() == 1
    return splits[0]


@settings(max_examples=100, deadline=None)
@given(groups=st.lists(st.integers(0, 6), min_size=2, max_size=30), n_probes=st.sampled_from([1, 2, None]))
def test_first_record_to_gallery_next_ones_to_probe(groups, n_probes):
    groups = np.array(groups)
    if np.bincount(groups).max() < 2:
        with pytest.raises(ValueError, match="No patient has two or more records"):
            _split(groups, n_probes=n_probes)
        return
    gallery, probe = _split(groups, n_probes=n_probes)
    assert np.all(np.diff(gallery) > 0) and np.all(np.diff(probe) > 0)
    assert not np.intersect1d(gallery, probe).size
    for patient in np.unique(groups):
        rows = np.flatnonzero(groups == patient)
        if len(rows) < 2:
            assert not np.isin(rows, np.concatenate([gallery, probe])).any()
            continue
        np.testing.assert_array_equal(gallery[groups[gallery] == patient], rows[:1])
        last = len(rows) if n_probes is None else 1 + n_probes
        np.testing.assert_array_equal(probe[groups[probe] == patient], rows[1:last])


def test_ptbxl_dev_patients_first_record_to_gallery(dev_data_dir):
    database = dev_data_dir.parent / "ptbxl-dev" / "ptbxl_database.csv"
    if not database.is_file():
        pytest.skip(f"PTB-XL development records not found at {database.parent}")
    with open(database, newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda row: int(row["ecg_id"]))
    patients = np.array([row["patient_id"] for row in rows])
    ecg_ids = np.array([int(row["ecg_id"]) for row in rows])
    counts = Counter(patients)
    gallery, probe = _split(patients)
    assert len(gallery) == len(probe) == sum(n >= 2 for n in counts.values()) >= 20
    assert len(_split(patients, n_probes=None)[1]) == sum(n - 1 for n in counts.values() if n >= 2)
    first_ecg = {patient: ecg_ids[patients == patient].min() for patient in counts}
    assert all(ecg_ids[i] == first_ecg[patients[i]] for i in gallery)
    assert all(ecg_ids[i] > first_ecg[patients[i]] for i in probe)


@pytest.mark.parametrize("params, groups, match", [
    ({"n_probes": 0}, [1, 1], "n_probes must be a positive integer or None"),
    ({}, None, "needs groups"),
    ({}, [1, 1, 2], r"groups must have shape \(2,\)"),
])
def test_bad_arguments_are_named(params, groups, match):
    with pytest.raises(ValueError, match=match):
        next(GalleryProbeSplit(**params).split(np.zeros((2, 1)), groups=groups))


def test_repr():
    assert repr(GalleryProbeSplit(n_probes=None)) == "GalleryProbeSplit(n_probes=None)"
