"""Lead-agnostic classification: trained on 12 leads, scored on 12, 6, 4, 3, 2 and 1.

On the 247 ``physionet2020-dev`` records (100 Hz, first 10 s, 24 merged
scored classes of 2020), the folds of ANCHORS.md
(``KFold(10, shuffle=True, random_state=0)``, predictions pooled over the
folds). A time-only :class:`~sklearn_ecg.fusion.GatedFusionClassifier` is
fine-tuned end to end on the 12-lead training records of each fold (random
2.5 s crops, random lead masking p = 0.5, record = mean of 50 %-overlap
window probabilities), then each test fold is scored with only the leads
of METHODS.md's sets (6 = limb leads, 4 = I, II, III, V2, 3 = I, II, V2,
2 = I, II, 1 = I), the others zeroed at their index. Its branch:

- ``contrastive``: :class:`~sklearn_ecg.pretraining.ContrastivePretrainer`
  (its pool standardisation, then the encoder), pretrained once per seed
  on ``ptbxl-dev`` + ``ludb-dev`` (585 records, never
  ``physionet2020-dev``) and reused, frozen, in every fold
  (``FrozenEstimator``);
- ``self-KD``: ``LeadStandardizer`` + :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`
  (XResNet1d), pretrained on the same pool, frozen likewise;
- ``no pretraining``: the contrastive branch's architecture from random
  weights (``pretraining=None``), standardised with each training fold's
  statistics.

Scores: macro AUROC (the official definition) and the challenge metric of
``predict`` (threshold 0.5, at least one label per record; no threshold
tuning, for every system alike). Each system is run with seeds 0, 1 and 2
(pretraining, fine-tuning); the table gives mean +- sd over seeds.

Also measured: pretraining throughput in segments per second on this CPU
(one thread) of each encoder and objective, over a few batches of 5 s
segment pairs.

To stay near 30 minutes on one core the defaults are tiny encoders, 30
contrastive and 10 self-KD pretraining epochs, and the classifier's
default fine-tuning (30 epochs of 5 crops per record, lr 3e-3 with cosine
decay, head width 512; no validation split); see ``--help``. Shorter
fine-tuning (15 epochs of 2 crops) left every system at chance: pooled
over folds, an uninformative model's AUROC even falls below 0.5, since a
training fold's class prevalence is anti-correlated with its test fold's. The contrastive branch defaults to the tiny
XResNet1d pretrained by CMSC alone: the architecture of the other two
branches, so that the table compares pretraining, not architectures, and
six times faster to fine-tune than the tiny transformer (4 s against 25 s
per fold for 6 epochs here). ``--encoder transformer --objective
w2v+cmsc`` runs the paper's encoder and objective.

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_lead_agnostic.py
    OMP_NUM_THREADS=1 python benchmarks/bench_lead_agnostic.py --throughput-only
"""

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline

from sklearn_ecg.datasets import load_ludb, load_physionet, load_ptbxl
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.leads import LEAD_SETS
from sklearn_ecg.metrics import challenge_metric, macro_auroc
from sklearn_ecg.preprocessing import LeadMasker, LeadStandardizer
from sklearn_ecg.pretraining import ContrastivePretrainer, SelfKDPretrainer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FS = 100
LEAD_COUNTS = (12, 6, 4, 3, 2, 1)
SYSTEMS = ("contrastive", "self-KD", "no pretraining")
# (encoder, size, objective) whose pretraining throughput is measured.
THROUGHPUT = (
    ("transformer", "tiny", "cmsc"), ("transformer", "tiny", "w2v"), ("transformer", "tiny", "w2v+cmsc"),
    ("transformer", "small", "w2v+cmsc"), ("xresnet1d", "tiny", "cmsc"), ("xresnet1d", "small", "cmsc"),
)


def load(data):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # all-zero leads of a few challenge records
        dev = load_physionet(data / "physionet2020-dev", fs=FS, duration=10.0)
        pool = np.concatenate([load_ptbxl(data / "ptbxl-dev", fs=FS, labels=None).X,
                               load_ludb(data / "ludb-dev", fs=FS, labels=None).X])
    return dev, pool


def contrastive(args, seed, **params):
    return ContrastivePretrainer(objective=args.objective, encoder=args.encoder, size=args.size,
                                 max_epochs=args.epochs, lr=args.lr, device="cpu", random_state=seed, **params)


def branches(args, pool, seed):
    """The branch of each system, the pretrained ones fitted on the pool once."""
    self_kd = make_pipeline(LeadStandardizer(), SelfKDPretrainer(
        size=args.size, max_epochs=args.self_kd_epochs, device="cpu", random_state=seed))
    return {
        "contrastive": (FrozenEstimator(contrastive(args, seed).fit(pool)), "fit"),
        "self-KD": (FrozenEstimator(self_kd.fit(pool)), "fit"),
        "no pretraining": (contrastive(args, seed), None),
    }


def classifier(args, branch, pretraining, seed):
    return GatedFusionClassifier(
        branches=[("time", branch)], pretraining=pretraining, max_epochs=args.finetune_epochs,
        crops_per_record=args.crops, lr=args.finetune_lr, validation_fraction=None, n_iter_no_change=None,
        device="cpu", random_state=seed,
    )


def cross_validated(args, dev, systems, seed):
    """Pooled test probabilities and predictions of each system, per lead count."""
    shape = dev.y.shape
    out = {name: {count: (np.zeros(shape), np.zeros(shape, dtype=int)) for count in LEAD_COUNTS}
           for name in systems}
    for train, test in KFold(10, shuffle=True, random_state=0).split(dev.X):
        for name, (branch, pretraining) in systems.items():
            model = classifier(args, branch, pretraining, seed).fit(dev.X[train], dev.y[train])
            for count in LEAD_COUNTS:
                X_test = LeadMasker(leads=count).fit_transform(dev.X[test])
                proba, predictions = out[name][count]
                proba[test], predictions[test] = model.predict_proba(X_test), model.predict(X_test)
    return out


def throughput(pool, args):
    """Pretraining segments per second of each encoder/objective, over the pool's first 256 pairs."""
    rows = []
    for encoder, size, objective in THROUGHPUT:
        pretrainer = ContrastivePretrainer(encoder=encoder, size=size, objective=objective, max_epochs=2,
                                           device="cpu", random_state=0).fit(pool[:256])
        seconds = pretrainer.history_[-1, "dur"]  # the second epoch: warm caches
        rows.append(f"| {encoder} | {size} | {objective} | {2 * pretrainer.n_pairs_ / seconds:.0f} |")
    print("\n| encoder | size | objective | segments/s (1 thread) |\n|---|---|---|---|")
    print("\n".join(rows), flush=True)


def print_table(scores, seeds):
    header = " | ".join(f"{count} leads" for count in LEAD_COUNTS)
    for metric in ("AUROC", "challenge metric"):
        print(f"\n{metric} (mean +- sd over seeds {seeds})\n\n| system | {header} |")
        print("|---|" + "---|" * len(LEAD_COUNTS))
        for name in SYSTEMS:
            cells = []
            for count in LEAD_COUNTS:
                values = np.array([run[count][metric] for run in scores[name]])
                cells.append(f"{values.mean():.3f} +- {values.std():.3f}")
            print(f"| {name} | {' | '.join(cells)} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--objective", default="cmsc", choices=["w2v+cmsc", "w2v", "cmsc"])
    parser.add_argument("--encoder", default="xresnet1d", choices=["transformer", "xresnet1d"])
    parser.add_argument("--size", default="tiny", choices=["tiny", "small", "paper"])
    parser.add_argument("--epochs", type=int, default=30, help="contrastive pretraining epochs")
    parser.add_argument("--lr", type=float, default=1e-3, help="contrastive pretraining learning rate")
    parser.add_argument("--self-kd-epochs", type=int, default=10)
    parser.add_argument("--finetune-epochs", type=int, default=30)
    parser.add_argument("--finetune-lr", type=float, default=3e-3)
    parser.add_argument("--crops", type=int, default=5, help="random crops per training record and epoch")
    parser.add_argument("--throughput-only", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()
    dev, pool = load(args.data)
    throughput(pool, args)
    if args.throughput_only:
        return
    print(f"\ncontrastive: {args.encoder} {args.size}, {args.objective}, {args.epochs} epochs, lr {args.lr}; "
          f"self-KD: xresnet1d {args.size}, {args.self_kd_epochs} epochs; fine-tuning: {args.finetune_epochs} "
          f"epochs x {args.crops} crops, lr {args.finetune_lr}; lead sets "
          + ", ".join(f"{c}: {'+'.join(LEAD_SETS[c]) if c < 12 else 'all'}" for c in LEAD_COUNTS), flush=True)
    scores = {name: [] for name in SYSTEMS}
    for seed in args.seeds:
        outputs = cross_validated(args, dev, branches(args, pool, seed), seed)
        for name, per_count in outputs.items():
            scores[name].append({
                count: {"AUROC": macro_auroc(dev.y, proba),
                        "challenge metric": challenge_metric(dev.y, predictions, classes=dev.classes)}
                for count, (proba, predictions) in per_count.items()
            })
        print(f"seed {seed} done ({time.perf_counter() - start:.0f} s so far)", flush=True)
    print_table(scores, args.seeds)
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
