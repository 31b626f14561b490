"""Command line: ``sklearn-ecg cv [DATA_DIR]`` (also ``python -m sklearn_ecg``)."""

import argparse
import sys
import time
from pathlib import Path

__all__ = ["main"]


def main(argv=None):
    """Run the command line; returns the process exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    try:
        return args.command(args)
    except (ValueError, OSError) as error:
        # Users get one line that names the problem, not a traceback.
        print(f"sklearn-ecg: error: {error}", file=sys.stderr)
        return 2


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ecg",
        description="Multi-label ECG classification with scikit-learn pipelines.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    cv = commands.add_parser(
        "cv",
        help="ten-fold cross-validation of the full pipeline",
        description=(
            "Multi-label stratified cross-validation of the default pipeline "
            "(pretraining and threshold tuning inside each fold) on a folder of "
            "PhysioNet/CinC records, or on the embedded synthetic dataset when "
            "no folder is given. Prints the seven challenge metrics and writes "
            "a report folder."
        ),
    )
    cv.add_argument("data_dir", nargs="?", type=Path, help="folder of NAME.hea + NAME.mat records")
    _add_data_options(cv)
    _add_model_options(cv)
    cv.add_argument("--folds", type=int, default=10, help="number of folds (default: 10)")
    cv.add_argument("--n-jobs", type=int, default=None, help="folds fitted in parallel")
    cv.add_argument("-o", "--output", type=Path, default=Path("sklearn_ecg_report"),
                    help="report folder (default: ./sklearn_ecg_report)")
    cv.set_defaults(command=_run_cv)
    return parser


def _add_data_options(parser):
    parser.add_argument("--fs", type=int, default=100, help="sampling rate in Hz (default: 100)")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds kept per record, zero-padded (default: 10)")
    parser.add_argument("--n-records", type=int, default=400,
                        help="records of the synthetic dataset (default: 400)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output")


def _add_model_options(parser):
    parser.add_argument("--window", type=float, default=2.5,
                        help="window length in seconds for training crops and prediction (default: 2.5)")
    parser.add_argument("--size", choices=("tiny", "small", "paper"), default="tiny",
                        help="encoder size preset (default: tiny)")
    parser.add_argument("--pretrain-epochs", type=int, default=None,
                        help="self-KD pretraining epochs per branch (default: the preset's)")
    parser.add_argument("--epochs", type=int, default=None,
                        help="fine-tuning epochs (default: the preset's)")
    parser.add_argument("--device", default="auto", help="torch device: auto, cpu, cuda, cuda:1 ...")


def _load(args):
    from .datasets import load_physionet, make_synthetic_ecg

    if args.data_dir is None:
        return make_synthetic_ecg(
            args.n_records, fs=args.fs, duration=args.duration, random_state=args.seed
        )
    if not args.data_dir.is_dir():
        raise ValueError(f"data folder {str(args.data_dir)!r} does not exist")
    return load_physionet(
        args.data_dir, fs=args.fs, duration=args.duration, verbose=int(not args.quiet)
    )


def _run_cv(args):
    from ._report_files import format_summary, write_report
    from .evaluation import cross_val_cinc_report
    from .model_selection import MultilabelStratifiedKFold
    from .pipelines import make_default_pipeline

    data = _load(args)
    pipeline = make_default_pipeline(
        classes=data.classes, fs=args.fs, window=args.window, size=args.size,
        pretrain_epochs=args.pretrain_epochs, finetune_epochs=args.epochs,
        device=args.device, random_state=args.seed,
    )
    source = str(args.data_dir) if args.data_dir else f"synthetic ({len(data.y)} records)"
    _say(args, f"{args.folds}-fold CV on {source}: {data.X.shape[0]} records, "
               f"{len(data.classes)} classes, {args.fs} Hz")
    start = time.perf_counter()
    result = cross_val_cinc_report(
        pipeline, data.X, data.y, classes=data.classes,
        cv=MultilabelStratifiedKFold(args.folds, random_state=args.seed),
        n_jobs=args.n_jobs, verbose=int(not args.quiet),
    )
    elapsed = time.perf_counter() - start
    settings = {key: str(value) if isinstance(value, Path) else value
                for key, value in vars(args).items() if key != "command"}
    settings["elapsed_s"] = elapsed
    paths = write_report(result, args.output, class_names=list(data.class_names), settings=settings)
    print(format_summary(result))
    print(f"\n{elapsed:.0f} s; report: {args.output}/ ({len(paths)} files)")
    return 0


def _say(args, text):
    if not args.quiet:
        print(text, file=sys.stderr)
