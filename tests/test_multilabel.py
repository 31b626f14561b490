import numpy as np
import pandas as pd
import pytest

from sklearn_ecg._multilabel import classes_without_positives, estimator_target, target_classes

CODES = ["164889003", "164890007", "426783006"]


def _frame(columns):
    return pd.DataFrame(np.eye(3, dtype=int), columns=columns)


def test_a_dataframe_names_its_classes():
    np.testing.assert_array_equal(target_classes(_frame(CODES), None), CODES)
    assert target_classes(_frame(CODES), CODES) == CODES
    assert target_classes(_frame([164889003, 164890007, 426783006]), CODES) == CODES  # codes as numbers
    # Arrays, and DataFrames with the default columns 0 .. n - 1, name nothing.
    assert target_classes(np.eye(3), None) is None and target_classes(np.eye(3), CODES) == CODES
    assert target_classes(pd.DataFrame(np.eye(3)), CODES) == CODES


@pytest.mark.parametrize("columns, match", [
    (CODES[::-1], "the same classes in another order; reorder the columns to match"),
    (CODES[:2] + ["270492004"], "classes has 426783006 that Y lacks, and Y has 270492004 that classes lacks"),
])
def test_dataframe_columns_that_disagree_with_classes_are_refused(columns, match):
    with pytest.raises(ValueError, match=match):
        target_classes(_frame(columns), CODES)
    with pytest.raises(ValueError, match="columns of the DataFrame y"):
        target_classes(_frame(columns), CODES, target_name="y")


def test_inner_estimators_get_a_dataframe_as_given():
    Y = np.eye(3, dtype=bool)
    given = _frame(CODES).set_index(pd.Index([7, 8, 9]))
    target = estimator_target(Y, given)
    assert isinstance(target, pd.DataFrame) and list(target.columns) == CODES and list(target.index) == [7, 8, 9]
    assert (target.dtypes == np.int64).all()
    assert estimator_target(Y, Y).dtype == np.int64


def test_classes_without_positives_warn_naming_them_and_no_positive_at_all_raises(recwarn):
    Y = np.array([[1, 0, 0], [1, 0, 0]], dtype=bool)
    with pytest.warns(UserWarning, match="2 of 3 classes have no positive record.*164890007, 426783006"):
        np.testing.assert_array_equal(classes_without_positives(Y, CODES), [False, True, True])
    recwarn.clear()
    assert not classes_without_positives(np.eye(3, dtype=bool), CODES).any() and not recwarn.list
    with pytest.raises(ValueError, match=r"Y has no positive label at all \(all 2 records x 3 classes"):
        classes_without_positives(np.zeros((2, 3), dtype=bool), CODES)
