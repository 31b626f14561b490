"""``sklearn-ecg predict MODEL DATA_DIR -o OUT_DIR``: one challenge output file per record."""

from dataclasses import dataclass
from pathlib import Path

from ..datasets import write_challenge_outputs
from ..model_selection import apply_thresholds
from . import _options
from ._files import check_writable, files_into
from ._model_file import load_model
from ._progress import logger
from ._records import check_folder, load_folder

TRUST = (
    "A model file holds a pickle, which runs code when it is loaded: use only "
    "model files from a trusted source, such as your own `sklearn-ecg fit`."
)
DESCRIPTION = (
    "Classify every record of a folder of PhysioNet/CinC records with a model "
    "file of `sklearn-ecg fit`, and write OUT_DIR/RECORD.csv per record in the "
    "challenge output format: a #RECORD line, the model's SNOMED-CT codes, "
    "the 0/1 outputs and the scores, as the official evaluation code reads "
    "them. Records are loaded at the sampling rate and duration the model was "
    f"trained with; their labels, if any, are not used. {TRUST} Its plain-text "
    "header (format, classes) is checked before the pickle is opened."
)


@dataclass(frozen=True)
class PredictConfig:
    model: Path
    data_dir: Path
    output: Path
    device: str | None

    @classmethod
    def from_args(cls, args):
        return cls(args.model, args.data_dir, args.output, args.device)


def add_parser(commands):
    parser = commands.add_parser(
        "predict", help="write challenge output files for a folder of records",
        description=DESCRIPTION,
    )
    parser.add_argument("model", type=Path,
                        help="model file written by `sklearn-ecg fit`; it runs code when loaded: "
                             "trusted sources only")
    parser.add_argument("data_dir", type=Path, help="folder of NAME.hea + NAME.mat records")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="folder of the output files (created if missing)")
    _options.add_device_option(parser, default=None, default_help="the one the model was fitted on")
    _options.add_quiet_option(parser)
    parser.set_defaults(configure=PredictConfig.from_args, run=run)


def run(config):
    check_folder(config.data_dir)
    check_writable(config.output, "output folder", folder=True)
    model = load_model(config.model)
    pipeline = model["pipeline"]
    if config.device is not None:
        _move_to(pipeline[-1], config.device)
    # year=None: labels are not needed, and codes unknown to the tables are no error here.
    data = load_folder(config.data_dir, fs=model["fs"], duration=model["duration"], year=None)
    logger.info(f"predicting {len(data.records)} records of {config.data_dir}")
    scores = pipeline.predict_proba(data.X)
    # The classifier's own thresholds on the probabilities at hand: one forward pass, not two.
    classifier = pipeline[-1]
    labels = apply_thresholds(scores, classifier.thresholds_, at_least_one=classifier.at_least_one)
    with files_into(config.output) as staging:
        paths = write_challenge_outputs(staging, data.records, model["classes"], labels, scores)
    logger.info(f"wrote {len(paths)} output files to {config.output}")
    return 0


def _move_to(classifier, device):
    """Set the device of the fitted classifier, or of each model of a cross-fitted ensemble."""
    for model in getattr(classifier, "estimators_", [classifier]):
        model.set_params(device=device)
