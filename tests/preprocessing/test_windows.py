import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_ecg.preprocessing import WindowCropper


@pytest.mark.parametrize("position, expected", [
    ("start", [0, 1, 2, 3]), ("center", [1, 2, 3, 4]),
])
def test_window_cropper_crops(position, expected):
    X = np.arange(7.0).reshape(1, 1, 7)
    np.testing.assert_array_equal(WindowCropper(4, position=position).fit_transform(X)[0, 0], expected)



@pytest.mark.parametrize("position, expected", [
    ("start", [0, 1, 2, 0, 0, 0]), ("center", [0, 0, 1, 2, 0, 0]),
])
def test_window_cropper_pads(position, expected):
    X = np.arange(3.0).reshape(1, 1, 3)
    np.testing.assert_array_equal(WindowCropper(6, position=position).fit_transform(X)[0, 0], expected)



def test_window_cropper_rejects_bad_window():
    with pytest.raises(InvalidParameterError, match="window"):
        WindowCropper(0).fit(np.zeros((1, 1, 5)))
