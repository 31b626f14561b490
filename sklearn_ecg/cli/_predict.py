"""``sklearn-ecg predict MODEL DATA_DIR -o OUT_DIR``: the model's outputs for every record of a folder."""

import csv
from dataclasses import dataclass
from pathlib import Path

from ..datasets import write_challenge_outputs
from ..model_selection import apply_thresholds
from . import _options
from ._files import check_writable, files_into
from ._model_file import load_model
from ._options import DATA_DIR_HELP
from ._progress import logger
from ._records import check_folder, load_folder

TRUST = (
    "A model file holds a pickle, which runs code when it is loaded: use only "
    "model files from a trusted source, such as your own `sklearn-ecg fit`."
)
TABLE = "predictions.csv"
DESCRIPTION = (
    "Classify every record of a data folder (challenge records, PTB-XL or "
    "LUDB, read unlabelled: labels, if any, are not used) with a model file "
    "of `sklearn-ecg fit`. A model of challenge classes writes "
    "OUT_DIR/RECORD.csv per record in the challenge output format: a #RECORD "
    "line, the model's SNOMED-CT codes (those of the year it was trained "
    "on), the 0/1 outputs and the scores, as the official evaluation code "
    f"reads them. A model of other classes (PTB-XL, LUDB) writes OUT_DIR/{TABLE}: "
    "a row per record, its 0/1 output and score per class. Records are "
    "loaded at the sampling rate and duration the model was trained with; "
    "records with fewer leads than 12 get zeros for the absent ones, as the "
    f"model's lead masking trained it for. {TRUST} Its plain-text header "
    "(format, classes) is checked before the pickle is opened."
)


@dataclass(frozen=True)
class PredictConfig:
    model: Path
    data_dir: Path
    output: Path
    device: str | None
    layout: str
    on_error: str
    cache_dir: Path | None

    @classmethod
    def from_args(cls, args):
        return _options.options_from(cls, args)


def add_parser(commands):
    parser = commands.add_parser(
        "predict", help="the outputs of a model file for a folder of records",
        description=DESCRIPTION,
    )
    parser.add_argument("model", type=Path,
                        help="model file written by `sklearn-ecg fit`; it runs code when loaded: "
                             "trusted sources only")
    parser.add_argument("data_dir", type=Path, help=DATA_DIR_HELP)
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="folder of the output files (created if missing)")
    _options.add_loading_options(parser, labelled=False)
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
    data = load_folder(config.data_dir, fs=model["fs"], duration=model["duration"], layout=config.layout,
                       labels=None, on_error=config.on_error, cache_dir=config.cache_dir)
    logger.info(f"predicting {len(data.records)} records of {config.data_dir} with a model of "
                f"{len(model['classes'])} classes ({model['layout']}, labels {model['labels']})")
    scores = pipeline.predict_proba(data.X)
    # The classifier's own thresholds on the probabilities at hand: one forward pass, not two.
    classifier = pipeline[-1]
    labels = apply_thresholds(scores, classifier.thresholds_, at_least_one=classifier.at_least_one)
    with files_into(config.output) as staging:
        if model["year"] is None:
            paths = [_write_table(staging / TABLE, data.records, model["classes"], labels, scores)]
        else:
            paths = write_challenge_outputs(staging, data.records, model["classes"], labels, scores)
    logger.info(f"wrote {len(paths)} output file{'s' if len(paths) > 1 else ''} to {config.output}")
    return 0


def _write_table(path, records, classes, labels, scores):
    """One row per record: its name, its 0/1 output per class, then its score per class."""
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["record", *classes, *(f"{name} score" for name in classes)])
        for record, row_labels, row_scores in zip(records, labels, scores):
            writer.writerow([record, *(int(value) for value in row_labels),
                             *(repr(float(value)) for value in row_scores)])
    return path


def _move_to(classifier, device):
    """Set the device of the fitted classifier, or of each model of a cross-fitted ensemble."""
    for model in getattr(classifier, "estimators_", [classifier]):
        model.set_params(device=device)
