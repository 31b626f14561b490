"""The model file of ``sklearn-ecg fit``: a plain-text header, then the pickled pipeline.

The file starts with a marker line, then one line of JSON: the format
number, the library version, the classes (SNOMED-CT codes of the year's
scored table, the columns of the output files) with their names, and the
loading settings the pipeline was trained with (sampling rate, duration).
The fitted pipeline follows, pickled by joblib.

Unpickling runs code, so ``load_model`` reads and checks the header first:
a file that is not ours, of a newer format, or whose classes are not
scored codes is refused before its pickle is opened. A model file must
still come from a trusted source. After unpickling, the pipeline's own
``classes_`` must be the header's: output files would name the wrong
classes otherwise.
"""

import math
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from .._header_file import read_header, read_payload, write_with_header
from ..classes import scored_classes

MODEL_MARKER = b"sklearn-ecg model\n"
FORMAT = 2


def save_model(path, pipeline, *, classes, class_names, year, fs, duration, settings):
    """Write the model file atomically; returns its path."""
    header = {
        "format": FORMAT,
        "version": __version__,
        "classes": [str(code) for code in classes],
        "class_names": [str(name) for name in class_names],
        "year": year,
        "fs": fs,
        "duration": duration,
        "settings": settings,
    }
    return write_with_header(path, MODEL_MARKER, header, pipeline)


def load_model(path):
    """Read and check a model file; returns its header as a dict, with the pipeline under ``"pipeline"``."""
    path = Path(path)
    what = "a model file of `sklearn-ecg fit`"
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist")
    model = read_header(path, MODEL_MARKER, what, bare_pickle=" (model files of older versions must be refitted)")
    if not isinstance(model.get("format"), int) or model["format"] > FORMAT:
        raise ValueError(
            f"{str(path)!r} has model format {model.get('format')!r}, which this sklearn-ecg "
            f"({__version__}) cannot read; upgrade sklearn-ecg"
        )
    _check_header(path, model)
    model["pipeline"] = read_payload(path)
    _check_pipeline(path, model)
    if model["version"] != __version__:
        warnings.warn(
            f"{path} was made by sklearn-ecg {model['version']}, this is {__version__}; "
            "refit it if its predictions look wrong",
            UserWarning,
            stacklevel=2,
        )
    return model


def _check_header(path, model):
    missing = [key for key in ("version", "classes", "class_names", "year", "fs", "duration") if key not in model]
    if missing:
        raise ValueError(f"model file {str(path)!r} is damaged: its header lacks {', '.join(missing)}")
    try:
        table = scored_classes(model["year"])
        classes = [str(code) for code in model["classes"]]
        fs, duration = float(model["fs"]), float(model["duration"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"model file {str(path)!r} is damaged ({type(error).__name__}: {error})") from None
    if not all(math.isfinite(value) and value > 0 for value in (fs, duration)):
        raise ValueError(f"model file {str(path)!r} is damaged: fs={fs}, duration={duration}")
    unknown = [code for code in classes if code not in table.equivalent]
    if not classes or unknown or len(set(classes)) != len(classes):
        raise ValueError(
            f"model file {str(path)!r} lists classes that are not distinct scored SNOMED-CT codes "
            f"of {model['year']} (e.g. {(unknown or classes)[:3]}); its outputs could not be scored"
        )


def _check_pipeline(path, model):
    pipeline = model["pipeline"]
    fitted = _fitted_classes(pipeline)
    if fitted is None or [str(code) for code in fitted] != model["classes"]:
        raise ValueError(
            f"model file {str(path)!r} lists {len(model['classes'])} classes but its classifier was "
            f"trained on other classes ({None if fitted is None else list(fitted)[:3]}...); refit it"
        )
    if not hasattr(pipeline[-1], "thresholds_"):
        raise ValueError(f"model file {str(path)!r} holds a classifier without thresholds_; refit it")


def _fitted_classes(pipeline):
    if not (hasattr(pipeline, "steps") and hasattr(pipeline, "predict_proba")):
        return None
    classes = getattr(pipeline[-1], "classes_", None)
    return None if classes is None else np.ravel(classes)
