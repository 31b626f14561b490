"""The model file of ``sklearn-ecg fit``: a plain-text header, then the pickled pipeline.

The file starts with a marker line, then one line of JSON: the format
number, the library version, the classes (the columns of the output files:
SNOMED-CT codes of a challenge year's scored table, or the classes of a
PTB-XL or LUDB task) with their names, the layout and labels of the records
the pipeline was trained on (``year``: the challenge year of its classes,
None for other classes) and its loading settings (sampling rate, duration).
The fitted pipeline follows, pickled by joblib.

Unpickling runs code, so ``load_model`` reads and checks the header first:
a file that is not ours, of a newer format, or whose classes are not
distinct (and scored codes of its year, if it has one) is refused before
its pickle is opened. A model file must still come from a trusted source.
After unpickling, the pipeline's own ``classes_`` must be the header's:
output files would name the wrong classes otherwise.
"""

import math
import warnings
from pathlib import Path

import numpy as np

from .. import __version__
from .._header_file import read_header, read_payload, write_with_header
from ..classes import scored_classes

MODEL_MARKER = b"sklearn-ecg model\n"
FORMAT = 3
# Format 2 files were all trained on challenge records, without saying so.
_FORMAT_2_TASK = {"layout": "physionet"}


def save_model(path, pipeline, *, classes, class_names, task, fs, duration, settings):
    """Write the model file of ``pipeline`` trained on ``classes`` of ``task`` atomically; returns its path."""
    header = {
        "format": FORMAT,
        "version": __version__,
        "classes": [str(code) for code in classes],
        "class_names": [str(name) for name in class_names],
        "layout": task.layout,
        "labels": task.labels,
        "year": task.year,
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
    if model["format"] == 2:
        model = {**_FORMAT_2_TASK, "labels": model.get("year"), **model}
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
    keys = ("version", "classes", "class_names", "layout", "labels", "year", "fs", "duration")
    missing = [key for key in keys if key not in model]
    if missing:
        raise ValueError(f"model file {str(path)!r} is damaged: its header lacks {', '.join(missing)}")
    try:
        scored = set() if model["year"] is None else scored_classes(model["year"]).equivalent
        classes = [str(code) for code in model["classes"]]
        fs, duration = float(model["fs"]), float(model["duration"])
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"model file {str(path)!r} is damaged ({type(error).__name__}: {error})") from None
    if not all(math.isfinite(value) and value > 0 for value in (fs, duration)):
        raise ValueError(f"model file {str(path)!r} is damaged: fs={fs}, duration={duration}")
    unknown = [code for code in classes if scored and code not in scored]
    if not classes or not all(classes) or unknown or len(set(classes)) != len(classes):
        kind = "distinct class names" if not scored else f"distinct scored SNOMED-CT codes of {model['year']}"
        raise ValueError(
            f"model file {str(path)!r} lists classes that are not {kind} "
            f"(e.g. {(unknown or classes)[:3]}); its outputs could not be scored"
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
