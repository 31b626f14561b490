"""``sklearn-ecg cv [DATA_DIR]``: cross-validation of the default pipeline, with a report folder."""

import time
from dataclasses import dataclass
from pathlib import Path

from ..evaluation import cross_val_cinc_report
from ..model_selection import MultilabelStratifiedKFold
from . import _options, _pretrain, _progress
from ._files import files_into
from ._options import CVOptions, DataOptions, ModelOptions
from ._progress import logger
from ._records import describe, load_records
from ._report_files import format_summary, write_report
from ._resume import FoldCheckpoints, ResumableFit

DESCRIPTION = (
    "Multi-label stratified cross-validation of the default pipeline "
    "(pretraining and threshold tuning inside each fold) on a folder of "
    "PhysioNet/CinC records, or on the embedded synthetic dataset when "
    "no folder is given. Prints the seven challenge metrics and writes "
    "a report folder: figures per fold and per class (JSON, CSV), "
    "out-of-fold predictions and gate weights (npz), and plots (ROC and "
    "precision-recall curves, F1 and gate weights per class). Each fold's "
    "fitted model is kept in the report folder until the report is written: "
    "an interrupted run continues with --resume."
)


@dataclass(frozen=True)
class CVConfig:
    data: DataOptions
    model: ModelOptions
    cv: CVOptions
    resume: bool

    @classmethod
    def from_args(cls, args):
        return cls(*_options.cv_options_from(args), resume=args.resume)


def add_parser(commands):
    parser = commands.add_parser(
        "cv", help="ten-fold cross-validation of the full pipeline", description=DESCRIPTION
    )
    parser.add_argument("data_dir", nargs="?", type=Path, help="folder of NAME.hea + NAME.mat records")
    _options.add_data_options(parser, synthetic=True)
    _options.add_model_options(parser)
    _options.add_cv_options(parser, report="sklearn_ecg_report")
    parser.add_argument("--resume", action="store_true",
                        help="continue the interrupted run kept in the report folder (same options): "
                             "fit only the folds it had not finished")
    parser.set_defaults(configure=CVConfig.from_args, run=run)


def run(config):
    settings = {**_options.settings_of(config), "pretrained": _pretrain.provenance(config.model)}
    checkpoints = FoldCheckpoints(config.cv.output)
    checkpoints.check(settings, resume=config.resume)
    encoders = _pretrain.load_pretrained(config.model, config.data)
    data = load_records(config.data)
    _pretrain.check_leads(encoders, data)
    pipeline = config.model.pipeline(config.data, data.classes, pretrained=encoders)
    cv = MultilabelStratifiedKFold(config.cv.folds, random_state=config.data.seed)
    splits = list(cv.split(data.X, data.y))
    logger.info(f"{config.cv.folds}-fold CV on {describe(config.data, data)}: "
                f"{len(data.classes)} classes, {config.data.fs} Hz")
    start = time.perf_counter()
    with checkpoints.kept(settings, len(splits)) as folder:
        result = cross_val_cinc_report(
            ResumableFit(pipeline, folder=folder), data.X, data.y, classes=data.classes, cv=splits,
            return_gate_weights=True, n_jobs=config.cv.n_jobs, verbose=int(_progress.enabled()),
        )
    # A fold loaded from an interrupted run took its time then.
    for figures, (train, _) in zip(result.folds, splits):
        figures["fit_time"] = checkpoints.fit_time(data.X[train], data.y[train])
    elapsed = time.perf_counter() - start
    with files_into(config.cv.output) as staging:
        paths = write_report(result, staging, class_names=list(data.class_names),
                             settings={**settings, "elapsed_s": elapsed})
    checkpoints.discard()
    print(format_summary(result))
    print(f"\n{elapsed:.0f} s; report: {config.cv.output}/ ({len(paths)} files)")
    return 0
