"""``sklearn-ecg fit DATA_DIR -o MODEL``: train the default pipeline once on every record."""

import time
from pathlib import Path

from . import _common
from ._model_file import check_writable, save_model

DESCRIPTION = (
    "Train the default full pipeline (self-KD pretraining of both branches, "
    "gated fusion, per-class thresholds tuned on a validation split) on every "
    "record of a folder of PhysioNet/CinC records, labelled with the 24 scored "
    "classes of 2020, and save it with what `sklearn-ecg predict` needs."
)
YEAR = 2020


def add_parser(commands):
    parser = commands.add_parser(
        "fit", help="train the full pipeline on a folder of records", description=DESCRIPTION
    )
    parser.add_argument("data_dir", type=Path, help="folder of NAME.hea + NAME.mat records")
    parser.add_argument("-o", "--output", type=Path, required=True,
                        help="model file to write, e.g. model.joblib")
    _common.add_data_options(parser, synthetic=False)
    _common.add_model_options(parser)
    parser.set_defaults(run=run)


def run(args):
    from ..pipelines import make_default_pipeline

    check_writable(args.output)
    data = _common.load_records(args, year=YEAR)
    if not data.y.any():
        raise ValueError(
            f"none of the {len(data.y)} records under {args.data_dir} carries a scored class of "
            f"{YEAR}: nothing to learn"
        )
    pipeline = make_default_pipeline(**_common.pipeline_options(args, data.classes))
    _common.say(args, f"fitting on {_common.describe_source(args, data)}: "
                      f"{int(data.y.any(axis=0).sum())} of {len(data.classes)} classes present, "
                      f"{args.fs} Hz, {args.duration:g} s per record")
    start = time.perf_counter()
    pipeline.fit(data.X, data.y)
    elapsed = time.perf_counter() - start
    settings = {**_common.settings_of(args), "n_records": len(data.y), "fit_time_s": elapsed}
    path = save_model(
        args.output, pipeline, classes=data.classes, class_names=data.class_names, year=YEAR,
        fs=args.fs, duration=args.duration, settings=settings,
    )
    _common.say(args, f"fitted in {elapsed:.0f} s; model: {path}")
    return 0
