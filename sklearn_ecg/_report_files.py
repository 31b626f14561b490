"""Writing a cross-validation result as a folder of JSON, CSV and plots."""

import csv
import json
from pathlib import Path

import numpy as np

METRIC_NAMES = ("challenge", "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2")


def summary_table(result):
    """Rows of (metric, mean over folds, std over folds, pooled)."""
    rows = []
    for name in METRIC_NAMES:
        values = np.array([fold[name] for fold in result.folds], dtype=float)
        rows.append((name, np.nanmean(values), np.nanstd(values), result.pooled[name]))
    return rows


def format_summary(result):
    """The summary table as aligned text."""
    lines = [f"{'metric':<12} {'mean':>7} {'std':>7} {'pooled':>7}"]
    for name, mean, std, pooled in summary_table(result):
        lines.append(f"{name:<12} {mean:7.3f} {std:7.3f} {pooled:7.3f}")
    return "\n".join(lines)


def write_report(result, folder, *, class_names, settings):
    """Write ``result`` of :func:`~sklearn_ecg.evaluation.cross_val_cinc_report`.

    Files: ``summary.json`` (settings, figures per fold and pooled),
    ``per_class.csv``, ``predictions.npz`` (out-of-fold arrays) and, when
    matplotlib is installed, ``roc_pr_curves.png`` and ``f1_per_class.png``.
    Returns the list of written paths.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    summary = {
        "settings": settings,
        "folds": result.folds,
        "pooled": result.pooled,
        "summary": [dict(zip(("metric", "mean", "std", "pooled"), row)) for row in summary_table(result)],
    }
    paths = [folder / "summary.json", folder / "per_class.csv", folder / "predictions.npz"]
    paths[0].write_text(json.dumps(summary, indent=2, default=_json_default))
    _write_per_class(paths[1], result, class_names)
    np.savez_compressed(
        paths[2], y_true=result.y_true, y_score=result.y_score, y_pred=result.y_pred,
        fold_of=result.fold_of, classes=result.classes,
    )
    return paths + _write_plots(folder, result, class_names)


def _write_per_class(path, result, class_names):
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["code", "name", *result.per_class])
        columns = list(result.per_class.values())
        for i, (code, name) in enumerate(zip(result.classes, class_names)):
            writer.writerow([code, name, *(_plain(column[i]) for column in columns)])


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
    return [curves, bars]


def _plain(value):
    value = value.item() if hasattr(value, "item") else value
    return "" if isinstance(value, float) and np.isnan(value) else value


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")
