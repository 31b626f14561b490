"""``sklearn-ecg pretrain DATA_DIR [DATA_DIR ...] -o ENCODERS``, and the ``--pretrained`` start of the others.

``pretrain`` pretrains the default pipeline's encoders once, without
labels, on records of any layout and sampling rate, and writes them to an
encoders file (:func:`~sklearn_ecg.pretraining.save_encoders`); ``--resume``
continues the training kept in that file. ``fit``, ``cv`` and ``ablation``
start from such a file with ``--pretrained`` (:func:`load_pretrained`).
"""

import hashlib
import time
from dataclasses import dataclass
from pathlib import Path

from ..datasets import load_folders
from ..pipelines import PRETRAINING_METHODS, pretrain_encoders
from ..pretraining import load_encoders, read_encoders_header, save_encoders
from . import _options, _progress
from ._errors import Interrupted, UsageError
from ._files import check_writable
from ._options import FS_RANGE, MIN_WINDOW_S, SELFKD, default_of
from ._progress import logger
from ._records import check_folder

DESCRIPTION = (
    "Pretrain the encoders of the default pipeline once, without labels, on "
    "the records of one or more folders (challenge records, PTB-XL or LUDB, "
    "detected per folder; any sampling rate, resampled to --fs), and write "
    "them to an encoders file: a plain-text header (method, size, sampling "
    "rate, window, leads, branches, records and folders, epochs, version), "
    "then the pickled encoders. `sklearn-ecg fit`, `cv` and `ablation` start "
    "from it with --pretrained. The file is checked to be writable before "
    "anything is loaded, and written whole or not at all; Ctrl-C during "
    "training keeps the epochs trained so far, and --resume continues."
)
# The options a continued run takes from the encoders file when they are not given.
_KEPT = ("method", "size", "fs", "window")


@dataclass(frozen=True)
class PretrainConfig:
    data_dirs: tuple
    output: Path
    method: str | None
    size: str | None
    epochs: int | None
    fs: int | None
    duration: float
    window: float | None
    device: str
    seed: int
    resume: bool

    @classmethod
    def from_args(cls, args):
        config = cls(tuple(args.data_dirs), args.output, args.method, args.size, args.epochs, args.fs,
                     args.duration, args.window, args.device, args.seed, args.resume)
        if config.window is not None and config.window > config.duration:
            raise UsageError(f"argument --window: {config.window:g} s is longer than the records "
                             f"(--duration {config.duration:g})")
        return config


def add_parser(commands):
    parser = commands.add_parser(
        "pretrain", help="pretrain the encoders once on unlabelled records", description=DESCRIPTION
    )
    parser.add_argument("data_dirs", nargs="+", type=Path, metavar="DATA_DIR",
                        help="folder of records: challenge (NAME.hea + NAME.mat), PTB-XL or LUDB")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="encoders file to write, e.g. encoders.joblib")
    resumed = "or the encoders file's with --resume"
    parser.add_argument("--method", choices=PRETRAINING_METHODS, default=None,
                        help="selfkd: the time and spectrogram branches, by self-knowledge distillation; "
                             "contrastive: the time branch, contrastively "
                             f"(default: {default_of(pretrain_encoders, 'method')}, {resumed})")
    parser.add_argument("--size", choices=("tiny", "small", "paper"), default=None,
                        help=f"encoder size preset (default: {default_of(pretrain_encoders, 'size')}, {resumed})")
    parser.add_argument("--epochs", type=_options._bounded(int, 1), default=None,
                        help="pretraining epochs (default: the method's for the size preset; with --resume, "
                             "as many as the first run)")
    parser.add_argument("--fs", type=_options._bounded(int, *FS_RANGE), default=None,
                        help=f"sampling rate in Hz the records are resampled to, {FS_RANGE[0]} to "
                             f"{FS_RANGE[1]} (default: {default_of(pretrain_encoders, 'fs')}, {resumed})")
    parser.add_argument("--duration", type=_options._bounded(float, MIN_WINDOW_S, why=" s (the shortest window)"),
                        default=default_of(load_folders, "duration"),
                        help="seconds kept per record, zero-padded (default: %(default)s)")
    parser.add_argument("--window", type=_options._bounded(float, MIN_WINDOW_S, why=" s (one heartbeat)"),
                        default=None,
                        help="window of the pretraining crops in seconds, the --window of the models that "
                             f"start from them (default: {default_of(pretrain_encoders, 'window')}, {resumed})")
    _options.add_device_option(parser, default=default_of(pretrain_encoders, "device"),
                               default_help="%(default)s")
    parser.add_argument("--seed", type=_options._bounded(int, 0, 2**32 - 1), default=_options.SEED,
                        help="random seed (default: %(default)s)")
    parser.add_argument("--resume", action="store_true",
                        help="continue the pretraining kept in the encoders file (-o) for --epochs more "
                             "epochs, on these folders (selfkd)")
    _options.add_quiet_option(parser)
    parser.set_defaults(configure=PretrainConfig.from_args, run=run)


def run(config):
    check_writable(config.output, "encoders file")
    for folder in config.data_dirs:
        check_folder(folder)
    previous = _previous_run(config) if config.resume else None
    settings = _settings(config, previous)
    verbose = int(_progress.enabled())
    logger.info(f"loading the records of {len(config.data_dirs)} folder(s)")
    pool = load_folders(list(config.data_dirs), labels=None, fs=settings["fs"], duration=config.duration,
                        verbose=verbose)
    sources = [str(folder) for folder in config.data_dirs]
    start = time.perf_counter()
    try:
        with _progress.training_output_to_stderr():
            if previous is None:
                logger.info(f"pretraining {settings['method']} encoders ({settings['size']}) on {len(pool.X)} "
                            f"records, {settings['fs']} Hz, {settings['window']:g} s windows")
                encoders = pretrain_encoders(
                    pool.X, leads=pool.leads, sources=sources, epochs=config.epochs, device=config.device,
                    verbose=verbose, random_state=config.seed, **settings,
                )
            else:
                logger.info(f"continuing the pretraining of {config.output} on {len(pool.X)} records")
                encoders = previous.continue_pretraining(pool.X, epochs=config.epochs, sources=sources,
                                                         device=config.device, verbose=verbose)
        _warn_if_stopped(encoders)
        path = save_encoders(encoders, config.output)
    except KeyboardInterrupt:
        raise Interrupted(f"the encoders file {config.output} was not written") from None
    logger.info(f"pretrained in {time.perf_counter() - start:.0f} s ({_epochs(encoders.runs[-1]['epochs'])}); "
                f"encoders: {path}")
    return 0


def _previous_run(config):
    """The encoders kept in the output file, which the options given must match."""
    if not config.output.is_file():
        raise ValueError(f"--resume: the encoders file {str(config.output)!r} does not exist; "
                         "run without --resume first")
    header = read_encoders_header(config.output)
    changed = [f"--{option} {getattr(config, option)} here, {header[option]} in the file"
               for option in _KEPT if getattr(config, option) not in (None, header[option])]
    if changed:
        raise ValueError(f"--resume: the options differ from those of {str(config.output)!r} "
                         f"({'; '.join(changed)}); give the same, or none of them")
    previous = load_encoders(config.output)
    previous.check_continuable()
    return previous


def _settings(config, previous):
    """Method, size, sampling rate and window: as given, else the file's (--resume), else the defaults."""
    defaults = previous.header if previous is not None else {key: default_of(pretrain_encoders, key) for key in _KEPT}
    return {key: defaults[key] if getattr(config, key) is None else getattr(config, key) for key in _KEPT}


def _warn_if_stopped(encoders):
    """skorch ends training quietly on Ctrl-C: say so when a branch trained fewer epochs than asked."""
    trained = encoders.runs[-1]["epochs"]
    short = {name: trained[name] for name, branch in encoders.branches if trained[name] < _max_epochs(branch)}
    if short:
        logger.warning(f"pretraining stopped early ({_epochs(short)}): the encoders file keeps what was trained; "
                       "the same command with --resume continues")


def _max_epochs(branch):
    """The epochs a branch's pretrainer was asked to train in its latest run."""
    params = branch.get_params(deep=True)
    return next(value for key, value in params.items() if key == "max_epochs" or key.endswith("__max_epochs"))


def _epochs(epochs):
    return ", ".join(f"{name} {count} epochs" for name, count in epochs.items())


def load_pretrained(model, data):
    """The encoders of ``--pretrained`` (None without), checked against the other options.

    The file's header is checked before anything is unpickled, and no
    pretraining epochs may be asked for; then the sampling rate and window
    must be the encoders'.
    """
    if model.pretrained in (None, SELFKD):
        if model.pretrain_epochs is not None and model.pretrained is None:
            raise ValueError("--pretrain-epochs: with --pretrained none nothing is pretrained (--pretrained selfkd "
                             "pretrains inside every fit)")
        return None
    if model.pretrain_epochs is not None:
        raise ValueError("--pretrain-epochs: with --pretrained the encoders are not pretrained again "
                         "(--pretrained selfkd pretrains inside every fit)")
    header = read_encoders_header(model.pretrained)
    if model.size not in (None, header["size"]):
        raise ValueError(f"--size {model.size}, but the --pretrained encoders are {header['size']}; "
                         "leave --size out to take theirs, or give --pretrained selfkd or none")
    encoders = load_encoders(model.pretrained)
    encoders.check_compatible(fs=data.fs, window=model.window)
    logger.info(f"starting from {model.pretrained}: {encoders.method} encoders ({', '.join(encoders.modalities)}, "
                f"{encoders.size}) pretrained on {encoders.n_records} records")
    return encoders


def provenance(model):
    """What reports and model files record of the ``--pretrained`` file: path, SHA-256, header (None without)."""
    if model.pretrained in (None, SELFKD):
        return None
    header = read_encoders_header(model.pretrained)
    return {"path": str(Path(model.pretrained).resolve()), "sha256": _sha256(model.pretrained), "header": header}


def ablation_rows(encoders, path):
    """The ablation's pretraining column and modalities: self-KD in every fit, or the ``--pretrained`` encoders.

    Returns the arguments of ``_ablation.plan`` after the tables: none
    without encoders. With them, the "none" rows train encoders of the same
    size from random weights, and rows that need a branch the encoders lack
    are left out.
    """
    if encoders is None:
        return ()
    logger.info(f"pretraining column: the encoders of {path} ({encoders.method}) against random weights; "
                f"model rows with the branches {', '.join(encoders.modalities)} only")
    scratch = {"pretraining": None, "pretrained": None, "size": encoders.size}  # the same architecture
    return (("pretrained", {"pretrained": encoders}), ("none", scratch)), encoders.modalities


def check_leads(encoders, loaded):
    """The loaded records have the encoders' leads."""
    if encoders is not None:
        encoders.check_compatible(n_leads=loaded.X.shape[1])


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

