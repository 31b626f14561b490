"""The model file of ``sklearn-ecg fit``: the fitted pipeline and what ``predict`` needs.

A joblib file holding a dict: a marker saying it is ours, a format number,
the library version, the fitted pipeline, its classes (SNOMED-CT codes of
the year's scored table, the columns of the output files) with their names,
and the loading settings the pipeline was trained with (sampling rate,
duration). ``load_model`` refuses, with one clear message, anything that is
not such a file, or whose classes are not scored codes or disagree with the
pipeline's own ``classes_``: output files would name the wrong classes.
"""

import math
import warnings
from pathlib import Path

import joblib
import numpy as np

from .. import __version__
from ..classes import scored_classes

_KIND = "sklearn-ecg model"
_FORMAT = 1


def save_model(path, pipeline, *, classes, class_names, year, fs, duration, settings):
    """Write the model file; returns its path."""
    model = {
        "kind": _KIND,
        "format": _FORMAT,
        "version": __version__,
        "pipeline": pipeline,
        "classes": [str(code) for code in classes],
        "class_names": [str(name) for name in class_names],
        "year": year,
        "fs": fs,
        "duration": duration,
        "settings": settings,
    }
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, path)
    return path


def check_writable(path):
    """Fail before a long fit rather than after it when the model cannot be written there."""
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"model path {str(path)!r} is a folder; give a file name such as model.joblib")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        raise ValueError(f"cannot create the model file {str(path)!r}: {str(parent)!r} is not a folder")


def load_model(path):
    """Read and check a model file; returns its dict."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"model file {str(path)!r} does not exist")
    try:
        model = joblib.load(path)
    except Exception as error:  # unpickling raises anything: report it in one line
        raise ValueError(
            f"cannot read model file {str(path)!r}: not a joblib file of `sklearn-ecg fit` "
            f"({type(error).__name__}: {error})"
        ) from None
    if not (isinstance(model, dict) and model.get("kind") == _KIND):
        raise ValueError(f"{str(path)!r} is not a model file of `sklearn-ecg fit`")
    if not isinstance(model.get("format"), int) or model["format"] > _FORMAT:
        raise ValueError(
            f"{str(path)!r} has model format {model.get('format')!r}, which this sklearn-ecg "
            f"({__version__}) cannot read; upgrade sklearn-ecg"
        )
    _check_contents(path, model)
    if model["version"] != __version__:
        warnings.warn(
            f"{path} was made by sklearn-ecg {model['version']}, this is {__version__}; "
            "refit it if its predictions look wrong",
            UserWarning,
            stacklevel=2,
        )
    return model


def _check_contents(path, model):
    try:
        table = scored_classes(model["year"])
        classes = [str(code) for code in model["classes"]]
        pipeline, fs, duration = model["pipeline"], float(model["fs"]), float(model["duration"])
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
    fitted = _fitted_classes(pipeline)
    if fitted is None or [str(code) for code in fitted] != classes:
        raise ValueError(
            f"model file {str(path)!r} lists {len(classes)} classes but its classifier was trained "
            f"on other classes ({None if fitted is None else list(fitted)[:3]}...); refit it"
        )


def _fitted_classes(pipeline):
    final = pipeline[-1] if hasattr(pipeline, "steps") else pipeline
    if not (hasattr(pipeline, "predict") and hasattr(pipeline, "predict_proba")):
        return None
    classes = getattr(final, "classes_", None)
    return None if classes is None else np.ravel(classes)
