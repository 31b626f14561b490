"""Options and helpers shared by the commands."""

import argparse
import sys
from pathlib import Path


def int_at_least(minimum):
    """argparse type: an integer of at least ``minimum``."""

    def parse(text):
        value = int(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an integer of at least {minimum}, got {text}")
        return value

    parse.__name__ = "integer"  # argparse names the type in its messages
    return parse


positive_int = int_at_least(1)


def positive_float(text):
    """argparse type: a number greater than 0."""
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_data_options(parser, *, synthetic):
    """Sampling rate and duration of the loaded records, seed, quiet; synthetic dataset size."""
    parser.add_argument("--fs", type=positive_int, default=100, help="sampling rate in Hz (default: 100)")
    parser.add_argument("--duration", type=positive_float, default=10.0,
                        help="seconds kept per record, zero-padded (default: 10)")
    if synthetic:
        parser.add_argument("--n-records", type=positive_int, default=400,
                            help="records of the synthetic dataset (default: 400)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default: 0)")
    add_quiet_option(parser)


def add_quiet_option(parser):
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress output on stderr")


def add_model_options(parser):
    """Options of :func:`~sklearn_ecg.pipelines.make_default_pipeline`."""
    parser.add_argument("--window", type=positive_float, default=2.5,
                        help="window length in seconds for training crops and prediction (default: 2.5)")
    parser.add_argument("--size", choices=("tiny", "small", "paper"), default="tiny",
                        help="encoder size preset (default: tiny)")
    parser.add_argument("--pretrain-epochs", type=positive_int, default=None,
                        help="self-KD pretraining epochs per branch (default: the preset's)")
    parser.add_argument("--epochs", type=positive_int, default=None,
                        help="fine-tuning epochs (default: the preset's)")
    parser.add_argument("--ensemble", type=int_at_least(2), default=None, metavar="K",
                        help="average K models cross-fitted on inner folds, whose out-of-fold "
                             "probabilities tune the thresholds (about K times the training; "
                             "default: one model, thresholds tuned on a validation split)")
    add_device_option(parser, default="auto")


def add_device_option(parser, *, default):
    parser.add_argument("--device", default=default, help="torch device: auto, cpu, cuda, cuda:1 ...")


def add_cv_options(parser, *, report):
    """Folds, parallel jobs and the report folder of a cross-validating command."""
    parser.add_argument("--folds", type=int_at_least(2), default=10, help="number of folds (default: 10)")
    parser.add_argument("--n-jobs", type=int, default=None, help="folds fitted in parallel")
    parser.add_argument("-o", "--output", type=Path, default=Path(report),
                        help=f"report folder (default: ./{report})")


def pipeline_options(args, classes, **overrides):
    """Keyword arguments of ``make_default_pipeline`` from the parsed options."""
    return dict(
        classes=classes, fs=args.fs, window=args.window, size=args.size,
        pretrain_epochs=args.pretrain_epochs, finetune_epochs=args.epochs, ensemble=args.ensemble,
        device=args.device, random_state=args.seed, **overrides,
    )


def make_report_folder(args):
    """Create the report folder first: a bad path must fail before hours of work, not after."""
    args.output.mkdir(parents=True, exist_ok=True)


def check_folder(path, what="data folder"):
    if not path.is_dir():
        raise ValueError(f"{what} {str(path)!r} does not exist or is not a folder")


def load_records(args, *, year=2020):
    """The records of ``args.data_dir``, or the synthetic dataset when none is given."""
    data_dir = getattr(args, "data_dir", None)
    if data_dir is None:
        from ..datasets import make_synthetic_ecg

        return make_synthetic_ecg(
            args.n_records, fs=args.fs, duration=args.duration, random_state=args.seed
        )
    check_folder(data_dir)  # before the imports, so that a typo fails at once
    from ..datasets import load_physionet

    return load_physionet(
        data_dir, fs=args.fs, duration=args.duration, year=year, verbose=int(not args.quiet)
    )


def describe_source(args, data):
    if getattr(args, "data_dir", None) is None:
        return f"synthetic dataset ({len(data.y)} records)"
    return f"{args.data_dir} ({len(data.y)} records)"


def settings_of(args):
    """The parsed options as JSON-ready values, for a report."""
    return {key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items() if key != "run"}


def say(args, text):
    """Progress line on stderr, unless ``--quiet``."""
    if not args.quiet:
        print(text, file=sys.stderr)
