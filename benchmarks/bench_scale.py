"""Fitting at the scale of the full challenge data, on paper: time per epoch and memory.

The full PhysioNet/CinC data are 43,101 records. This script writes a
synthetic array of that size into the loaders' memory-mapped cache (the
``.npy`` entry that ``load_physionet(..., cache_dir=...)`` maps), opens it
read-only as the loaders do, and fits each stage on the whole memmap for a
few hundred steps (training stops after ``--steps``; every batch is read
from the map by :class:`~sklearn_ecg.base.RecordBatches`), then
extrapolates to one epoch:

- 100 Hz, 10 s records (43,101 x 12 x 1,000 float32, 2.1 GB): the stages of
  the default pipeline: self-KD pretraining of the time branch, the
  spectrogram branch (STFT of every record, standardised, then self-KD
  pretraining), and the fine-tuning of GatedFusionClassifier;
- 500 Hz, 5 s segments (43,101 x 12 x 2,500 float32, 5.2 GB): a plain-torch
  stand-in for a seed-2 transformer pretrainer (``--standin``): four strided
  convolutions (12 -> 128 channels, 156 frames), a 4-layer transformer
  encoder (width 128, 4 heads, feed-forward 512), trained to reconstruct
  masked frames, batches read from the memmap the same way.

Memory: the peak private (anonymous) resident memory of the process during
each stage, sampled every 50 ms, and the peak of its file-backed resident
memory (pages of the memmap in the page cache, which the kernel reclaims
under pressure). Times per step are wall-clock, best of the last three
quarters of the steps (the first quarter warms caches and the allocator).

    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py --cache-dir /tmp/scale_cache
    OMP_NUM_THREADS=1 python benchmarks/bench_scale.py --cache-dir DIR --records 2000 --steps 20   # smoke run
"""

import argparse
import math
import threading
import time
from pathlib import Path

import numpy as np
import torch
from skorch.callbacks import Callback
from torch import nn

from sklearn_ecg.base import BaseTorchEstimator, RecordBatches, collate_records
from sklearn_ecg.datasets._cache import create_array, load_cache, save_cache
from sklearn_ecg.fusion import GatedFusionClassifier, make_fusion_branches
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

N_RECORDS = 43_101
N_CLASSES = 24


class StopAfter(Callback):
    """Stop training after ``n_steps`` training batches, recording when each ended."""

    def __init__(self, n_steps):
        self.n_steps = n_steps

    def on_train_begin(self, net, **kwargs):
        self.ends_ = [time.perf_counter()]

    def on_batch_end(self, net, training=False, **kwargs):
        if training:
            self.ends_.append(time.perf_counter())
            if len(self.ends_) > self.n_steps:
                raise KeyboardInterrupt  # skorch ends training cleanly on it

    def seconds_per_step(self):
        steps = np.diff(self.ends_)
        return float(np.median(steps[len(steps) // 4:]))


class MemoryPeak:
    """Peak anonymous and file-backed resident memory (MiB) of this process while in the block."""

    def __enter__(self):
        self.anon = self.file = 0.0
        self._running = True
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while self._running:
            fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
            self.anon = max(self.anon, int(fields["RssAnon"].split()[0]) / 1024)
            self.file = max(self.file, int(fields["RssFile"].split()[0]) / 1024)
            time.sleep(0.05)

    def __exit__(self, *exc):
        self._running = False
        self._thread.join()


def memmap_entry(cache_dir, shape, seed):
    """A cache entry of synthetic signals of ``shape`` (written once), opened read-only as the loaders do."""
    key = f"scale{seed}_" + "x".join(map(str, shape))
    entry = load_cache(cache_dir, key, prefix="bench")
    if entry is not None:
        return entry[0]
    X = create_array(cache_dir, shape)
    rng = np.random.default_rng(seed)
    t = np.arange(shape[-1], dtype=np.float32)
    for start in range(0, shape[0], 1024):  # bounded memory while writing
        rows = slice(start, min(start + 1024, shape[0]))
        block = rng.standard_normal((rows.stop - rows.start,) + shape[1:], dtype=np.float32) * 0.1
        X[rows] = block + np.sin(2 * np.pi * t / (shape[-1] / 10))
    X.flush()
    path = X.filename
    del X
    return save_cache(cache_dir, key, path, {"y": np.zeros(shape[0], dtype=np.int8)}, prefix="bench")


_DEFAULT_CALLBACKS = BaseTorchEstimator._default_callbacks


def stopping(n_steps):
    """Make the estimators' nets stop after ``n_steps`` (a benchmark-only patch); returns the callback."""
    stop = StopAfter(n_steps)

    def with_stop(self, *args, **kwargs):
        return _DEFAULT_CALLBACKS(self, *args, **kwargs) + [("stop_after", stop)]

    BaseTorchEstimator._default_callbacks = with_stop
    return stop


def run_stage(name, fit, steps_per_epoch, n_steps, rows):
    stop = stopping(n_steps)
    with MemoryPeak() as memory:
        start = time.perf_counter()
        fit()
        total = time.perf_counter() - start
    per_step = stop.seconds_per_step()
    rows.append((name, steps_per_epoch, per_step, per_step * steps_per_epoch / 60, memory.anon, memory.file, total))
    print(f"  {name}: {1e3 * per_step:.0f} ms/step, {memory.anon:.0f} MiB private peak ({total:.0f} s)", flush=True)


def stages_100hz(X, size, n_steps, rows):
    n = len(X)
    Y = np.zeros((n, N_CLASSES), dtype=np.int8)
    Y[np.arange(n), np.arange(n) % N_CLASSES] = 1
    pretrainer = dict(size=size, device="cpu", random_state=0)
    run_stage("self-KD, time branch (batch 64)", lambda: SelfKDPretrainer(**pretrainer).fit(X),
              math.ceil(n / 64), n_steps, rows)

    def spectrogram_branch():
        S = STFTSpectrogram().fit_transform(X)
        S = LeadStandardizer(common_scale=True).fit_transform(S)
        SelfKDPretrainer(modality="spectrogram", **pretrainer).fit(S)

    run_stage("self-KD, spectrogram branch (STFT of all records, batch 64)", spectrogram_branch,
              math.ceil(n / 64), n_steps, rows)
    classifier = GatedFusionClassifier(branches=make_fusion_branches(size=size), pretraining=None, device="cpu",
                                       n_iter_no_change=None, random_state=0)
    run_stage("fine-tuning GatedFusionClassifier (5 crops/record, batch 64)", lambda: classifier.fit(X, Y),
              math.ceil(round(n * 0.9) * 5 / 64), n_steps, rows)


class TransformerStandIn(nn.Module):
    """Plain-torch stand-in of a seed-2 ECG transformer (about the "small" preset's size)."""

    def __init__(self, n_leads=12, width=128, n_layers=4):
        super().__init__()
        layers, channels = [], n_leads
        for _ in range(4):  # total stride 16: 2,500 samples -> 156 frames
            layers += [nn.Conv1d(channels, width, 2, stride=2, bias=False), nn.GELU()]
            channels = width
        self.features = nn.Sequential(*layers)
        self.norm = nn.LayerNorm(width)
        layer = nn.TransformerEncoderLayer(width, 4, 4 * width, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, n_layers)
        self.mask_token = nn.Parameter(torch.zeros(width))

    def forward(self, x, mask):
        frames = self.norm(self.features(x).transpose(1, 2))
        context = self.encoder(torch.where(mask[..., None], self.mask_token, frames))
        return nn.functional.mse_loss(context[mask], frames[mask].detach())


def standin_500hz(X, n_steps, rows, batch_size=64):
    model = TransformerStandIn()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4)
    loader = torch.utils.data.DataLoader(
        RecordBatches(X), batch_size=batch_size, shuffle=True, collate_fn=collate_records,
        generator=torch.Generator().manual_seed(0),
    )
    generator = torch.Generator().manual_seed(0)
    ends = [time.perf_counter()]
    with MemoryPeak() as memory:
        start = time.perf_counter()
        for records, _ in loader:
            mask = torch.rand(len(records), 156, generator=generator) < 0.3
            loss = model(records, mask)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            ends.append(time.perf_counter())
            if len(ends) > n_steps:
                break
        total = time.perf_counter() - start
    steps = np.diff(ends)
    per_step = float(np.median(steps[len(steps) // 4:]))
    steps_per_epoch = math.ceil(len(X) / batch_size)
    rows.append(("stand-in transformer pretraining, 500 Hz 5 s (batch 64)", steps_per_epoch, per_step,
                 per_step * steps_per_epoch / 60, memory.anon, memory.file, total))
    print(f"  stand-in: {1e3 * per_step:.0f} ms/step ({total:.0f} s)", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache-dir", type=Path, required=True, help="folder for the synthetic cache entries")
    parser.add_argument("--records", type=int, default=N_RECORDS)
    parser.add_argument("--steps", type=int, default=200, help="training steps measured per stage")
    parser.add_argument("--size", default="tiny", help="encoder preset of the 100 Hz stages")
    parser.add_argument("--skip-500hz", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)  # the stand-in's initial weights
    rows = []
    X100 = memmap_entry(args.cache_dir, (args.records, 12, 1000), seed=0)
    print(f"100 Hz memmap {X100.shape} ({X100.nbytes / 2**30:.1f} GiB) at {X100.filename}; "
          f"torch {torch.get_num_threads()} thread(s)", flush=True)
    stages_100hz(X100, args.size, args.steps, rows)
    if not args.skip_500hz:
        X500 = memmap_entry(args.cache_dir, (args.records, 12, 2500), seed=1)
        print(f"500 Hz memmap {X500.shape} ({X500.nbytes / 2**30:.1f} GiB)", flush=True)
        standin_500hz(X500, args.steps, rows)
    print(f"\n{args.records:,} records; {args.steps} steps measured per stage, extrapolated to one epoch\n")
    print("| stage | steps/epoch | s/step | min/epoch | private peak MiB | file-backed peak MiB |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, steps, per_step, minutes, anon, file, _ in rows:
        print(f"| {name} | {steps:,} | {per_step:.3f} | {minutes:.1f} | {anon:,.0f} | {file:,.0f} |")


if __name__ == "__main__":
    main()
