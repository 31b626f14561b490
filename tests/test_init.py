import subprocess
import sys

import pytest

import sklearn_ecg


@pytest.mark.parametrize("name", sklearn_ecg.__all__)
def test_public_names_resolve_to_their_subpackage(name):
    obj = getattr(sklearn_ecg, name)
    module = sklearn_ecg._PUBLIC[name]
    assert obj is getattr(__import__(f"sklearn_ecg.{module}", fromlist=[name]), name)


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = sklearn_ecg.Nope


def test_metrics_and_datasets_do_not_import_torch():
    code = "import sklearn_ecg.metrics, sklearn_ecg.datasets, sys; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
