"""Vectorised challenge metrics against loops written like the official code.

Times ``challenge_metric`` and the AUROC/AUPRC pair of ``sklearn_ecg.metrics``
on random labels and scores (40,000 records x 24 classes, or 2,000 with
``--quick``), beside straightforward Python loops that mirror
``evaluate_12ECG_score.py`` (one loop over recordings and classes for the
challenge metric, one walk over the thresholds of each class for the areas).
Both sides must agree; the table shows the largest difference.

Usage: python benchmarks/bench_metrics.py [--quick] [--repeat N]
"""

import argparse
import time

import numpy as np

from sklearn_ecg.classes import scored_classes
from sklearn_ecg.metrics import challenge_metric, macro_auprc, macro_auroc


def loop_challenge_metric(labels, outputs, weights, normal):
    """The official challenge metric, loops as in evaluate_12ECG_score.py."""

    def modified_confusion(outputs):
        n_records, n_classes = labels.shape
        matrix = np.zeros((n_classes, n_classes))
        for i in range(n_records):
            normalization = float(max(np.sum(np.any((labels[i], outputs[i]), axis=0)), 1))
            for j in range(n_classes):
                if labels[i, j]:
                    for k in range(n_classes):
                        if outputs[i, k]:
                            matrix[j, k] += 1.0 / normalization
        return matrix

    inactive_outputs = np.zeros_like(labels)
    inactive_outputs[:, normal] = True
    observed = np.nansum(weights * modified_confusion(outputs))
    correct = np.nansum(weights * modified_confusion(labels))
    inactive = np.nansum(weights * modified_confusion(inactive_outputs))
    if correct == inactive:
        return 0.0
    return float(observed - inactive) / float(correct - inactive)


def loop_auroc_auprc(labels, scores):
    """The official AUROC and AUPRC: per class, a walk over distinct thresholds."""
    n_records, n_classes = labels.shape
    auroc, auprc = np.zeros(n_classes), np.zeros(n_classes)
    for k in range(n_classes):
        thresholds = np.unique(scores[:, k])
        thresholds = np.append(thresholds, thresholds[-1] + 1)[::-1]
        n_thresholds = len(thresholds)
        tp, fp = np.zeros(n_thresholds), np.zeros(n_thresholds)
        fn, tn = np.zeros(n_thresholds), np.zeros(n_thresholds)
        fn[0], tn[0] = np.sum(labels[:, k] == 1), np.sum(labels[:, k] == 0)
        order = np.argsort(scores[:, k])[::-1]
        i = 0
        for j in range(1, n_thresholds):
            tp[j], fp[j], fn[j], tn[j] = tp[j - 1], fp[j - 1], fn[j - 1], tn[j - 1]
            while i < n_records and scores[order[i], k] >= thresholds[j]:
                if labels[order[i], k]:
                    tp[j] += 1
                    fn[j] -= 1
                else:
                    fp[j] += 1
                    tn[j] -= 1
                i += 1
        tpr, tnr, ppv = np.zeros(n_thresholds), np.zeros(n_thresholds), np.zeros(n_thresholds)
        for j in range(n_thresholds):
            tpr[j] = tp[j] / (tp[j] + fn[j]) if tp[j] + fn[j] else float("nan")
            tnr[j] = tn[j] / (fp[j] + tn[j]) if fp[j] + tn[j] else float("nan")
            ppv[j] = tp[j] / (tp[j] + fp[j]) if tp[j] + fp[j] else float("nan")
        for j in range(n_thresholds - 1):
            auroc[k] += 0.5 * (tpr[j + 1] - tpr[j]) * (tnr[j + 1] + tnr[j])
            auprc[k] += (tpr[j + 1] - tpr[j]) * ppv[j + 1]
    return np.nanmean(auroc), np.nanmean(auprc)


def best_time(function, repeat):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - start)
    return min(times), result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,000 records instead of 40,000")
    parser.add_argument(
        "--repeat", type=int, default=3, help="best of N runs of the vectorised side"
    )
    args = parser.parse_args()

    n_records, n_classes = (2_000 if args.quick else 40_000), 24
    rng = np.random.default_rng(0)
    labels = rng.random((n_records, n_classes)) < 0.08
    # Four decimals, as probabilities are often written: ties occur.
    scores = np.round(np.clip(0.35 * labels + rng.random(labels.shape) * 0.65, 0, 1), 4)
    outputs = scores >= 0.5
    table = scored_classes(2020)
    normal = table.classes.index(table.normal_class)

    rows = []
    loop_time, loop_value = best_time(
        lambda: loop_challenge_metric(labels, outputs, table.weights, normal), 1
    )
    fast_time, fast_value = best_time(lambda: challenge_metric(labels, outputs), args.repeat)
    rows.append(("challenge_metric", loop_time, fast_time, abs(loop_value - fast_value)))

    loop_time, loop_values = best_time(lambda: loop_auroc_auprc(labels, scores), 1)
    fast_time, fast_values = best_time(
        lambda: (macro_auroc(labels, scores), macro_auprc(labels, scores)), args.repeat
    )
    difference = np.max(np.abs(np.subtract(loop_values, fast_values)))
    rows.append(("macro_auroc + macro_auprc", loop_time, fast_time, difference))

    print(
        f"{n_records} records x {n_classes} classes; "
        f"loops run once, vectorised best of {args.repeat}"
    )
    print(f"{'metric':<27}{'loop (s)':>10}{'vectorised (s)':>16}{'speed-up':>10}{'|diff|':>10}")
    for name, loop_time, fast_time, difference in rows:
        print(
            f"{name:<27}{loop_time:>10.3f}{fast_time:>16.4f}"
            f"{loop_time / fast_time:>9.0f}x{difference:>10.1e}"
        )


if __name__ == "__main__":
    main()
