"""``sklearn-ecg ablation [DATA_DIR]``: the paper's ablation and lead-agnostic tables.

Every model of a table is cross-validated on the same folds. The ablation
table crosses the fused modalities (time only, spectrogram only, both
concatenated, both gated) with the pretraining (self-KD or none). The
lead-agnostic table trains the gated model on 12 leads, with the default
random lead masking and without, and scores each fold's fitted model on its
test records reduced to 12, 6, 4, 3, 2 and 1 leads (absent leads zeroed), so
that a model is fitted once per fold, not once per lead set.
"""

import csv
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..evaluation import cross_val_cinc_report
from ..preprocessing import LeadMasker
from ..pretraining import PretrainedEncoders
from . import _options, _pretrain, _progress
from ._files import check_writable, files_into
from ._options import DATA_DIR_HELP, CVOptions, DataOptions, ModelOptions
from ._progress import logger
from ._records import describe, load_records
from ._report_files import metric_names
from ._splits import splitter_of
from ._tasks import task_of

DESCRIPTION = (
    "The ablation table of the multimodal self-KD paper (time only, "
    "spectrogram only, concatenation, gate; each with and without self-KD "
    "pretraining) and the lead-agnostic table (trained on 12 leads with and "
    "without random lead masking, scored on 12, 6, 4, 3, 2 and 1 leads), by "
    "the cv command's protocol on the same folds. Prints both tables and "
    "writes them to the report folder (CSV, and JSON with every fold)."
)
MODELS = (
    ("time only", {"branches": ("time",), "fusion": "concat"}),
    ("spectrogram only", {"branches": ("spectrogram",), "fusion": "concat"}),
    ("concatenation", {"fusion": "concat"}),
    ("gate", {"fusion": "gate"}),
)
PRETRAINING = (("self-KD", {"pretraining": "fit"}), ("none", {"pretraining": None}))
FUSED = ("time", "spectrogram")  # the modalities of a model row without its own branches
# Without an override, the lead masking is the default pipeline's.
LEAD_MASKING = (("random", {}), ("none", {"lead_mask_proba": 0.0}))
LEAD_COUNTS = (12, 6, 4, 3, 2, 1)


def add_parser(commands):
    parser = commands.add_parser(
        "ablation", help="ablation and lead-agnostic tables", description=DESCRIPTION
    )
    parser.add_argument("data_dir", nargs="?", type=Path, help=DATA_DIR_HELP)
    parser.add_argument("--tables", choices=("all", "modalities", "leads"), default="all",
                        help="which tables to make (default: all)")
    _options.add_data_options(parser, synthetic=True)
    _options.add_model_options(parser, paper=True)
    _options.add_cv_options(parser, report="sklearn_ecg_ablation")
    parser.set_defaults(configure=AblationConfig.from_args, run=run)


@dataclass(frozen=True)
class AblationConfig:
    data: DataOptions
    model: ModelOptions
    cv: CVOptions
    tables: str

    @classmethod
    def from_args(cls, args):
        return cls(*_options.cv_options_from(args), tables=args.tables)


def plan(tables, pretraining=PRETRAINING, modalities=FUSED):
    """Rows of the requested tables: (table, row labels, pipeline options).

    ``pretraining``: (label, pipeline options) pairs, the first one that of
    the lead-agnostic table; model rows that need a modality outside
    ``modalities`` are left out.
    """
    rows = []
    if tables in ("all", "modalities"):
        for model, options in MODELS:
            if not set(options.get("branches", FUSED)) <= set(modalities):
                continue
            for label, value in pretraining:
                rows.append(("modalities", {"model": model, "pretraining": label},
                             {"fusion": "gate", **options, **value}))
    if tables in ("all", "leads"):
        for masking, options in LEAD_MASKING:
            rows.append(("leads", {"lead masking": masking},
                         {"fusion": "gate", **pretraining[0][1], **options}))
    return rows


def run(config):
    check_writable(config.cv.output, "report folder", folder=True)
    task = task_of(config.data)
    encoders = _pretrain.load_pretrained(config.model, config.data)
    pretrained = _pretrain.provenance(config.model)
    data = load_records(config.data, task)
    _pretrain.check_leads(encoders, data)
    cv, split = splitter_of(data, config.cv.folds, config.data.seed)
    rows = plan(config.tables, *_pretrain.ablation_rows(encoders, config.model.pretrained))
    # The gated, pretrained model is a row of both tables: cross-validate it once.
    runs = {}
    for table, labels, options in rows:
        entry = runs.setdefault(_key(options), {"options": options, "leads": False, "rows": []})
        entry["leads"] |= table == "leads"
        entry["rows"].append(f"{table}: " + ", ".join(f"{k} {v}" for k, v in labels.items()))
    logger.info(f"{len(runs)} cross-validations on {describe(config.data, data)} "
                f"({task.describe()}); {split}")
    start = time.perf_counter()
    for i, entry in enumerate(runs.values(), 1):
        logger.info(f"[{i}/{len(runs)}] {'; '.join(entry['rows'])}")
        entry["result"] = _cross_validate(config, task, data, cv, entry["options"], entry["leads"])
    tables = _tables(rows, runs)
    elapsed = time.perf_counter() - start
    report = {
        "settings": {**_options.settings_of(config), "pretrained": pretrained, "elapsed_s": elapsed,
                     "data": {**task.settings(), "split": split, "n_records": len(data.y)}},
        "notes": task.notes(),
        "runs": [
            {"rows": entry["rows"], "options": entry["options"], "pooled": entry["result"].pooled,
             "folds": entry["result"].folds}
            for entry in runs.values()
        ],
        "tables": tables,
    }
    with files_into(config.cv.output) as staging:
        for name, table in tables.items():
            _write_csv(staging / f"{name}.csv", table)
        (staging / "ablation.json").write_text(json.dumps(report, indent=2, default=_plain))
    for name, table in tables.items():
        print(f"\n{name}\n{format_table(table)}")
    for note in task.notes():
        print(f"\n{note}")
    print(f"\n{elapsed:.0f} s; {split}; report: {config.cv.output}/")
    return 0


def _cross_validate(config, task, data, cv, options, lead_sets):
    transforms = {str(k): LeadMasker(leads=k) for k in LEAD_COUNTS} if lead_sets else None
    return cross_val_cinc_report(
        config.model.pipeline(config.data, task, data.classes, **options),
        data.X, data.y, classes=data.classes, cv=cv, year=task.year,
        test_transforms=transforms, n_jobs=config.cv.n_jobs, verbose=int(_progress.enabled()),
    )


def _tables(rows, runs):
    """Table name -> list of rows (dicts of labels and pooled figures)."""
    tables = {}
    for table, labels, options in rows:
        result = runs[_key(options)]["result"]
        if table == "modalities":
            tables.setdefault("ablation", []).append({**labels, **_figures(result)})
        else:
            for k in LEAD_COUNTS:
                figures = _figures(result.test_transforms[str(k)])
                tables.setdefault("lead_sets", []).append({**labels, "leads": k, **figures})
    return tables


def _figures(result):
    """The pooled figures, and the spread over folds of the first (the challenge metric where defined)."""
    names = metric_names(result)
    figures = {name: float(result.pooled[name]) for name in names}
    figures[f"{names[0]}_fold_std"] = float(np.nanstd([fold[names[0]] for fold in result.folds]))
    return figures


def format_table(table):
    """Rows of dicts as aligned text, numbers with three decimals."""
    columns = list(table[0])
    cells = [[_cell(row[column]) for column in columns] for row in table]
    widths = [max(len(column), *(len(row[i]) for row in cells)) for i, column in enumerate(columns)]
    lines = [" ".join(f"{column:>{width}}" for column, width in zip(columns, widths))]
    lines += [" ".join(f"{cell:>{width}}" for cell, width in zip(row, widths)) for row in cells]
    return "\n".join(lines)


def _cell(value):
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def _write_csv(path, table):
    with open(path, "w", newline="") as stream:
        writer = csv.DictWriter(stream, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)


def _key(options):
    return tuple(sorted((name, str(value)) for name, value in options.items()))


def _plain(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, PretrainedEncoders):
        return repr(value)  # the settings record their file
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
