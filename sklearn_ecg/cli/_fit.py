"""``sklearn-ecg fit DATA_DIR -o MODEL``: train the default pipeline once on every record."""

import time
from dataclasses import dataclass
from pathlib import Path

from . import _options, _pretrain, _progress
from ._errors import Interrupted
from ._files import check_writable
from ._model_file import save_model
from ._options import DATA_DIR_HELP, DataOptions, ModelOptions
from ._progress import logger
from ._records import describe, load_records
from ._tasks import task_of

DESCRIPTION = (
    "Train the default full pipeline (self-KD pretraining of both branches, "
    "gated fusion, per-class thresholds tuned on a validation split) on every "
    "record of a data folder: challenge records labelled with a challenge "
    "year's scored classes (--year), or PTB-XL or LUDB with one of their "
    "label tasks (--labels). Saves it with what `sklearn-ecg predict` needs, "
    "the layout and labels it was trained with included. The model file is "
    "checked to be writable before training, and written whole or not at all."
)


@dataclass(frozen=True)
class FitConfig:
    data: DataOptions
    model: ModelOptions
    output: Path

    @classmethod
    def from_args(cls, args):
        config = cls(_options.options_from(DataOptions, args), _options.options_from(ModelOptions, args),
                     output=args.output)
        _options.check_window(config.data, config.model)
        return config


def add_parser(commands):
    parser = commands.add_parser(
        "fit", help="train the full pipeline on a folder of records", description=DESCRIPTION
    )
    parser.add_argument("data_dir", type=Path, help=DATA_DIR_HELP)
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="model file to write, e.g. model.joblib")
    _options.add_data_options(parser, synthetic=False)
    _options.add_model_options(parser)
    parser.set_defaults(configure=FitConfig.from_args, run=run)


def run(config):
    check_writable(config.output, "model file")
    task = task_of(config.data)
    encoders, pretrained = _pretrain.load_pretrained(config.model, config.data), _pretrain.provenance(config.model)
    data = load_records(config.data, task)
    _pretrain.check_leads(encoders, data)
    if not data.y.any():
        raise ValueError(
            f"none of the {len(data.y)} records under {config.data.data_dir} carries a class of "
            f"{task.describe()}: nothing to learn"
        )
    pipeline = config.model.pipeline(config.data, task, data.classes, pretrained=encoders)
    if _progress.enabled():
        _progress.show_training_progress(pipeline)
    logger.info(f"fitting on {describe(config.data, data)}: "
                f"{int(data.y.any(axis=0).sum())} of {len(data.classes)} classes present ({task.describe()}), "
                f"thresholds tuned on {task.tuning_scoring}, "
                f"{config.data.fs} Hz, {config.data.duration:g} s per record")
    start = time.perf_counter()
    try:
        with _progress.training_output_to_stderr():
            pipeline.fit(data.X, data.y)
        elapsed = time.perf_counter() - start
        settings = {**_options.settings_of(config), "pretrained": pretrained, "n_records": len(data.y),
                    "fit_time_s": elapsed}
        path = save_model(
            config.output, pipeline, classes=data.classes, class_names=data.class_names, task=task,
            fs=config.data.fs, duration=config.data.duration, settings=settings,
        )
    except KeyboardInterrupt:
        raise Interrupted(f"the model file {config.output} was not written") from None
    logger.info(f"fitted in {elapsed:.0f} s; model: {path}")
    return 0
