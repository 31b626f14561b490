"""Training throughput: the library's skorch-driven ``fit`` against a minimal torch loop.

For each torch estimator, the same training run two ways, in one process:

- ``library``: the estimator's own ``fit`` (skorch net, callbacks, data
  loader, validation, everything a user gets);
- ``plain``: a hand-written torch loop over the same modules (built from
  the public building blocks), the same batches (records drawn in a
  shuffled order from the array in memory), the same augmentations, the
  same optimiser and learning-rate schedule, and, for the classifier, the
  same per-epoch validation pass (sliding windows, record-level loss).

Time per step is the wall time of the whole run divided by its training
steps (for the library: the whole ``fit``, setup and validation included).
Records per second count each record once per epoch (a step of the
fine-tuning sees ``batch_size`` crops, ``crops_per_record`` per record; a
step of the contrastive pretraining, ``batch_size`` pairs of consecutive
2.5 s segments, two per 10 s record).
Each run is repeated (``--repeats``, library and plain alternating) and the
best time kept: on a machine shared with other processes, the best of a
few runs is the steadiest estimate of what the code costs.

Run with one torch thread::

    OMP_NUM_THREADS=1 python benchmarks/bench_training.py
    OMP_NUM_THREADS=1 python benchmarks/bench_training.py --quick   # smoke run

Adding an estimator is one entry of ``CASES``: a name, a function running
the library's fit and one running the plain loop, each returning its
number of training steps, and how many records one step consumes.
"""

import argparse
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from sklearn_ecg.augmentation import (
    Compose,
    GaussianNoise,
    LeadTimeCutout,
    RandomLeadMasking,
    RandomResizedCrop,
)
from sklearn_ecg.fusion import GatedFusionClassifier, make_fusion_branches
from sklearn_ecg.nn import (
    ContrastivePretrainingNetwork,
    DINOLoss,
    GatedFusionHead,
    MultiBranchNetwork,
    SelfDistillation,
    build_encoder,
)
from sklearn_ecg.nn.functional import random_crops, segment_pairs
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import ContrastivePretrainer, SelfKDPretrainer

WINDOW = 250  # 2.5 s at 100 Hz, the library's default window


@dataclass
class Settings:
    """What every case trains on and how."""

    X: np.ndarray
    Y: np.ndarray
    size: str
    epochs: int
    device: str = "cpu"
    batch_size: int = 64
    crops_per_record: int = 5  # fine-tuning; the pretrainer's default is 1
    validation_fraction: float = 0.1
    n_local_crops: int = 4
    n_prototypes: int = 256


@dataclass
class Case:
    """One estimator: its library fit and its plain loop, each returning its training steps."""

    name: str
    library: Callable[[Settings], int]
    plain: Callable[[Settings], int]
    records_per_step: Callable[[Settings], float]


def train_steps(history):
    """Training batches recorded in a skorch history."""
    return sum(1 for epoch in history for batch in epoch["batches"] if "train_loss" in batch)


def seeded(seed):
    """A CPU generator for the plain loops' draws."""
    return torch.Generator().manual_seed(seed)


# --- fine-tuning GatedFusionClassifier --------------------------------------------------------------

def library_finetune(s):
    model = GatedFusionClassifier(
        branches=make_fusion_branches(size=s.size), pretraining=None, window=WINDOW,
        crops_per_record=s.crops_per_record, max_epochs=s.epochs, batch_size=s.batch_size,
        validation_fraction=s.validation_fraction, n_iter_no_change=None, device=s.device, random_state=0,
    )
    model.fit(s.X, s.Y)
    return train_steps(model.history_)


def fusion_network(X, n_classes, size):
    """The paper's two branches and gate, as GatedFusionClassifier(pretraining=None) builds them."""
    stft = STFTSpectrogram()
    standardizer = LeadStandardizer(common_scale=True).fit(stft.fit_transform(X))
    encoders = [build_encoder("xresnet1d", size, X.shape[1]), build_encoder("se_resnet", size, X.shape[1])]
    head = GatedFusionHead([encoder.out_features for encoder in encoders], n_classes, 512)
    front_ends = [nn.Identity(), nn.Sequential(stft.to_torch(), standardizer.to_torch())]
    return MultiBranchNetwork(encoders, head, front_ends)


def record_logits(network, records, batch_size):
    """Record logits: the logit of the mean sigmoid of 50 %-overlap windows (7 per 10 s record)."""
    windows = records.unfold(-1, WINDOW, WINDOW // 2)  # (records, leads, n_windows, window)
    n_windows = windows.shape[2]
    windows = windows.permute(0, 2, 1, 3).reshape(-1, records.shape[1], WINDOW)
    logits = torch.cat([network(chunk)[0] for chunk in windows.split(batch_size)])
    mean = torch.sigmoid(logits).unflatten(0, (len(records), n_windows)).mean(dim=1)
    return torch.logit(mean.clamp(1e-7, 1 - 1e-7))


def plain_finetune(s):
    rng = np.random.default_rng(0)
    valid = rng.choice(len(s.X), round(len(s.X) * s.validation_fraction), replace=False)
    train = np.setdiff1d(np.arange(len(s.X)), valid)
    X, Y = torch.from_numpy(s.X), torch.from_numpy(s.Y.astype(np.float32))
    network = fusion_network(s.X[train], s.Y.shape[1], s.size).to(s.device)
    optimizer = torch.optim.Adam(network.parameters(), lr=3e-3)
    items = torch.from_numpy(np.tile(train, s.crops_per_record))
    steps_per_epoch = math.ceil(len(items) / s.batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, s.epochs * steps_per_epoch, eta_min=1e-5)
    generator, mask, loss = seeded(0), RandomLeadMasking(0.5), nn.BCEWithLogitsLoss()
    for _ in range(s.epochs):
        network.train()
        for batch in items[torch.randperm(len(items), generator=generator)].split(s.batch_size):
            crops = mask(random_crops(X[batch].to(s.device), WINDOW, generator), generator)
            logits, _ = network(crops)
            optimizer.zero_grad()
            loss(logits, Y[batch].to(s.device)).backward()
            optimizer.step()
            schedule.step()
        network.eval()
        with torch.no_grad():
            loss(record_logits(network, X[valid].to(s.device), s.batch_size), Y[valid].to(s.device)).item()
    return s.epochs * steps_per_epoch


# --- self-KD pretraining ------------------------------------------------------------------------------

def library_self_kd(s):
    model = SelfKDPretrainer(
        size=s.size, max_epochs=s.epochs, batch_size=s.batch_size, n_local_crops=s.n_local_crops,
        n_prototypes=s.n_prototypes, device=s.device, random_state=0,
    )
    model.fit(s.X)
    return train_steps(model.history_)


def dino_values(step, total, warmup, lr=1e-3, min_lr=1e-6, wd=0.04, wd_end=0.4):
    """The pretrainer's learning rate and weight decay at a step (DINO's schedule)."""
    if step < warmup:
        rate = lr * (step + 1) / warmup
    else:
        rate = min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * min((step - warmup) / (total - warmup), 1)))
    return rate, wd_end + 0.5 * (wd - wd_end) * (1 + math.cos(math.pi * min(step / total, 1)))


def plain_self_kd(s):
    def view(scale):
        return Compose([RandomResizedCrop(scale), LeadTimeCutout((0.2, 0.4)), GaussianNoise((0.005, 0.025)),
                        RandomLeadMasking(0.5)])

    global_view, local_view = view((0.5, 1.0)), view((0.1, 0.5))
    model = SelfDistillation(build_encoder("xresnet1d", s.size, s.X.shape[1]), s.n_prototypes).to(s.device)
    criterion = DINOLoss(s.n_prototypes, teacher_temp=0.04, student_temp=0.1, center_momentum=0.9).to(s.device)
    student = list(model.student_parameters())
    optimizer = torch.optim.AdamW(student, lr=1e-3)
    X, generator = torch.from_numpy(s.X), seeded(0)
    steps_per_epoch = math.ceil(len(X) / s.batch_size)
    total, warmup, step = s.epochs * steps_per_epoch, 2 * steps_per_epoch, 0
    model.train()
    for _ in range(s.epochs):
        for batch in torch.randperm(len(X), generator=generator).split(s.batch_size):
            rate, decay = dino_values(step, total, warmup)
            for group in optimizer.param_groups:
                group["lr"], group["weight_decay"] = rate, decay
            windows = random_crops(X[batch].to(s.device), WINDOW, generator)
            views = [global_view(windows, generator) for _ in range(2)]
            views += [local_view(windows, generator) for _ in range(s.n_local_crops)]
            student_out = model.student(torch.cat(views)).chunk(len(views))
            teacher_out = model.teacher(torch.cat(views[:2])).chunk(2)
            optimizer.zero_grad()
            criterion(student_out, teacher_out).backward()
            nn.utils.clip_grad_norm_(student, 3.0)
            optimizer.step()
            model.update_teacher(0.99)
            step += 1
    return total


# --- contrastive (CMSC) pretraining -------------------------------------------------------------------

def library_contrastive(s):
    # As pretrain_encoders(method="contrastive") builds it: the records come standardised.
    model = ContrastivePretrainer(
        objective="cmsc", encoder="xresnet1d", size=s.size, segment_length=WINDOW, standardize=False,
        max_epochs=s.epochs, batch_size=s.batch_size, device=s.device, random_state=0,
    )
    model.fit(s.X)
    return train_steps(model.history_)


def plain_contrastive(s):
    """Pairs of consecutive segments, both lead-masked in the network; AdamW at a constant rate."""
    pairs, record_index, _ = segment_pairs(s.X, WINDOW)
    pairs, ids = torch.from_numpy(pairs), torch.from_numpy(record_index.astype(np.int64))
    encoder = build_encoder("xresnet1d", s.size, s.X.shape[1])
    network = ContrastivePretrainingNetwork(encoder, "cmsc", lead_mask_prob=0.5, projection_dim=128).to(s.device)
    optimizer = torch.optim.AdamW(network.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-6, weight_decay=0.01)
    generator = seeded(0)
    network.train()
    for _ in range(s.epochs):
        for batch in torch.randperm(len(pairs), generator=generator).split(s.batch_size):
            out = network(pairs[batch].to(s.device), generator, ids[batch].to(s.device))
            optimizer.zero_grad()
            out["loss"].backward()
            optimizer.step()
    return s.epochs * math.ceil(len(pairs) / s.batch_size)


def pairs_per_record(s):
    """Segment pairs of a record: its whole segments, two by two."""
    return s.X.shape[-1] // (2 * WINDOW)


CASES = [
    Case("GatedFusionClassifier (fine-tuning)", library_finetune, plain_finetune,
         lambda s: s.batch_size / s.crops_per_record),
    Case("SelfKDPretrainer (self-KD pretraining)", library_self_kd, plain_self_kd, lambda s: s.batch_size),
    Case("ContrastivePretrainer (CMSC pretraining)", library_contrastive, plain_contrastive,
         lambda s: s.batch_size / pairs_per_record(s)),
]


def timed(function, settings):
    """``(wall s, CPU s, training steps)`` of one run."""
    wall, cpu = time.perf_counter(), time.process_time()
    steps = function(settings)
    if settings.device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - wall, time.process_time() - cpu, steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=256, help="synthetic 10 s records at 100 Hz")
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--size", default="tiny", help="encoder preset (the default pipeline's: tiny)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each loop; the best is kept")
    parser.add_argument("--quick", action="store_true", help="64 records, 2 epochs, one run")
    parser.add_argument("--device", default="cpu", help="torch device of both loops (cuda: ratio of wall times)")
    args = parser.parse_args()
    if args.quick:
        args.records, args.epochs, args.repeats = 64, 2, 1
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.records, 12, 1000), dtype=np.float32)
    Y = (rng.random((args.records, 24)) < 0.15).astype(np.int64)
    Y[np.arange(args.records), rng.integers(0, 24, args.records)] = 1  # every class present
    settings = Settings(X, Y, args.size, args.epochs, device=args.device)
    warm_up = Settings(X[:32], Y[:32], args.size, 1, device=args.device)
    on_cpu = args.device == "cpu"
    if not on_cpu:
        print(f"GPU: {torch.cuda.get_device_name(0)}")
    print(f"{len(os.sched_getaffinity(0))} CPUs, torch {torch.__version__} with {torch.get_num_threads()} "
          f"thread(s); {args.records} synthetic records 12 x 1000, size={args.size!r}, {args.epochs} epochs, "
          f"batch {settings.batch_size}; best of {args.repeats} runs, library and plain alternating\n")
    print("| estimator | loop | steps | ms/step (wall) | steps/s | records/s | ms/step (CPU) | library/plain |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for case in CASES:
        case.library(warm_up), case.plain(warm_up)  # first-call costs (allocator, kernels) out of the timings
        runs = {"library": [], "plain": []}
        for _ in range(args.repeats):  # alternating, so that a busy spell hits both
            for loop, function in (("library", case.library), ("plain", case.plain)):
                runs[loop].append(timed(function, settings))
        best = {}
        for loop, results in runs.items():
            wall = min(w / steps for w, _, steps in results)
            cpu = min(c / steps for _, c, steps in results)
            best[loop] = (wall, cpu, results[0][2])
        # One CPU thread: CPU time does not count waits for a shared core. A GPU
        # computes while the CPU waits: wall time.
        ratio = best["library"][1] / best["plain"][1] if on_cpu else best["library"][0] / best["plain"][0]
        ratios.append(ratio)
        for loop, (wall, cpu, steps) in best.items():
            cell = f"{ratio:.2f}" if loop == "library" else ""
            print(f"| {case.name} | {loop} | {steps} | {1e3 * wall:.1f} | {1 / wall:.2f} "
                  f"| {case.records_per_step(settings) / wall:.0f} | {1e3 * cpu:.1f} | {cell} |")
    note = ("CPU time per step (one thread: waits for a core shared with other processes do not count)"
            if on_cpu else f"wall time per step on {args.device}")
    print(f"\nlibrary/plain: ratio of the {note}; the last line is the worst estimator's.")
    print(f"library/plain time per step: {max(ratios):.2f}")


if __name__ == "__main__":
    main()
