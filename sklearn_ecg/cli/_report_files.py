"""Writing a cross-validation result as a folder of JSON, CSV and plots."""

import csv
import json
from pathlib import Path

import numpy as np

METRIC_NAMES = ("challenge", "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2")


def metric_names(result):
    """The figures of ``result``, in table order: the challenge metric only where it is defined."""
    return [name for name in METRIC_NAMES if name in result.pooled]


def summary_table(result):
    """Rows of (metric, mean over folds, std over folds, pooled)."""
    rows = []
    for name in metric_names(result):
        values = np.array([fold[name] for fold in result.folds], dtype=float)
        rows.append((name, np.nanmean(values), np.nanstd(values), result.pooled[name]))
    return rows


def format_summary(result):
    """The summary table as aligned text."""
    lines = [f"{'metric':<12} {'mean':>7} {'std':>7} {'pooled':>7}"]
    for name, mean, std, pooled in summary_table(result):
        lines.append(f"{name:<12} {mean:7.3f} {std:7.3f} {pooled:7.3f}")
    return "\n".join(lines)


def write_report(result, folder, *, class_names, settings, notes=()):
    """Write ``result`` of :func:`~sklearn_ecg.evaluation.cross_val_cinc_report`.

    Files: ``summary.json`` (settings, figures per fold and pooled, ``notes``
    and a note of its own when there are no gate weights),
    ``folds.csv`` (figures per fold), ``per_class.csv``, ``predictions.npz``
    (out-of-fold arrays); with gate weights, ``gate_weights.npz`` and
    ``gate_weights.csv`` (per class, the first modality's weight over the
    records positive for it); and, when matplotlib is installed,
    ``roc_pr_curves.png``, ``f1_per_class.png`` and ``gate_weights.png``.
    Returns the list of written paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gates = getattr(result, "gate_weights", None)
    notes = list(notes) if gates is not None else [*notes, (
        "No gate-weight figures: the estimator has no gate (e.g. fusion='concat'), or "
        "gate weights were not collected."
    )]
    summary = {
        "settings": settings,
        "folds": result.folds,
        "pooled": result.pooled,
        "summary": [dict(zip(("metric", "mean", "std", "pooled"), row)) for row in summary_table(result)],
        "notes": notes,
    }
    paths = [folder / name for name in ("summary.json", "folds.csv", "per_class.csv", "predictions.npz")]
    paths[0].write_text(json.dumps(summary, indent=2, default=_json_default))
    _write_rows(paths[1], ["fold", *result.folds[0]], [[i, *fold.values()] for i, fold in enumerate(result.folds)])
    _write_per_class(paths[2], result, class_names)
    np.savez_compressed(
        paths[3], y_true=result.y_true, y_score=result.y_score, y_pred=result.y_pred,
        fold_of=result.fold_of, classes=result.classes,
    )
    if gates is not None:
        paths += _write_gate_files(folder, result, class_names)
    return paths + _write_plots(folder, result, class_names)


def gate_weight_rows(result, class_names):
    """Per class: code, name, records positive, and quartiles of the first modality's weight."""
    weight = result.gate_weights[:, 0]
    rows = []
    for j, (code, name) in enumerate(zip(result.classes, class_names)):
        values = weight[result.y_true[:, j] == 1]
        quartiles = np.percentile(values, [25, 50, 75]) if len(values) else [np.nan] * 3
        rows.append([code, name, len(values), *quartiles])
    return rows


def _write_gate_files(folder, result, class_names):
    arrays, table = folder / "gate_weights.npz", folder / "gate_weights.csv"
    np.savez_compressed(
        arrays, gate_weights=result.gate_weights, modality_names=result.modality_names,
        y_true=result.y_true, fold_of=result.fold_of, classes=result.classes,
    )
    modality = result.modality_names[0]
    header = ["code", "name", "n_positive", f"{modality}_q25", f"{modality}_median", f"{modality}_q75"]
    _write_rows(table, header, gate_weight_rows(result, class_names))
    return [arrays, table]


def _write_rows(path, header, rows):
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header)
        writer.writerows([_plain(value) for value in row] for row in rows)


def _write_per_class(path, result, class_names):
    columns = list(result.per_class.values())
    rows = [
        [code, name, *(column[i] for column in columns)]
        for i, (code, name) in enumerate(zip(result.classes, class_names))
    ]
    _write_rows(path, ["code", "name", *result.per_class], rows)


def _write_plots(folder, result, class_names):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from sklearn.metrics import precision_recall_curve, roc_curve
    except ImportError:
        return []
    fig, (roc_ax, pr_ax) = plt.subplots(1, 2, figsize=(12, 5.5))
    colours = plt.get_cmap("tab20").colors  # distinct for up to 20 classes
    for ax in (roc_ax, pr_ax):
        ax.set_prop_cycle(color=colours)
    for j, name in enumerate(class_names):
        truth, score = result.y_true[:, j], result.y_score[:, j]
        if 0 < truth.sum() < len(truth):
            roc_ax.plot(*roc_curve(truth, score)[:2], lw=1, label=name)
            precision, recall, _ = precision_recall_curve(truth, score)
            pr_ax.plot(recall, precision, lw=1, label=name)
    roc_ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC per class")
    pr_ax.set(xlabel="recall", ylabel="precision", title="Precision-recall per class")
    roc_ax.legend(fontsize=6, ncol=2)
    curves = folder / "roc_pr_curves.png"
    fig.savefig(curves, dpi=110, bbox_inches="tight")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(max(6, 0.4 * len(class_names)), 4))
    ax.bar(np.arange(len(class_names)), np.nan_to_num(result.per_class["f1"]))
    ax.set_xticks(np.arange(len(class_names)), class_names, rotation=60, fontsize=8)
    ax.set(ylabel="F1 (pooled out-of-fold)", ylim=(0, 1), title="F1 per class")
    bars = folder / "f1_per_class.png"
    fig.savefig(bars, dpi=110, bbox_inches="tight")
    plt.close(fig)
    if getattr(result, "gate_weights", None) is None:
        return [curves, bars]
    return [curves, bars, _plot_gate_weights(plt, folder, result, class_names)]


def _plot_gate_weights(plt, folder, result, class_names):
    """Boxplot per class of the first modality's gate weight over the class's positive records."""
    weight = result.gate_weights[:, 0]
    groups = [weight[result.y_true[:, j] == 1] for j in range(len(class_names))]
    shown = [j for j, group in enumerate(groups) if len(group)]
    fig, ax = plt.subplots(figsize=(max(6, 0.4 * len(class_names)), 4))
    ax.boxplot([groups[j] for j in shown], positions=np.arange(len(shown)))
    ax.set_xticks(np.arange(len(shown)), [class_names[j] for j in shown], rotation=60, fontsize=8)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set(
        ylim=(0, 1), ylabel=f"gate weight of {result.modality_names[0]}",
        title="Gate weight per class (out-of-fold records positive for the class)",
    )
    path = folder / "gate_weights.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return "" if isinstance(value, float) and np.isnan(value) else value


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
