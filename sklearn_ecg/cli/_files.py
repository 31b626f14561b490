"""Output files that are checked before the work and never left half-written.

A command checks that its output can be written before it loads or trains
anything (a sibling file is created and removed), and writes each file
under a temporary name in the same folder, renamed into place once
complete: an interrupted or failed write leaves the previous file, or
none, never a truncated one.
"""

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .._header_file import TEMPORARY_PREFIX


def check_writable(path, what, *, folder=False):
    """Raise ValueError unless ``path`` (a file, or a ``folder``) can be created or overwritten."""
    path = Path(path)
    if path.exists() and path.is_dir() != folder:
        hint = "" if folder else "; give a file name such as model.joblib"
        raise ValueError(f"{what} {str(path)!r} is {'a file' if folder else 'a folder'}{hint}")
    start = (path if folder else path.parent).absolute()
    existing = next(parent for parent in (start, *start.parents) if parent.exists())
    if not existing.is_dir():
        raise ValueError(f"cannot create {what} {str(path)!r}: {str(existing)!r} is a file")
    try:
        handle, probe = tempfile.mkstemp(dir=existing, prefix=TEMPORARY_PREFIX, suffix=".probe")
        os.close(handle)
        os.remove(probe)
    except OSError as error:
        raise ValueError(
            f"cannot write {what} {str(path)!r}: the folder {str(existing)!r} does not accept "
            f"new files ({error.strerror})"
        ) from None


@contextmanager
def files_into(folder):
    """Yield a temporary folder inside ``folder``; its files move into ``folder`` when the block succeeds.

    ``folder`` is created if missing, and removed again if the block fails
    before anything was moved into it.
    """
    folder = Path(folder)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=folder, prefix=TEMPORARY_PREFIX))
    try:
        yield staging
        for file in sorted(staging.iterdir()):
            os.replace(file, folder / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if created:
            remove_if_empty(folder)


def remove_if_empty(folder):
    if Path(folder).is_dir() and not any(Path(folder).iterdir()):
        Path(folder).rmdir()
