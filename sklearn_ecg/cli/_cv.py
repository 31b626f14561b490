"""``sklearn-ecg cv [DATA_DIR]``: cross-validation of the default pipeline, with a report folder."""

import time
from dataclasses import dataclass
from pathlib import Path

from ..evaluation import cross_val_cinc_report
from . import _options, _pretrain, _progress
from ._files import files_into
from ._options import DATA_DIR_HELP, CVOptions, DataOptions, ModelOptions
from ._progress import logger
from ._records import describe, load_records
from ._report_files import format_summary, write_report
from ._resume import FoldCheckpoints, ResumableFit
from ._splits import splitter_of
from ._tasks import task_of

DESCRIPTION = (
    "Cross-validation of the default pipeline (pretraining and threshold "
    "tuning inside each fold) on a data folder (challenge records, PTB-XL "
    "or LUDB), or on the embedded synthetic dataset when no folder is "
    "given. The folds are multi-label stratified, or the data's own "
    "(PTB-XL's strat_fold). Prints the challenge metrics (for classes that "
    "are not challenge codes, such as PTB-XL's, all but the challenge "
    "metric) and writes a report folder: figures per fold and per class (JSON, CSV), "
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
    parser.add_argument("data_dir", nargs="?", type=Path, help=DATA_DIR_HELP)
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
    task = task_of(config.data)
    encoders = _pretrain.load_pretrained(config.model, config.data)
    data = load_records(config.data, task)
    _pretrain.check_leads(encoders, data)
    pipeline = config.model.pipeline(config.data, task, data.classes, pretrained=encoders)
    cv, split = splitter_of(data, config.cv.folds, config.data.seed)
    splits = list(cv.split(data.X, data.y))
    logger.info(f"CV on {describe(config.data, data)}: {len(data.classes)} classes ({task.describe()}), "
                f"thresholds tuned on {task.tuning_scoring}, {config.data.fs} Hz; {split}")
    start = time.perf_counter()
    with checkpoints.kept(settings, len(splits)) as folder:
        result = cross_val_cinc_report(
            ResumableFit(pipeline, folder=folder), data.X, data.y, classes=data.classes, cv=splits,
            year=task.year, return_gate_weights=True, n_jobs=config.cv.n_jobs,
            verbose=int(_progress.enabled()),
        )
    # A fold loaded from an interrupted run took its time then.
    for figures, (train, _) in zip(result.folds, splits):
        figures["fit_time"] = checkpoints.fit_time(data.X[train], data.y[train])
    elapsed = time.perf_counter() - start
    data_settings = {**task.settings(), "split": split, "n_records": len(data.y), "skipped": data.skipped}
    with files_into(config.cv.output) as staging:
        paths = write_report(result, staging, class_names=list(data.class_names),
                             settings={**settings, "elapsed_s": elapsed, "data": data_settings},
                             notes=task.notes())
    checkpoints.discard()
    print(format_summary(result))
    for note in task.notes():
        print(f"\n{note}")
    print(f"\n{elapsed:.0f} s; {split}; report: {config.cv.output}/ ({len(paths)} files)")
    return 0
