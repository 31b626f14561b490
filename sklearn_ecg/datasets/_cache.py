"""On-disk cache of loaded datasets: a memory-mapped ``.npy`` plus a side file.

An entry is two files named by a key: ``<prefix>_<key>.npy`` holds the
signal array, read back with ``np.load(mmap_mode="r")`` so that a cached
load costs almost no memory and time whatever the size of the data, and
``<prefix>_<key>.npz`` holds the small arrays (labels, metadata), stored
without pickle so that loading a cache never runs code.

The key hashes the loader's parameters and the relative path, size and
modification time of every data file, so editing, adding or removing a
file gives a new key: a stale entry is never read, only left behind.
Each file is written to a temporary name and moved into place with
``os.replace``, so an interrupted write never leaves a partial entry: a
process killed mid-way leaves at most a ``.tmp`` file that no entry uses.
Entries are readable by the group that owns the cache folder, so that a
team can share one cache.
"""

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["cache_key", "create_array", "list_files", "load_cache", "probe_writable", "save_cache"]


def list_files(root, suffixes):
    """Return the files under ``root`` with one of ``suffixes``, sorted.

    Parameters
    ----------
    root : path-like
        Folder searched recursively (symbolic links to folders not followed).
    suffixes : tuple of str
        Lower-case file name endings, such as ``(".hea", ".mat")``.

    Returns
    -------
    paths : list of Path
        Sorted by path relative to ``root``.
    """
    root = Path(root)
    found = []
    for folder, _, names in os.walk(root):
        found.extend(Path(folder, name) for name in names if name.lower().endswith(suffixes))
    return sorted(found, key=lambda path: path.relative_to(root).as_posix())


def cache_key(roots, params, suffixes=(".hea", ".mat")):
    """Hash the data files of one or several folders and the parameters that read them.

    Parameters
    ----------
    roots : path-like or list of path-like
        Folder(s) of the data.
    params : dict
        JSON-serialisable loading parameters (include a format version).
    suffixes : tuple of str, default=(".hea", ".mat")
        Endings of the files whose relative path, size and modification
        time enter the key.

    Returns
    -------
    key : str
        32 hexadecimal characters.

    """
    if isinstance(roots, (str, os.PathLike)):
        roots = [roots]
    roots = [Path(root).resolve() for root in roots]
    digest = hashlib.sha256()
    digest.update(json.dumps({"roots": [str(r) for r in roots], "params": params},
                             sort_keys=True).encode())
    for root in roots:
        digest.update(f"\n\n{root}".encode())
        for path in list_files(root, suffixes):
            stat = path.stat()
            line = f"\n{path.relative_to(root).as_posix()}\t{stat.st_size}\t{stat.st_mtime_ns}"
            digest.update(line.encode())
    return digest.hexdigest()[:32]


def probe_writable(cache_dir):
    """Return None when files can be created in ``cache_dir`` (made if missing), else why not."""
    try:
        Path(cache_dir).mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=cache_dir, prefix=".probe.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _entry_paths(cache_dir, key, prefix):
    cache_dir = Path(cache_dir)
    return cache_dir / f"{prefix}_{key}.npy", cache_dir / f"{prefix}_{key}.npz"


def load_cache(cache_dir, key, prefix="physionet"):
    """Open a cache entry, or return None when it is absent or unreadable.

    Parameters
    ----------
    cache_dir : path-like
        Folder of the cache.
    key : str
        Entry key from :func:`cache_key`.
    prefix : str, default="physionet"
        File name prefix of the entry.

    Returns
    -------
    entry : tuple (X, arrays) or None
        ``X`` is a read-only ``np.memmap``; ``arrays`` a dict of ndarrays.
    """
    array_path, side_path = _entry_paths(cache_dir, key, prefix)
    if not (array_path.is_file() and side_path.is_file()):
        return None
    try:
        X = np.load(array_path, mmap_mode="r")
        with np.load(side_path, allow_pickle=False) as side:
            arrays = {name: side[name] for name in side.files}
    except (OSError, ValueError, EOFError):
        # A damaged entry is a miss: the caller reloads and overwrites it.
        return None
    shape = arrays.pop("__X_shape__", None)
    if shape is None or X.shape != tuple(shape):
        return None
    return X, arrays


def create_array(cache_dir, shape, dtype=np.float32):
    """Create a writable ``.npy`` memmap in a temporary file of the cache folder.

    A loader fills it row by row, so that data larger than memory can be
    loaded, then hands its path to :func:`save_cache`, which moves it into
    place; until then the file has a temporary name that no entry uses.

    Parameters
    ----------
    cache_dir : path-like
        Folder of the cache, created when missing.
    shape : tuple of int
        Shape of the array.
    dtype : dtype, default=np.float32
        Type of the array.

    Returns
    -------
    X : np.memmap
        Zero-filled array; ``X.filename`` is its temporary file, which the
        caller deletes if it does not save it.
    """
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=cache_dir, prefix=".array.", suffix=".npy.tmp")
    os.close(fd)
    return np.lib.format.open_memmap(temp, mode="w+", dtype=dtype, shape=tuple(shape))


def save_cache(cache_dir, key, X, arrays, prefix="physionet"):
    """Write a cache entry atomically and return its memory-mapped array.

    Parameters
    ----------
    cache_dir : path-like
        Folder of the cache, created when missing.
    key : str
        Entry key from :func:`cache_key`.
    X : ndarray or path-like
        The large array, stored as ``.npy``; or the path of a filled array
        from :func:`create_array` in ``cache_dir``, which is moved into the
        entry (close every memmap of it first).
    arrays : dict of str to ndarray
        Small arrays; object dtype is refused (no pickle in the cache).
    prefix : str, default="physionet"
        File name prefix of the entry.

    Returns
    -------
    X : np.memmap
        The stored array, opened read-only.
    """
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"Cache array {name!r} has object dtype; store strings or numbers.")
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    array_path, side_path = _entry_paths(cache_dir, key, prefix)
    shape = np.load(X, mmap_mode="r").shape if isinstance(X, (str, os.PathLike)) else X.shape
    # Both files carry X's shape, so a side file paired with another X is rejected.
    side = dict(arrays, __X_shape__=np.array(shape, dtype=np.int64))
    _write_atomic(side_path, lambda f: np.savez(f, **side))
    if isinstance(X, (str, os.PathLike)):
        with open(X, "rb+") as f:
            os.fsync(f.fileno())
        _share_with_group(X, cache_dir)
        os.replace(X, array_path)
    else:
        _write_atomic(array_path, lambda f: np.save(f, X, allow_pickle=False))
    return np.load(array_path, mmap_mode="r")


def _write_atomic(path, write):
    """Write with ``write(file)`` to a temporary file, then rename it to ``path``."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        _share_with_group(temp, path.parent)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _share_with_group(path, folder):
    """Make ``path`` readable by the group owning ``folder`` (and by others if it is).

    Temporary files are created private (mode 0600); an entry is for every
    user who can open the cache folder.
    """
    folder_stat = os.stat(folder)
    os.chmod(path, 0o640 | (folder_stat.st_mode & 0o004))
    if os.stat(path).st_gid != folder_stat.st_gid:
        try:
            os.chown(path, -1, folder_stat.st_gid)
        except OSError:  # not a member of that group: the owner's group keeps it
            pass
