"""skorch plumbing of self-knowledge distillation: data, views, schedule, train step.

Private to :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`, which builds
the net inside ``fit``.
"""

import math

import torch
from skorch.callbacks import Callback
from skorch.dataset import unpack_data

from ..augmentation import (
    Compose,
    FrequencyCutout,
    GaussianNoise,
    LeadTimeCutout,
    RandomLeadMasking,
    RandomResizedCrop,
    SpectrogramTimeCrop,
    TimeCutout,
)
from ..base import SeededNet
from ..nn import SelfDistillation, build_encoder
from ..nn.functional import random_crops

N_GLOBAL_VIEWS = 2


def build_self_distillation(kind, size, in_channels, n_prototypes):
    """Student/teacher pair around a preset encoder (the net's ``module``)."""
    return SelfDistillation(build_encoder(kind, size, in_channels), n_prototypes)


def crop_windows(records, window, generator):
    """One random window per record along the last axis (time or frames)."""
    flat = records.reshape(records.shape[0], -1, records.shape[-1])
    return random_crops(flat, window, generator).reshape(records.shape[:-1] + (window,))


class MultiCrop:
    """Two global and ``n_local`` local views of a batch of windows.

    Parameters
    ----------
    global_view, local_view : callable
        ``(x, generator) -> x'`` augmentations of the same shape.
    n_local : int
    """

    def __init__(self, global_view, local_view, n_local):
        self.global_view = global_view
        self.local_view = local_view
        self.n_local = n_local

    def __call__(self, x, generator):
        views = [self.global_view(x, generator) for _ in range(N_GLOBAL_VIEWS)]
        views += [self.local_view(x, generator) for _ in range(self.n_local)]
        return views


def make_multicrop(modality, n_local_crops, lead_mask_proba, n_freqs=None):
    """The augmentations of METHODS.md for one modality, with random lead masking.

    Time series: random resized crop (global 50-100 %, local 10-50 % of the
    window), zeroing a 20-40 % stretch of each lead, Gaussian noise with
    sigma in [0.005, 0.025]. Spectrograms: random time crop (global
    60-100 %, local 30-60 %), time cut-out of 10-35 % of the frames, one
    frequency band cut out (up to a quarter of the bins). Then each lead is
    zeroed with probability ``lead_mask_proba``, independently per view, so
    that teacher and student see different lead sets.
    """
    if modality == "time":
        def view(scale):
            return [RandomResizedCrop(scale=scale), LeadTimeCutout(scale=(0.2, 0.4)),
                    GaussianNoise(sigma=(0.005, 0.025))]
        global_scale, local_scale = (0.5, 1.0), (0.1, 0.5)
    else:
        def view(scale):
            return [SpectrogramTimeCrop(scale=scale), TimeCutout(scale=(0.1, 0.35)),
                    FrequencyCutout(max_width=max(1, n_freqs // 4))]
        global_scale, local_scale = (0.6, 1.0), (0.3, 0.6)
    masking = [RandomLeadMasking(p=lead_mask_proba)] if lead_mask_proba > 0 else []
    return MultiCrop(
        Compose(view(global_scale) + masking), Compose(view(local_scale) + masking), n_local_crops
    )


class WarmupCosineSchedule(Callback):
    """Per-iteration learning rate and weight decay, as in DINO.

    The learning rate rises linearly from 0 to ``lr`` over
    ``warmup_epochs``, then follows a cosine down to ``min_lr``; the weight
    decay follows a cosine from ``weight_decay`` to ``weight_decay_end``.
    Every call to ``fit`` runs one full cycle over ``net.max_epochs``
    epochs (a warm restart when training continues). The values used are
    recorded in the history as ``lr`` and ``weight_decay`` per batch.
    """

    def __init__(self, lr, min_lr, warmup_epochs, weight_decay, weight_decay_end):
        self.lr = lr
        self.min_lr = min_lr
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.weight_decay_end = weight_decay_end

    def on_train_begin(self, net, X=None, y=None, **kwargs):
        self.batches_per_epoch_ = math.ceil(len(X) / net.batch_size)
        self.total_steps_ = max(1, net.max_epochs * self.batches_per_epoch_)
        self.step_ = 0

    def on_batch_begin(self, net, batch=None, training=False, **kwargs):
        if not training:
            return
        lr, weight_decay = self.values_at(self.step_)
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
            group["weight_decay"] = weight_decay
        net.history.record_batch("lr", lr)
        net.history.record_batch("weight_decay", weight_decay)
        self.step_ += 1

    def values_at(self, step):
        """Learning rate and weight decay at iteration ``step`` of the cycle."""
        warmup_steps = self.warmup_epochs * self.batches_per_epoch_
        if step < warmup_steps:
            lr = self.lr * (step + 1) / warmup_steps
        else:
            progress = (step - warmup_steps) / max(1, self.total_steps_ - warmup_steps)
            lr = self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * min(progress, 1.0)))
        progress = min(step / self.total_steps_, 1.0)
        weight_decay = self.weight_decay_end + 0.5 * (self.weight_decay - self.weight_decay_end) * (
            1 + math.cos(math.pi * progress)
        )
        return lr, weight_decay


def _entropy(probs):
    return -(probs * probs.clamp_min(1e-12).log()).sum(dim=-1)


class DINONet(SeededNet):
    """skorch net whose train step is one step of self-knowledge distillation.

    ``module`` must build a :class:`~sklearn_ecg.nn.SelfDistillation` and
    ``criterion`` a :class:`~sklearn_ecg.nn.DINOLoss`. Each batch of whole
    records (:class:`~sklearn_ecg.base.RecordBatches`) is moved to the
    device, cut into one random window per record and augmented into
    ``multicrop`` views there, every random draw made by the CPU
    ``generator`` (so the random stream does not depend on the device);
    then the student sees every view, the teacher the global ones, and
    after the optimiser step the teacher follows the student by EMA.

    Parameters
    ----------
    window : int
        Window length along the last axis.
    multicrop : MultiCrop
    momentum_teacher : float
    **kwargs
        Those of :class:`~sklearn_ecg.base.SeededNet`: ``generator``
        (crops and augmentations) and ``init_seed`` (initial weights) among
        them.
    """

    def __init__(self, *args, window, multicrop, momentum_teacher, **kwargs):
        super().__init__(*args, **kwargs)
        self.window = window
        self.multicrop = multicrop
        self.momentum_teacher = momentum_teacher

    def get_all_learnable_params(self):
        # The teacher moves by EMA only, never by the optimiser.
        for name, param in self.module_.named_parameters():
            if param.requires_grad:
                yield name, param

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        records, _ = unpack_data(batch)
        windows = crop_windows(self.to_device(records), self.window, self.generator)
        views = self.multicrop(windows, self.generator)
        with self.autocast():
            # The student through module_ (a data-parallel wrapper syncs its
            # gradients there), the gradient-free teacher directly.
            student_out = self.module_(torch.cat(views), scores=True).chunk(len(views))
            teacher = self.unwrapped_module().teacher
            teacher_out = teacher(torch.cat(views[:N_GLOBAL_VIEWS])).chunk(N_GLOBAL_VIEWS)
            loss = self.get_loss((student_out, teacher_out), None, training=True)
        self._record_teacher_entropy(teacher_out)
        self.backward(loss)
        return {"loss": loss, "y_pred": student_out}

    @torch.no_grad()
    def _record_teacher_entropy(self, teacher_out):
        # Collapse diagnostics (nats): a per-sample entropy near log(K) means
        # uniform outputs; a batch-mean entropy near 0 means one prototype
        # for every input. Healthy training keeps the first low, the second high.
        probs = torch.cat([self.criterion_.teacher_probabilities(t.float()) for t in teacher_out])
        self.history.record_batch("teacher_entropy", float(_entropy(probs).mean()))
        self.history.record_batch("teacher_batch_entropy", float(_entropy(probs.mean(dim=0))))

    def get_loss(self, y_pred, y_true=None, X=None, training=False):
        student_out, teacher_out = y_pred
        return self.criterion_(student_out, teacher_out)

    def on_batch_end(self, net, batch=None, training=False, **kwargs):
        if training:
            self.unwrapped_module().update_teacher(self.momentum_teacher)
