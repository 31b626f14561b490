"""Does lead-agnostic contrastive pretraining (CMSC, wav2vec 2.0) give better embeddings than a random encoder?

A plain torch loop over :class:`~sklearn_ecg.nn.ContrastivePretrainingNetwork`
(the network :class:`~sklearn_ecg.pretraining.ContrastivePretrainer` trains;
this script predates the estimator and keeps its own loop so that each
option can be varied alone): pretraining on the unlabelled records of ``ptbxl-dev``
(100 Hz) and ``ludb-dev`` (500 Hz resampled to 100 Hz), 10 s each, cut into
pairs of 5 s segments, random lead masking (p = 0.5) unless
``--no-lead-masking``. Adam(W) (0.9, 0.98), eps 1e-6, weight decay 0.01, a
constant learning rate. No input normalisation (as the paper).

Scored on the 247 ``physionet2020-dev`` records (100 Hz, first 10 s), which
pretraining never sees; a record's embedding is the mean of its two 5 s
segment embeddings:

- linear probe: per class, StandardScaler + LogisticRegression on the
  embeddings, ``KFold(10, shuffle=True, random_state=0)``, predictions
  pooled over the folds; macro AUROC;
- record identification: first 5 s (gallery) against second 5 s (probe),
  top-1 cosine.

Both for the pretrained encoder and for the same architecture at its
random initialisation (same seed). Also printed: pretraining throughput in
segments per second (one torch thread).

Options that are not the paper's, for small data: ``--standardize`` (each
lead by the pool's mean and sd; a raw-mV XResNet1d gained nothing here),
``--projection-dim`` (a SimCLR head under CMSC), ``--crop`` (train on
random shorter crops).

Usage::

    python benchmarks/bench_contrastive.py                       # small XResNet1d, CMSC, 60 epochs (~2 min)
    python benchmarks/bench_contrastive.py --standardize --projection-dim 128 --seeds 0 1 2
    python benchmarks/bench_contrastive.py --encoder transformer --size tiny --objective w2v+cmsc
"""

import argparse
import copy
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import wfdb
from scipy.signal import resample_poly
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_ecg.datasets import load_physionet
from sklearn_ecg.metrics import identification_accuracy, macro_auroc
from sklearn_ecg.nn import (
    ContrastivePretrainingNetwork,
    build_ecg_transformer,
    build_encoder,
)
from sklearn_ecg.nn.functional import (
    aggregate_windows,
    random_crops,
    segment_pairs,
    sliding_windows,
)

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
FS = 100
SEGMENT = 5 * FS


def read_wfdb(paths, fs=FS):
    """Records (n, 12, n_times) in mV at ``fs`` Hz; every record must have the same length."""
    records = []
    for path in paths:
        signal, fields = wfdb.rdsamp(str(path))
        records.append(resample_poly(signal.T, fs, int(fields["fs"]), axis=1, padtype="edge"))
    return np.stack(records).astype(np.float32)


def pretraining_pool():
    ptbxl = sorted((DATA / "ptbxl-dev" / "records100").rglob("*_lr.hea"))
    ludb = sorted((DATA / "ludb-dev" / "data").glob("*.hea"))
    return np.concatenate([read_wfdb(p.with_suffix("") for p in ptbxl), read_wfdb(p.with_suffix("") for p in ludb)])


def build_network(args, seed):
    torch.manual_seed(seed)  # weights; dropout also draws from torch's global generator
    if args.encoder == "xresnet1d":
        encoder = build_encoder("xresnet1d", args.size)
    else:
        encoder = build_ecg_transformer(args.size, conv_strides=tuple(args.strides))
    w2v = {} if args.objective == "cmsc" else dict(mask_prob=args.mask_prob)
    return ContrastivePretrainingNetwork(encoder, args.objective, lead_mask_prob=0.0 if args.no_lead_masking else 0.5,
                                         projection_dim=args.projection_dim, **w2v)


def pretrain(network, pairs, ids, args, seed):
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(network.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    pairs, ids = torch.from_numpy(pairs), torch.from_numpy(ids)
    network.train()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        order = torch.randperm(len(pairs), generator=generator)
        totals = {}
        for batch in order.split(args.batch_size):
            if len(batch) < 2:  # CMSC needs another pair to contrast with
                continue
            x = pairs[batch]
            if args.crop:
                x = random_crops(x.flatten(1, 2), args.crop, generator).reshape(x.shape[:3] + (args.crop,))
            out = network(x, generator, ids=ids[batch])
            optimizer.zero_grad()
            out["loss"].backward()
            optimizer.step()
            for key, value in out.items():
                totals[key] = totals.get(key, 0.0) + float(value.detach()) * len(batch)
        if args.verbose and (epoch % 10 == 0 or epoch == args.epochs - 1):
            print(f"  epoch {epoch:3d} " + " ".join(f"{k}={v / len(pairs):.3f}" for k, v in sorted(totals.items())))
    seconds = time.perf_counter() - start
    return seconds, 2 * len(pairs) * args.epochs / seconds


@torch.no_grad()
def segment_embeddings(network, X, crop=None):
    """Embeddings (n, 2, features) of the first and second 5 s of each record.

    With ``crop``, a segment's embedding is the mean over its windows of
    ``crop`` samples, 50 % overlap.
    """
    network.eval()
    halves = []
    for k in (0, 1):
        half = X[:, :, k * SEGMENT:(k + 1) * SEGMENT]
        windows, index = sliding_windows(half, crop, crop // 2) if crop else (half, np.arange(len(half)))
        Z = np.concatenate([network.embed(w).numpy() for w in torch.from_numpy(windows).split(256)])
        halves.append(aggregate_windows(Z, index, len(half)))
    return np.stack(halves, axis=1)


def probe_auroc(Z, Y):
    scores = np.zeros(Y.shape)
    for train, test in KFold(10, shuffle=True, random_state=0).split(Z):
        for k in range(Y.shape[1]):
            labels = Y[train, k]
            if labels.min() == labels.max():
                scores[test, k] = labels.mean()
                continue
            probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
            scores[test, k] = probe.fit(Z[train], labels).predict_proba(Z[test])[:, 1]
    return macro_auroc(Y, scores)


def evaluate(network, X, Y, crop):
    Z = segment_embeddings(network, X, crop)
    n = len(X)
    identification = identification_accuracy(
        np.concatenate([Z[:, 0], Z[:, 1]]), np.tile(np.arange(n), 2), gallery=np.arange(n), probe=np.arange(n, 2 * n))
    return probe_auroc(Z.mean(axis=1), Y), identification


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--encoder", default="xresnet1d", choices=["xresnet1d", "transformer"])
    parser.add_argument("--size", default="small", choices=["tiny", "small", "paper"])
    parser.add_argument("--objective", default="cmsc", choices=["cmsc", "w2v", "w2v+cmsc"])
    parser.add_argument("--strides", type=int, nargs="+", default=[2, 2, 2, 2],
                        help="transformer extractor strides (at 100 Hz: 2 2 2 2 gives 31 frames per 5 s)")
    parser.add_argument("--mask-prob", type=float, default=0.65)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--no-lead-masking", action="store_true")
    parser.add_argument("--projection-dim", type=int, default=None, help="CMSC projection head (not the paper)")
    parser.add_argument("--standardize", action="store_true",
                        help="standardise each lead with the pretraining pool's mean and sd (not the paper)")
    parser.add_argument("--crop", type=int, default=None,
                        help="train on random crops of this many samples of each segment; embed by the mean "
                             "over such windows, 50 %% overlap (not the paper)")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)

    pool = pretraining_pool()
    pairs, ids, skipped = segment_pairs(pool, SEGMENT)
    if skipped.size:
        warnings.warn(f"{skipped.size} pretraining records are shorter than two segments; skipped.", stacklevel=2)
    dev = load_physionet(DATA / "physionet2020-dev", fs=FS, duration=10.0)
    X_dev = dev.X
    if args.standardize:
        mean, sd = pool.mean(axis=(0, 2), keepdims=True), pool.std(axis=(0, 2), keepdims=True)
        pairs, X_dev = (pairs - mean[:, None]) / sd[:, None], (X_dev - mean) / sd
    print(f"pretraining: {len(pool)} records, {len(pairs)} pairs; scoring: {len(dev.X)} records")
    for seed in args.seeds:
        network = build_network(args, seed)
        random_auroc, random_identification = evaluate(copy.deepcopy(network), X_dev, dev.y, args.crop)
        seconds, throughput = pretrain(network, pairs, ids, args, seed)
        auroc, identification = evaluate(network, X_dev, dev.y, args.crop)
        print(f"seed {seed}: {args.encoder} {args.size} {args.objective}, {args.epochs} epochs in {seconds:.0f} s "
              f"({throughput:.0f} segments/s) | probe AUROC {auroc:.3f} (random {random_auroc:.3f}) | "
              f"identification {identification:.3f} (random {random_identification:.3f})")


if __name__ == "__main__":
    main()
