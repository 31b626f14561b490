"""Command line: ``sklearn-ecg cv | ablation | fit | predict`` (also ``python -m sklearn_ecg``).

Each command lives in its own module, which adds its parser and runs it.
Bad input (a missing folder, a folder without records, an unreadable or
foreign model file...) ends with one line on stderr and exit status 2, never
a traceback.
"""

import argparse
import sys
import warnings

from . import _ablation, _cv, _fit, _predict

__all__ = ["main"]

_COMMANDS = (_cv, _ablation, _fit, _predict)


def main(argv=None):
    """Run the command line.

    Parameters
    ----------
    argv : list of str, default=None
        Arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    status : int
        0 on success, 2 on bad input (after one line on stderr).

    Examples
    --------
    >>> from sklearn_ecg.cli import main
    >>> main(["predict", "no-such-model.joblib", ".", "-o", "outputs"])
    2
    """
    parser = _build_parser()
    args = parser.parse_args(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        try:
            return args.run(args)
        except (ValueError, OSError) as error:
            # Users get one line that names the problem, not a traceback.
            print(f"sklearn-ecg: error: {_one_line(error)}", file=sys.stderr)
            return 2


def _build_parser():
    parser = argparse.ArgumentParser(
        prog="sklearn-ecg",
        description="Multi-label ECG classification with scikit-learn pipelines.",
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for command in _COMMANDS:
        command.add_parser(commands)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None):
    """Warnings as one line each, without the source line that Python shows."""
    print(f"sklearn-ecg: warning: {_one_line(message)}", file=sys.stderr)


def _one_line(error):
    return " ".join(str(error).split())
