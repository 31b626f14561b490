import os

import numpy as np
import pytest

from sklearn_ecg.datasets import _cache
from sklearn_ecg.datasets._cache import (
    cache_key,
    create_array,
    list_files,
    load_cache,
    save_cache,
)


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    for name in ("B1.hea", "B1.mat", "sub/A1.hea", "sub/A1.mat"):
        (root / name).write_bytes(b"x" * 10)
    (root / "README.md").write_text("not data")
    return root


def _arrays():
    return {
        "y": np.array([[0, 1], [1, 0]], dtype=np.uint8),
        "names": np.array(["A1", "B1"]),
        "age": np.array([np.nan, 61.0]),
    }


def test_list_files_is_recursive_sorted_and_case_insensitive(folder):
    (folder / "C1.HEA").write_text("upper-case suffix")
    found = [p.relative_to(folder).as_posix() for p in list_files(folder, (".hea",))]
    assert found == ["B1.hea", "C1.HEA", "sub/A1.hea"]


def test_key_is_stable_and_depends_on_params(folder):
    key = cache_key(folder, {"fs": 100})
    assert key == cache_key(folder, {"fs": 100})
    assert len(key) == 32
    assert key != cache_key(folder, {"fs": 500})
    assert key != cache_key(folder, {"fs": 100, "version": 2})


@pytest.mark.parametrize(
    "change",
    [
        lambda root: (root / "B1.mat").write_bytes(b"y" * 11),  # size
        lambda root: os.utime(root / "sub/A1.hea", ns=(0, 10**18)),  # mtime only
        lambda root: (root / "sub/A2.hea").write_text("new record"),  # added
        lambda root: (root / "B1.mat").unlink(),  # removed
        lambda root: (root / "B1.mat").rename(root / "B2.mat"),  # renamed
    ],
    ids=["size", "mtime", "added", "removed", "renamed"],
)
def test_key_changes_with_the_data_files(folder, change):
    before = cache_key(folder, {"fs": 100})
    change(folder)
    assert cache_key(folder, {"fs": 100}) != before


def test_key_ignores_other_files(folder):
    before = cache_key(folder, {"fs": 100})
    (folder / "README.md").write_text("edited notes")
    (folder / "index.csv").write_text("record\n")
    assert cache_key(folder, {"fs": 100}) == before


def test_round_trip_gives_a_read_only_memmap(tmp_path):
    X = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    stored = save_cache(tmp_path / "cache", "k1", X, _arrays())
    loaded, arrays = load_cache(tmp_path / "cache", "k1")
    for result in (stored, loaded):
        assert isinstance(result, np.memmap)
        assert not result.flags.writeable
        assert result.dtype == np.float32
        np.testing.assert_array_equal(result, X)
    assert set(arrays) == set(_arrays())
    for name, value in _arrays().items():
        np.testing.assert_array_equal(arrays[name], value)
        assert arrays[name].dtype == value.dtype
    with pytest.raises(ValueError, match="read-only"):
        loaded[0, 0, 0] = 1.0


def test_array_filled_in_place_is_moved_into_the_entry(tmp_path):
    X = create_array(tmp_path, (3, 2, 5))
    assert X.flags.writeable and not X.any()
    X[1] = 7.0
    X.flush()
    path = X.filename
    del X
    stored = save_cache(tmp_path, "k", path, _arrays())
    assert not os.path.exists(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["physionet_k.npy", "physionet_k.npz"]
    expected = np.zeros((3, 2, 5), np.float32)
    expected[1] = 7.0
    loaded, _ = load_cache(tmp_path, "k")
    for result in (stored, loaded):
        assert not result.flags.writeable
        np.testing.assert_array_equal(result, expected)


def test_missing_or_damaged_entries_are_misses(tmp_path):
    X = np.ones((5, 12, 100), dtype=np.float32)
    assert load_cache(tmp_path, "absent") is None
    save_cache(tmp_path, "k", X, _arrays())
    array_path, side_path = tmp_path / "physionet_k.npy", tmp_path / "physionet_k.npz"
    assert load_cache(tmp_path, "k") is not None

    array_path.write_bytes(array_path.read_bytes()[:1000])  # truncated signal file
    assert load_cache(tmp_path, "k") is None

    save_cache(tmp_path, "k", X, _arrays())
    side_path.write_bytes(b"not a zip file")
    assert load_cache(tmp_path, "k") is None

    save_cache(tmp_path, "k", X, _arrays())
    side_path.unlink()
    assert load_cache(tmp_path, "k") is None


def test_side_file_of_another_shape_is_a_miss(tmp_path):
    save_cache(tmp_path, "k", np.zeros((3, 2, 2), np.float32), _arrays())
    side = (tmp_path / "physionet_k.npz").read_bytes()
    save_cache(tmp_path, "k", np.zeros((4, 2, 2), np.float32), _arrays())
    (tmp_path / "physionet_k.npz").write_bytes(side)
    assert load_cache(tmp_path, "k") is None


def test_interrupted_write_keeps_the_old_entry_and_leaves_no_temp_file(tmp_path, monkeypatch):
    old = np.zeros((2, 2, 2), np.float32)
    save_cache(tmp_path, "k", old, _arrays())

    def crash(file, array, allow_pickle):
        file.write(b"\x93NUMPY partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(_cache.np, "save", crash)
    with pytest.raises(KeyboardInterrupt):
        save_cache(tmp_path, "k", np.ones((2, 2, 2), np.float32), _arrays())
    monkeypatch.undo()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["physionet_k.npy", "physionet_k.npz"]
    X, _ = load_cache(tmp_path, "k")
    np.testing.assert_array_equal(X, old)


def test_object_arrays_are_refused(tmp_path):
    codes = np.empty(1, dtype=object)
    codes[0] = ("1", "2")
    with pytest.raises(TypeError, match="'codes' has object dtype"):
        save_cache(tmp_path, "k", np.zeros((1, 1, 1), np.float32), {"codes": codes})
    assert list(tmp_path.iterdir()) == []
