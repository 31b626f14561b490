import json

import numpy as np
import pytest

from sklearn_ecg.classes import NORMAL_CLASS, code_names, scored_classes


@pytest.mark.parametrize("year, n_classes", [(2020, 24), (2021, 26)])
def test_scored_classes_sizes_and_normal_class(year, n_classes):
    table = scored_classes(year)
    assert table.n_classes == n_classes
    assert table.weights.shape == (n_classes, n_classes)
    assert NORMAL_CLASS in table.classes
    np.testing.assert_array_equal(np.diag(table.weights), 1.0)
    np.testing.assert_array_equal(table.weights, table.weights.T)


@pytest.mark.parametrize(
    "year, code, representative",
    [
        (2020, "59118001", "713427006"),
        (2020, "63593006", "284470004"),
        (2020, "17338001", "427172004"),
        (2021, "164909002", "733534002"),
        (2021, "59118001", "713427006"),
    ],
)
def test_equivalent_codes_map_to_representative(year, code, representative):
    table = scored_classes(year)
    assert table.equivalent[code] == representative
    assert code not in table.classes
    assert table.index_of(code) == table.classes.index(representative)


def test_lbbb_is_its_own_class_in_2020():
    assert scored_classes(2020).equivalent["164909002"] == "164909002"


def test_unscored_code_has_no_index():
    table = scored_classes(2020)
    assert table.index_of("195042002") is None  # 2nd degree AV block: unscored
    assert code_names()["195042002"] == "IIAVB"


def test_weights_are_read_only():
    with pytest.raises(ValueError):
        scored_classes(2020).weights[0, 0] = 0.0


def test_unknown_year():
    with pytest.raises(ValueError, match="year must be one of"):
        scored_classes(2019)


def test_class_order_matches_official_scorer(reference_dir):
    cases = json.loads((reference_dir / "cinc" / "metric_cases_2020.json").read_text())
    assert tuple(cases["classes"]) == scored_classes(2020).classes
    assert cases["normal_class"] == NORMAL_CLASS


def test_column_codes_given_table_or_unnamed():
    from sklearn_ecg.classes import column_codes

    np.testing.assert_array_equal(column_codes(["a", "b"], 2), ["a", "b"])
    assert tuple(column_codes(None, 24, year=2020)) == scored_classes(2020).classes
    np.testing.assert_array_equal(column_codes(None, 3), [0, 1, 2])
    with pytest.raises(ValueError, match="classes names 2 classes but Y has 3 columns"):
        column_codes(["a", "b"], 3, target_name="Y")
