"""``sklearn-ecg cv [DATA_DIR]``: cross-validation of the default pipeline, with a report folder."""

import time
from pathlib import Path

from . import _common

DESCRIPTION = (
    "Multi-label stratified cross-validation of the default pipeline "
    "(pretraining and threshold tuning inside each fold) on a folder of "
    "PhysioNet/CinC records, or on the embedded synthetic dataset when "
    "no folder is given. Prints the seven challenge metrics and writes "
    "a report folder: figures per fold and per class (JSON, CSV), "
    "out-of-fold predictions and gate weights (npz), and plots (ROC and "
    "precision-recall curves, F1 and gate weights per class)."
)


def add_parser(commands):
    parser = commands.add_parser(
        "cv", help="ten-fold cross-validation of the full pipeline", description=DESCRIPTION
    )
    parser.add_argument("data_dir", nargs="?", type=Path, help="folder of NAME.hea + NAME.mat records")
    _common.add_data_options(parser, synthetic=True)
    _common.add_model_options(parser)
    _common.add_cv_options(parser, report="sklearn_ecg_report")
    parser.set_defaults(run=run)


def run(args):
    # Bad input fails before torch is imported.
    data = _common.load_records(args)
    _common.make_report_folder(args)
    from .._report_files import format_summary, write_report
    from ..evaluation import cross_val_cinc_report
    from ..model_selection import MultilabelStratifiedKFold
    from ..pipelines import make_default_pipeline

    pipeline = make_default_pipeline(**_common.pipeline_options(args, data.classes))
    _common.say(args, f"{args.folds}-fold CV on {_common.describe_source(args, data)}: "
                      f"{len(data.classes)} classes, {args.fs} Hz")
    start = time.perf_counter()
    result = cross_val_cinc_report(
        pipeline, data.X, data.y, classes=data.classes,
        cv=MultilabelStratifiedKFold(args.folds, random_state=args.seed),
        return_gate_weights=True, n_jobs=args.n_jobs, verbose=int(not args.quiet),
    )
    elapsed = time.perf_counter() - start
    settings = {**_common.settings_of(args), "elapsed_s": elapsed}
    paths = write_report(result, args.output, class_names=list(data.class_names), settings=settings)
    print(format_summary(result))
    print(f"\n{elapsed:.0f} s; report: {args.output}/ ({len(paths)} files)")
    return 0
