"""Command line: ``sklearn-ecg cv | ablation | fit | predict | pretrain`` (also ``python -m sklearn_ecg``).

Each command lives in its own module, which adds its parser, turns the
parsed options into its config dataclass (checking them before any work)
and runs it. Nonsensical options end with the usage and exit status 2;
bad input (a missing folder, a folder without records, an unreadable or
foreign model file...) with one line on stderr and exit status 2; Ctrl-C
with one line saying what was kept and exit status 130; never a traceback.
Progress goes to stderr unless ``--quiet``, results to stdout.
"""

import argparse
import sys
import warnings

from . import _ablation, _cv, _fit, _predict, _pretrain, _progress
from ._errors import Interrupted, UsageError

__all__ = ["main"]

_COMMANDS = (_cv, _ablation, _fit, _predict, _pretrain)
INTERRUPTED = 130  # the shell's status for a process ended by SIGINT


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 on bad input (after one line on stderr), 130 when
        interrupted by Ctrl-C. Bad options exit with status 2 after the
        usage.

    Examples
    --------
    >>> from sklearn_ecg.cli import main
    >>> main(["predict", "no-such-model.joblib", ".", "-o", "outputs"])
    2
    """
    args = _build_parser().parse_args(argv)
    try:
        config = args.configure(args)
    except UsageError as error:
        args.parser.error(str(error))
    with _progress.logging_to_stderr(quiet=args.quiet), warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.run(config)
        except Interrupted as error:
            print(f"sklearn-ecg: interrupted: {error}", file=sys.stderr)
            return INTERRUPTED
        except KeyboardInterrupt:
            print("sklearn-ecg: interrupted", file=sys.stderr)
            return INTERRUPTED
        except (ValueError, OSError) as error:
            # Users get one line that names the problem, not a traceback.
            print(f"sklearn-ecg: error: {_progress.one_line(error)}", file=sys.stderr)
            return 2


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ecg",
        description="Multi-label ECG classification with scikit-learn pipelines.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    for subparser in commands.choices.values():
        subparser.set_defaults(parser=subparser)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each through the logger, without the source line that Python shows."""
    _progress.warn(message)
