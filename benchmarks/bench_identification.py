"""Patient identification from pretrained embeddings, at 12, 6, 3, 2 and 1 leads.

The second downstream task of the lead-agnostic paper (Oh et al., CHIL
2022) on ``ptbxl-dev``: among its 21 patients with two or more records
(48 records, rows in ``ecg_id`` order; its README says 25 and 59), each
patient's first record is in the gallery and the second is the probe
(:class:`~sklearn_ecg.model_selection.GalleryProbeSplit`); a probe is
identified when its nearest gallery record by cosine similarity of the
embeddings is its patient's
(:func:`~sklearn_ecg.metrics.identification_accuracy`, top-1, chance
1/21). Gallery and probe records keep only the leads of METHODS.md's sets
(6 = limb leads, 3 = I, II, V2, 2 = I, II, 1 = I), the others zeroed at
their index (:class:`~sklearn_ecg.preprocessing.LeadMasker`).

Pretraining, without labels, on the unlabelled pool of the development
folders (``ptbxl-dev`` + ``ludb-dev`` + ``physionet2020-dev``, 100 Hz,
first 10 s) minus every record of the evaluated patients and the 26
challenge records taken from PTB-XL (``HR*``, whose patients are not
known): 758 records.
Every system standardises each lead with the pool's statistics. Systems:

- ``no learning``: per lead, the log power spectrum (Welch, 0.5-40 Hz in
  0.5 Hz bins) and 9 quantiles of the standardised signal, each feature
  standardised over the pool; absent leads' features are zero, so that
  they do not count in the cosine;
- ``random init``: the contrastive pretrainer below with its encoder
  replaced by a freshly initialised one (same seed, architecture,
  standardisation and embedding code);
- ``self-KD``: :class:`~sklearn_ecg.pretraining.SelfKDPretrainer` (tiny
  XResNet1d, 2.5 s windows, lead masking 0.5);
- ``contrastive, RLM`` and ``contrastive, no RLM``:
  :class:`~sklearn_ecg.pretraining.ContrastivePretrainer` with random lead
  masking (p = 0.5) and without it (p = 0);
- ``contrastive, RLM, + ArcFace`` (with ``--arcface``): the first of these
  fine-tuned by :class:`~sklearn_ecg.pretraining.ArcFaceEmbedder` on the
  pool, each pool record its own identity (most of its patients have one
  record), with the head's softer settings for small data (scale 10,
  margin 0.2), ``--arcface-epochs`` epochs of 4 crops per record, lead
  masking 0.5.

Each system is run with seeds 0, 1, 2 (the no-learning baseline is
deterministic); the table gives mean +- sd over seeds. A record's
embedding is the mean of its segment (window) embeddings.

To stay near 20 minutes on one core the defaults are the paper's encoder
and objective at their smallest: the ``tiny`` transformer, ``w2v+cmsc``,
5 s segments, 10 epochs at lr 1e-3 (about 15 minutes in all here; the
paper pretrains the 12-layer transformer for 200 epochs on about 40,000
records). The tiny XResNet1d with CMSC alone pretrains 15 times faster
(about 3.5 minutes for 30 epochs and three seeds).

Usage::

    OMP_NUM_THREADS=1 python benchmarks/bench_identification.py
    OMP_NUM_THREADS=1 python benchmarks/bench_identification.py --encoder xresnet1d --objective cmsc --epochs 30
    python benchmarks/bench_identification.py --encoder xresnet1d --objective cmsc --epochs 30 --arcface
"""

import argparse
import copy
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from scipy.signal import welch
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ecg._random import seeded_torch
from sklearn_ecg.datasets import load_ludb, load_physionet, load_ptbxl
from sklearn_ecg.leads import LEAD_SETS
from sklearn_ecg.metrics import identification_accuracy
from sklearn_ecg.model_selection import GalleryProbeSplit
from sklearn_ecg.preprocessing import LeadMasker, LeadStandardizer
from sklearn_ecg.pretraining import ArcFaceEmbedder, ContrastivePretrainer, SelfKDPretrainer

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FS = 100
LEAD_COUNTS = (12, 6, 3, 2, 1)
QUANTILES = np.linspace(0.1, 0.9, 9)


def load(data):
    """The evaluated records (with gallery and probe indices into them) and the pretraining pool."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # all-zero leads of a few challenge records
        ptbxl = load_ptbxl(data / "ptbxl-dev", fs=FS, labels=None)
        ludb = load_ludb(data / "ludb-dev", fs=FS, labels=None)
        challenge = load_physionet(data / "physionet2020-dev", fs=FS)
    order = np.argsort(ptbxl.metadata["ecg_id"], kind="stable")
    X, groups = ptbxl.X[order], ptbxl.groups[order]
    gallery, probe = next(GalleryProbeSplit().split(X, groups=groups))
    evaluated = np.isin(groups, groups[gallery])
    # The challenge's HR records are PTB-XL recordings of unknown patients: they may be the evaluated ones'.
    not_ptbxl = ~np.char.startswith(challenge.records.astype(str), "HR")
    return X, groups, gallery, probe, np.concatenate([X[~evaluated], ludb.X, challenge.X[not_ptbxl]])


class SpectralSummary:
    """The no-learning baseline: per-lead log spectrum and quantiles, standardised over the pool."""

    def fit(self, pool):
        self.standardizer_ = LeadStandardizer().fit(pool)
        self.scaler_ = StandardScaler().fit(self._features(pool).reshape(len(pool), -1))
        return self

    def transform(self, X):
        features = self._features(X)
        features = self.scaler_.transform(features.reshape(len(X), -1)).reshape(features.shape)
        features[~X.any(axis=-1)] = 0  # absent leads do not count
        return features.reshape(len(X), -1)

    def _features(self, X):
        Xs = self.standardizer_.transform(X)
        frequencies, power = welch(Xs, fs=FS, nperseg=2 * FS, axis=-1)
        band = (frequencies >= 0.5) & (frequencies <= 40)
        spectrum = np.log(power[..., band] + 1e-8)
        quantiles = np.moveaxis(np.quantile(Xs, QUANTILES, axis=-1), 0, -1)
        return np.concatenate([spectrum, quantiles], axis=-1)


def random_twin(pretrainer, seed):
    """The fitted pretrainer with its encoder replaced by a freshly initialised one."""
    twin = copy.copy(pretrainer)
    with seeded_torch(seed):
        twin.encoder_ = pretrainer.build_untrained_encoder(pretrainer.n_leads_in_).eval()
    return twin


def accuracies(embedder, X, groups, gallery, probe):
    """Top-1 identification accuracy at each lead count."""
    rows = np.concatenate([gallery, probe])
    out = {}
    for count in LEAD_COUNTS:
        Z = embedder.transform(LeadMasker(leads=count).fit_transform(X[rows]))
        n = len(gallery)
        out[count] = identification_accuracy(Z, groups[rows], gallery=np.arange(n), probe=np.arange(n, 2 * n))
    return out


def contrastive(args, seed, lead_mask_proba):
    return ContrastivePretrainer(
        objective=args.objective, encoder=args.encoder, size=args.size, max_epochs=args.epochs, lr=args.lr,
        lead_mask_proba=lead_mask_proba, device="cpu", random_state=seed,
    )


def self_kd(args, seed):
    return make_pipeline(LeadStandardizer(), SelfKDPretrainer(
        size=args.size, max_epochs=args.self_kd_epochs, device="cpu", random_state=seed))


def arcface(args, seed, pretrainer):
    return ArcFaceEmbedder(pretrained=FrozenEstimator(pretrainer), scale=10.0, margin=0.2,
                           max_epochs=args.arcface_epochs, device="cpu", random_state=seed)


def fit_timed(estimator, pool, identities=None):
    start = time.perf_counter()
    estimator.fit(pool, identities)
    return estimator, time.perf_counter() - start


def print_table(results, seeds):
    print(f"\n| system | {' | '.join(f'{c} leads' for c in LEAD_COUNTS)} | pretraining s/seed |")
    print("|---|" + "---|" * (len(LEAD_COUNTS) + 1))
    for name, runs in results.items():
        cells = []
        for count in LEAD_COUNTS:
            values = np.array([run[count] for run in runs["accuracy"]])
            cells.append(f"{values.mean():.3f}" if len(values) == 1 else f"{values.mean():.3f} +- {values.std():.3f}")
        seconds = np.mean(runs["seconds"]) if runs["seconds"] else 0.0
        print(f"| {name} | {' | '.join(cells)} | {seconds:.0f} |")
    print(f"\nmean +- sd over seeds {seeds}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--objective", default="w2v+cmsc", choices=["w2v+cmsc", "w2v", "cmsc"])
    parser.add_argument("--encoder", default="transformer", choices=["transformer", "xresnet1d"])
    parser.add_argument("--size", default="tiny", choices=["tiny", "small", "paper"])
    parser.add_argument("--epochs", type=int, default=10, help="contrastive pretraining epochs")
    parser.add_argument("--lr", type=float, default=1e-3, help="contrastive learning rate")
    parser.add_argument("--self-kd-epochs", type=int, default=10)
    parser.add_argument("--arcface", action="store_true", help="also fine-tune the RLM encoder with ArcFace")
    parser.add_argument("--arcface-epochs", type=int, default=30)
    args = parser.parse_args()
    torch.set_num_threads(1)
    start = time.perf_counter()

    X, groups, gallery, probe, pool = load(args.data)
    print(f"evaluated: {len(gallery)} patients, gallery {len(gallery)} and probe {len(probe)} records "
          f"(chance {1 / len(gallery):.3f}); pretraining pool: {len(pool)} records; lead sets "
          + ", ".join(f"{c}: {'+'.join(LEAD_SETS[c]) if c < 12 else 'all'}" for c in LEAD_COUNTS))
    print(f"contrastive: {args.encoder} {args.size}, {args.objective}, {args.epochs} epochs, lr {args.lr}; "
          f"self-KD: xresnet1d {args.size}, {args.self_kd_epochs} epochs", flush=True)
    baseline = SpectralSummary().fit(pool)
    results = {"no learning": {"accuracy": [accuracies(baseline, X, groups, gallery, probe)], "seconds": []}}
    names = ["random init", "self-KD", "contrastive, RLM", "contrastive, no RLM"]
    names += ["contrastive, RLM, + ArcFace"] if args.arcface else []
    for name in names:
        results[name] = {"accuracy": [], "seconds": []}
    for seed in args.seeds:
        rlm, seconds = fit_timed(contrastive(args, seed, 0.5), pool)
        results["contrastive, RLM"]["accuracy"].append(accuracies(rlm, X, groups, gallery, probe))
        results["contrastive, RLM"]["seconds"].append(seconds)
        results["random init"]["accuracy"].append(accuracies(random_twin(rlm, seed), X, groups, gallery, probe))
        plain, seconds = fit_timed(contrastive(args, seed, 0.0), pool)
        results["contrastive, no RLM"]["accuracy"].append(accuracies(plain, X, groups, gallery, probe))
        results["contrastive, no RLM"]["seconds"].append(seconds)
        if args.arcface:
            tuned, seconds = fit_timed(arcface(args, seed, rlm), pool, np.arange(len(pool)))
            results["contrastive, RLM, + ArcFace"]["accuracy"].append(accuracies(tuned, X, groups, gallery, probe))
            results["contrastive, RLM, + ArcFace"]["seconds"].append(seconds)
        kd, seconds = fit_timed(self_kd(args, seed), pool)
        results["self-KD"]["accuracy"].append(accuracies(kd, X, groups, gallery, probe))
        results["self-KD"]["seconds"].append(seconds)
        segments = 2 * rlm.n_pairs_ * args.epochs / sum(rlm.history_[:, "dur"])
        print(f"seed {seed} done ({time.perf_counter() - start:.0f} s so far; contrastive {segments:.0f} "
              f"segments/s; losses: RLM {rlm.history_[-1, 'train_loss']:.3f}, no RLM "
              f"{plain.history_[-1, 'train_loss']:.3f})", flush=True)
    print_table(results, args.seeds)
    print(f"total {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
