"""The commands' options: parsed once into frozen dataclasses, checked before any work.

Defaults that belong to the library are read from the functions that
define them (``make_default_pipeline``, the loaders,
``cross_val_cinc_report``), so that the command line never repeats them.
An option whose value makes no sense, alone or with another option, is a
usage error (exit status 2) naming the option.
"""

import argparse
import inspect
import math
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path

from ..datasets import load_folders, load_ludb, load_physionet, load_ptbxl
from ..evaluation import cross_val_cinc_report
from ..pipelines import BLENDS, make_default_pipeline, pretrain_encoders
from ._errors import UsageError

# ECGs below 50 Hz lose the QRS complex; the challenge records go up to 1000 Hz,
# and resampling above the highest rate only adds cost.
FS_RANGE = (50, 1000)
# One heartbeat at 60 beats per minute.
MIN_WINDOW_S = 1.0
# Each test fold needs records that are positive and negative for some class.
MIN_TEST_RECORDS_PER_FOLD = 2
# The README's main job, ten folds of the default pipeline on these records with
# one fold per core, runs in under 10 minutes on 2 cores.
SYNTHETIC_RECORDS = 160
SEED = 0  # a run of the command line is reproducible unless asked otherwise
YEARS = (2020, 2021)
DATA_DIR_HELP = "data folder: challenge records (NAME.hea + NAME.mat or .dat), PTB-XL or LUDB"
# The loader of each layout of load_folders, whose signature gives the layout's default labels.
LOADERS = {"physionet": load_physionet, "ptbxl": load_ptbxl, "ludb": load_ludb}


def default_of(function, parameter):
    """The default value of ``function``'s keyword ``parameter``."""
    return inspect.signature(function).parameters[parameter].default


DEFAULT_FOLDS = default_of(cross_val_cinc_report, "cv")


def _bounded(kind, low, high=math.inf, *, why=""):
    """argparse type: a finite ``kind`` (int or float) from ``low`` to ``high``."""
    name = "an integer" if kind is int else "a number"
    span = f"of at least {low}" if high == math.inf else f"from {low} to {high}"

    def parse(text):
        value = kind(text)
        if not (low <= value <= high and math.isfinite(value)):  # NaN fails both
            raise argparse.ArgumentTypeError(f"must be {name} {span}{why}, got {text}")
        return value

    parse.__name__ = "integer" if kind is int else "number"  # argparse names the type in its messages
    return parse


def n_jobs(text):
    """argparse type: joblib's ``n_jobs``, a non-zero integer (-1: all processors)."""
    value = int(text)
    if value == 0:
        raise argparse.ArgumentTypeError("must be a positive number of jobs or -1 for all processors, got 0")
    return value


n_jobs.__name__ = "integer"


def add_data_options(parser, *, synthetic):
    """How records are read and labelled, their sampling rate and duration, seed, quiet; synthetic dataset size."""
    parser.add_argument("--fs", type=_bounded(int, *FS_RANGE), default=default_of(make_default_pipeline, "fs"),
                        help=f"sampling rate in Hz, {FS_RANGE[0]} to {FS_RANGE[1]} (default: %(default)s)")
    parser.add_argument("--duration", type=_bounded(float, MIN_WINDOW_S, why=" s (the shortest window)"),
                        default=default_of(load_physionet, "duration"),
                        help="seconds kept per record, zero-padded; at least the window "
                             "(default: %(default)s)")
    if synthetic:
        parser.add_argument("--n-records", type=_bounded(int, 1), default=None,
                            help=f"records of the synthetic dataset (default: {SYNTHETIC_RECORDS})")
    add_loading_options(parser, labelled=True)
    parser.add_argument("--seed", type=_bounded(int, 0, 2**32 - 1), default=SEED,
                        help="random seed (default: %(default)s)")
    add_quiet_option(parser)


def add_loading_options(parser, *, labelled):
    """The data folder's layout, labels, bad records and cache, as ``load_folders`` reads them."""
    parser.add_argument("--layout", choices=("auto", *LOADERS), default=default_of(load_folders, "layout"),
                        help="what the data folder holds: challenge records or any WFDB records "
                             "(physionet), PTB-XL or LUDB in their own layouts; auto: detected from "
                             "ptbxl_database.csv or ludb.csv (default: %(default)s)")
    if labelled:
        parser.add_argument("--year", type=int, choices=YEARS, default=None,
                            help="challenge records: the scored classes of this challenge year, whose "
                                 "weights the challenge metric uses "
                                 f"(default: {default_of(load_physionet, 'year')})")
        parser.add_argument("--labels", metavar="TASK", default=default_of(load_folders, "labels"),
                            help="PTB-XL or LUDB: the label task. PTB-XL: superdiagnostic, "
                                 "subdiagnostic, diagnostic, form, rhythm or all "
                                 f"(default: {default_of(load_ptbxl, 'labels')}); "
                                 f"LUDB: {default_of(load_ludb, 'labels')}")
    parser.add_argument("--on-error", choices=("raise", "skip"), default=default_of(load_folders, "on_error"),
                        help="a record that cannot be read stops the command (raise), or is skipped "
                             "with a warning naming it (skip) (default: %(default)s)")
    parser.add_argument("--cache-dir", type=Path, default=default_of(load_folders, "cache_dir"),
                        help="folder of the loader's cache: a later run on the same records and "
                             "loading options reads them from there (default: no cache)")


def add_quiet_option(parser):
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output on stderr")


# --pretrained's value for self-KD pretraining inside every fit (the paper's recipe).
SELFKD = "selfkd"


def pretrained_arg(text):
    """argparse type of ``--pretrained``: ``selfkd``, ``none`` or an encoders file."""
    return {SELFKD: SELFKD, "none": None}.get(text, Path(text))


pretrained_arg.__name__ = "encoders"


def ensemble_arg(text):
    """argparse type of ``--ensemble``: K >= 2 inner models, or 1 for one model (None)."""
    value = _bounded(int, 1)(text)
    return None if value == 1 else value


ensemble_arg.__name__ = "integer"


def add_model_options(parser, *, paper=False):
    """Options of :func:`~sklearn_ecg.pipelines.make_default_pipeline`.

    ``paper``: default to the paper's model (self-KD inside fit, one model,
    no blend) instead of the library's default pipeline.
    """
    def default(name, paper_value):
        return paper_value if paper else default_of(make_default_pipeline, name)

    parser.add_argument("--window", type=_bounded(float, MIN_WINDOW_S, why=" s (one heartbeat)"),
                        default=default_of(make_default_pipeline, "window"),
                        help="window length in seconds for training crops and prediction "
                             "(default: %(default)s)")
    parser.add_argument("--size", choices=("tiny", "small", "paper"),
                        default=default_of(make_default_pipeline, "size"),
                        help=f"encoder size preset (default: {default_of(pretrain_encoders, 'size')}, or the "
                             "size of the --pretrained encoders)")
    parser.add_argument("--pretrain-epochs", type=_bounded(int, 1),
                        default=default_of(make_default_pipeline, "pretrain_epochs"),
                        help="self-KD pretraining epochs per branch, with --pretrained selfkd (default: the "
                             "preset's)")
    parser.add_argument("--epochs", type=_bounded(int, 1),
                        default=default_of(make_default_pipeline, "finetune_epochs"),
                        help="fine-tuning epochs (default: the preset's)")
    ensemble = default("ensemble", None)
    parser.add_argument("--ensemble", type=ensemble_arg, metavar="K", default=ensemble,
                        help="average K models cross-fitted on inner folds, whose out-of-fold "
                             "probabilities tune the thresholds (about K times the training); 1: one "
                             "model, thresholds tuned on a validation split (default: "
                             f"{ensemble or 1})")
    blend = default("blend", None)
    parser.add_argument("--blend", type=lambda text: None if text == "none" else text,
                        choices=(*BLENDS, None), metavar="{" + ",".join((*BLENDS, "none")) + "}", default=blend,
                        help="average the fused model's probabilities with those of a MiniRocket + ridge "
                             f"model, or none (needs --ensemble; default: {blend or 'none'})")
    pretrained = SELFKD if paper else "none"
    parser.add_argument("--pretrained", type=pretrained_arg, metavar="ENCODERS", default=pretrained_arg(pretrained),
                        help="where the encoders start: none (random weights), selfkd (both branches pretrained "
                             "by self-KD inside every fit, the paper's recipe) or a file of `sklearn-ecg "
                             "pretrain` (its branches, the others from random weights; trusted files only: "
                             "loading runs code); they are fine-tuned in every fit "
                             f"(default: {pretrained})")
    add_device_option(parser, default=default_of(make_default_pipeline, "device"),
                      default_help="%(default)s")


def add_device_option(parser, *, default, default_help):
    parser.add_argument("--device", default=default,
                        help=f"torch device: auto, cpu, cuda, cuda:1 ... (default: {default_help})")


def add_cv_options(parser, *, report):
    """Folds, parallel jobs and the report folder of a cross-validating command."""
    parser.add_argument("--folds", type=_bounded(int, 2), default=None,
                        help=f"number of folds (default: {DEFAULT_FOLDS}, multi-label stratified). Data "
                             "with folds of its own (PTB-XL's strat_fold) is split by them: one test "
                             "fold per own fold by default, --folds K merges them into K")
    parser.add_argument("--n-jobs", type=n_jobs, default=None,
                        help="folds fitted in parallel (-1: one per processor)")
    parser.add_argument("-o", "--output", type=Path, default=Path(report),
                        help="report folder (default: ./%(default)s)")


@dataclass(frozen=True)
class DataOptions:
    """Which records, loaded how; ``data_dir=None`` is the synthetic dataset of ``n_records``.

    ``year`` None is the default year; ``labels`` is ``load_folders``'s
    (``"default"``: the layout's own).
    """

    data_dir: Path | None
    fs: int
    duration: float
    seed: int
    layout: str
    labels: str
    year: int | None
    on_error: str
    cache_dir: Path | None
    n_records: int | None = None

    @property
    def synthetic(self):
        return self.data_dir is None


@dataclass(frozen=True)
class ModelOptions:
    """Options of the default pipeline (``epochs`` is its ``finetune_epochs``)."""

    window: float
    size: str
    pretrain_epochs: int | None
    epochs: int | None
    ensemble: int | None
    device: str
    pretrained: str | Path | None = None
    blend: str | None = None

    def pipeline(self, data, task, classes, **overrides):
        """The default pipeline for ``data`` (DataOptions) with ``classes`` of ``task`` (a Task);
        ``overrides`` replace options."""
        options = dict(
            classes=classes, fs=data.fs, window=self.window, size=self.size,
            pretraining="fit" if self.pretrained == SELFKD else None,
            pretrain_epochs=self.pretrain_epochs, finetune_epochs=self.epochs, ensemble=self.ensemble,
            blend=self.blend, device=self.device, random_state=data.seed,
            pretrained=None if self.pretrained == SELFKD else self.pretrained,
            **task.tuning_params(),
        )
        return make_default_pipeline(**{**options, **overrides})


@dataclass(frozen=True)
class CVOptions:
    """Folds, parallel jobs and report folder of a cross-validating command."""

    folds: int | None
    n_jobs: int | None
    output: Path


def options_from(cls, args):
    """An instance of the dataclass ``cls`` from the parsed options of the same names."""
    return cls(**{field.name: getattr(args, field.name) for field in fields(cls) if hasattr(args, field.name)})


def cv_options_from(args):
    """The DataOptions, ModelOptions and CVOptions of a cross-validating command, checked together."""
    data, model, cv = (options_from(kind, args) for kind in (DataOptions, ModelOptions, CVOptions))
    data = check_source(data)
    check_window(data, model)
    check_synthetic_folds(data, model, cv)
    return data, model, cv


def check_source(data):
    """``data`` with the synthetic dataset's size, when it is used; options of the other source are errors."""
    if not data.synthetic:
        if data.n_records is not None:
            raise UsageError("argument --n-records: sets the size of the synthetic dataset; every record "
                             f"of {data.data_dir} is used")
        return data
    for name in ("layout", "labels", "on_error", "cache_dir"):
        if getattr(data, name) != default_of(load_folders, name):
            raise UsageError(f"argument --{name.replace('_', '-')}: applies to a DATA_DIR; without one, "
                             "the synthetic dataset is used")
    return replace(data, n_records=data.n_records or SYNTHETIC_RECORDS)


def check_window(data, model):
    """A window must fit in a record, and a blend needs an ensemble; the option to blame is the one given."""
    if model.blend is not None and model.ensemble is None:
        raise UsageError(f"argument --blend: {model.blend} needs --ensemble K (K >= 2): the blend's thresholds "
                         "are tuned on out-of-fold probabilities; or give --blend none")
    if model.window <= data.duration:
        return
    if model.window == default_of(make_default_pipeline, "window"):
        raise UsageError(f"argument --duration: {data.duration:g} s is shorter than the default "
                         f"window (--window {model.window:g})")
    raise UsageError(f"argument --window: {model.window:g} s is longer than the records "
                     f"(--duration {data.duration:g})")


def check_synthetic_folds(data, model, cv):
    """Enough synthetic records for the folds, and for the inner folds of an ensemble."""
    if not data.synthetic:
        return  # the number of records is known once they are loaded
    folds = cv.folds or DEFAULT_FOLDS
    needed = MIN_TEST_RECORDS_PER_FOLD * folds
    if data.n_records < needed:
        raise UsageError(
            f"argument --n-records: {data.n_records} records leave fewer than "
            f"{MIN_TEST_RECORDS_PER_FOLD} test records per fold with --folds {folds} "
            f"(at least {needed} needed)"
        )
    training = data.n_records - math.ceil(data.n_records / folds)  # the largest test fold held out
    if model.ensemble is not None and training < MIN_TEST_RECORDS_PER_FOLD * model.ensemble:
        raise UsageError(
            f"argument --ensemble: {model.ensemble} inner folds need at least "
            f"{MIN_TEST_RECORDS_PER_FOLD * model.ensemble} training records per fold; "
            f"--n-records {data.n_records} with --folds {folds} gives {training}"
        )


def settings_of(options):
    """A (nested) options dataclass as one flat dict of JSON values, for reports and resuming."""
    settings = {}
    for field in fields(options):
        value = getattr(options, field.name)
        if is_dataclass(value):
            settings.update(settings_of(value))
        else:
            settings[field.name] = str(value) if isinstance(value, Path) else value
    return settings
