"""Files of a marker line, a JSON header line and a pickle, written atomically.

The model files of ``sklearn-ecg fit``, the fitted folds of ``sklearn-ecg
cv`` and the pretrained-encoders files share this layout. Unpickling runs
code, so a reader checks the marker and the header, read without
unpickling anything, before it opens the pickle.

A file is written under a temporary name in its folder and renamed into
place once complete: an interrupted or failed write leaves the previous
file, or none, never a truncated one.
"""

import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import joblib

TEMPORARY_PREFIX = ".sklearn-ecg-"
_MAX_HEADER_BYTES = 1 << 20
_PICKLE_START = b"\x80"  # the PROTO opcode: a bare pickle, such as a format-1 model file


@contextmanager
def atomic_file(path):
    """Yield a temporary path beside ``path``, renamed to ``path`` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name, not mkstemp's file: the file then gets the usual permissions.
    partial = path.with_name(f"{TEMPORARY_PREFIX}{path.name}.{secrets.token_hex(4)}.part")
    try:
        yield partial
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


def write_with_header(path, marker, header, payload):
    """Write ``marker``, ``header`` (JSON) and the pickled ``payload`` atomically; returns the path."""
    with atomic_file(path) as partial, open(partial, "wb") as stream:
        stream.write(marker)
        stream.write(json.dumps(header).encode() + b"\n")
        joblib.dump(payload, stream)
    return Path(path)


def read_header(path, marker, what, *, bare_pickle=""):
    """The JSON header of a file of ``write_with_header``, read without unpickling anything.

    ``bare_pickle`` is added to the error for a file that is a bare pickle
    (e.g. how to replace a file of an older format).
    """
    with open(path, "rb") as stream:
        start = stream.readline(len(marker))
        if start != marker:
            older = bare_pickle if start[:1] == _PICKLE_START else ""
            raise ValueError(f"{str(path)!r} is not {what}{older}")
        try:
            header = json.loads(stream.readline(_MAX_HEADER_BYTES))
        except ValueError as error:
            raise ValueError(f"{str(path)!r} is damaged: its header is not JSON ({error})") from None
    if not isinstance(header, dict):  # a fault of the file, reported like the others
        raise ValueError(f"{str(path)!r} is damaged: its header is not a JSON object")  # noqa: TRY004
    return header


def read_payload(path):
    """The pickled object after the header. Runs the pickle's code: check the header first."""
    with open(path, "rb") as stream:
        stream.readline(_MAX_HEADER_BYTES)
        stream.readline(_MAX_HEADER_BYTES)
        try:
            return joblib.load(stream)
        except Exception as error:  # noqa: BLE001 (unpickling raises anything: report it in one line)
            raise ValueError(
                f"cannot read {str(path)!r}: it is damaged ({type(error).__name__}: {error})"
            ) from None
