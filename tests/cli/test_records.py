import logging

import numpy as np
import pytest
from _cli_helpers import DURATION, FS, write_wfdb

from sklearn_ecg.cli._records import NAMED_RECORDS, report_load
from sklearn_ecg.datasets import load_folders, make_synthetic_ecg


def test_many_problems_are_named_up_to_a_limit_then_counted(tmp_path, caplog):
    n = NAMED_RECORDS + 2
    signals = make_synthetic_ecg(2 * n, fs=FS, duration=DURATION, random_state=0).X
    for i, signal in enumerate(signals):
        if i >= n:
            signal[:3] = 0  # all-zero leads I, II, III
        write_wfdb(tmp_path / "records", f"r{i:02d}", signal)
    for i in range(n):
        (tmp_path / "records" / f"r{i:02d}.dat").unlink()
    # The loader's own summaries, which the command line words anew.
    with pytest.warns(UserWarning, match="Skipped 7"), pytest.warns(UserWarning, match="all-zero lead"):
        data = load_folders(tmp_path / "records", labels=None, fs=FS, duration=DURATION, on_error="skip")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklearn_ecg.cli"):
        report_load(data)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 * (NAMED_RECORDS + 1)
    assert all(line.startswith("sklearn-ecg: warning: skipped record r0") for line in lines[:NAMED_RECORDS])
    assert lines[NAMED_RECORDS] == f"sklearn-ecg: warning: skipped 2 more records ({n} in all)"
    zero_lines = lines[NAMED_RECORDS + 1:]
    assert [line.split()[3] for line in zero_lines[:-1]] == [f"r{i:02d}:" for i in range(n, n + NAMED_RECORDS)]
    assert all("3 of its leads are all zeros" in line for line in zero_lines[:-1])
    assert zero_lines[-1] == f"sklearn-ecg: warning: 2 more records have all-zero leads ({n} in all)"
    assert not any("metadata" in line for line in lines)
    np.testing.assert_array_equal(data.metadata["n_zero_leads"], 3)
