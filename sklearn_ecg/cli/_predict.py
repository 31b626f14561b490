"""``sklearn-ecg predict MODEL DATA_DIR -o OUT_DIR``: one challenge output file per record."""

from pathlib import Path

from . import _common
from ._model_file import load_model

DESCRIPTION = (
    "Classify every record of a folder of PhysioNet/CinC records with a model "
    "file of `sklearn-ecg fit`, and write OUT_DIR/RECORD.csv per record in the "
    "challenge output format: a #RECORD line, the model's SNOMED-CT codes, "
    "the 0/1 outputs and the scores, as the official evaluation code reads "
    "them. Records are loaded at the sampling rate and duration the model was "
    "trained with; their labels, if any, are not used."
)


def add_parser(commands):
    parser = commands.add_parser(
        "predict", help="write challenge output files for a folder of records",
        description=DESCRIPTION,
    )
    parser.add_argument("model", type=Path, help="model file written by `sklearn-ecg fit`")
    parser.add_argument("data_dir", type=Path, help="folder of NAME.hea + NAME.mat records")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="folder of the output files (created if missing)")
    _common.add_device_option(parser, default=None)
    _common.add_quiet_option(parser)
    parser.set_defaults(run=run)


def run(args):
    from ..datasets import load_physionet, write_challenge_outputs

    model = load_model(args.model)
    _common.check_folder(args.data_dir)
    if args.output.exists() and not args.output.is_dir():
        raise ValueError(f"output folder {str(args.output)!r} is a file")
    pipeline = model["pipeline"]
    if args.device is not None:
        _move_to(pipeline[-1], args.device)
    # year=None: labels are not needed, and codes unknown to the tables are no error here.
    data = load_physionet(
        args.data_dir, fs=model["fs"], duration=model["duration"], year=None,
        verbose=int(not args.quiet),
    )
    _common.say(args, f"predicting {len(data.records)} records of {args.data_dir}")
    scores, labels = pipeline.predict_proba(data.X), pipeline.predict(data.X)
    paths = write_challenge_outputs(args.output, data.records, model["classes"], labels, scores)
    _common.say(args, f"wrote {len(paths)} output files to {args.output}")
    return 0


def _move_to(classifier, device):
    """Set the device of the fitted classifier, or of each model of a cross-fitted ensemble."""
    for model in getattr(classifier, "estimators_", [classifier]):
        model.set_params(device=device)
