"""Fixtures of the command-line tests: unwritable places, checks that no work was done."""

import contextlib
import subprocess

import pytest

from sklearn_ecg.cli import _records


@pytest.fixture
def no_loading(monkeypatch):
    """Make loading records fail the test: what must fail before any work fails before loading."""

    def load(*args, **kwargs):
        raise AssertionError("records were loaded before the bad option or output was reported")

    monkeypatch.setattr(_records, "load_folders", load)
    monkeypatch.setattr(_records, "make_synthetic_ecg", load)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder that refuses new files, also to root (who ignores permission bits: immutable then)."""
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    immutable = _accepts_files(folder) and _chattr(folder, "+i")
    if _accepts_files(folder):
        pytest.skip("cannot make a folder read-only here")
    yield folder
    if immutable:
        _chattr(folder, "-i")
    folder.chmod(0o755)


def _accepts_files(folder):
    try:
        (folder / "probe").touch()
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


def _chattr(folder, flag):
    with contextlib.suppress(OSError):
        return subprocess.run(["chattr", flag, str(folder)], capture_output=True, check=False).returncode == 0
    return False

