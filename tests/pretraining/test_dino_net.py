import math

import numpy as np
import pytest
import torch

from sklearn_ecg.base import RecordBatches
from sklearn_ecg.nn import DINOLoss
from sklearn_ecg.pretraining._dino_net import (
    DINONet,
    WarmupCosineSchedule,
    build_self_distillation,
    crop_windows,
    make_multicrop,
)


@pytest.mark.parametrize("shape", [(4, 3, 100), (4, 3, 13, 100)])
def test_crop_windows_cuts_one_contiguous_window_per_record(shape):
    records = torch.arange(math.prod(shape), dtype=torch.float32).reshape(shape)
    windows = crop_windows(records, 30, torch.Generator().manual_seed(0))
    assert windows.shape == shape[:-1] + (30,)
    for record, window in zip(records, windows):
        start = int(window.reshape(-1)[0] - record.reshape(-1)[0])
        torch.testing.assert_close(window, record[..., start:start + 30])


@pytest.mark.parametrize("modality, shape", [("time", (5, 12, 250)), ("spectrogram", (5, 12, 13, 21))])
def test_multicrop_gives_two_global_and_n_local_views_of_the_same_shape(modality, shape):
    x = torch.rand(shape) + 1.0  # no zeros unless an augmentation makes them
    multicrop = make_multicrop(modality, n_local_crops=3, lead_mask_proba=0.5, n_freqs=shape[2])
    views = multicrop(x, torch.Generator().manual_seed(0))
    assert len(views) == 2 + 3
    assert all(v.shape == x.shape for v in views)
    assert not any(torch.equal(v, x) for v in views)
    # Random lead masking: some (not all) leads of each view are zeroed,
    # independently per view.
    dims = tuple(range(2, x.ndim))
    masked = [(v.abs().amax(dim=dims) == 0) for v in views]
    assert all(0 < m.float().mean() < 1 for m in masked)
    assert not torch.equal(masked[0], masked[1])


def test_multicrop_without_lead_masking_keeps_every_lead():
    x = torch.rand(6, 12, 250) + 1.0
    views = make_multicrop("time", 2, lead_mask_proba=0.0)(x, torch.Generator().manual_seed(0))
    assert all((v.abs().amax(dim=-1) > 0).all() for v in views)


def test_multicrop_is_reproducible_from_the_generator():
    x = torch.rand(3, 2, 100)
    multicrop = make_multicrop("time", 1, 0.5)
    first = multicrop(x, torch.Generator().manual_seed(5))
    second = multicrop(x, torch.Generator().manual_seed(5))
    assert all(torch.equal(a, b) for a, b in zip(first, second))


def test_schedule_warms_up_then_decays_by_cosine():
    schedule = WarmupCosineSchedule(lr=1.0, min_lr=0.01, warmup_epochs=2, weight_decay=0.04,
                                    weight_decay_end=0.4)
    schedule.batches_per_epoch_, schedule.total_steps_ = 5, 50
    values = [schedule.values_at(step) for step in range(50)]
    lrs, decays = np.array(values).T
    np.testing.assert_allclose(lrs[:10], np.arange(1, 11) / 10)  # linear to the peak
    assert np.all(np.diff(lrs[10:]) < 0) and lrs[-1] == pytest.approx(0.01, abs=2e-3)
    assert decays[0] == pytest.approx(0.04) and np.all(np.diff(decays) > 0)
    assert decays[-1] == pytest.approx(0.4, abs=2e-3)


def _net(records, **kwargs):
    params = dict(
        module=build_self_distillation, module__kind="xresnet1d", module__size="tiny",
        module__in_channels=records.shape[1], module__n_prototypes=8,
        criterion=DINOLoss, criterion__n_prototypes=8,
        optimizer=torch.optim.AdamW, lr=1e-2, max_epochs=1, batch_size=4, train_split=None,
        callbacks=[("schedule", WarmupCosineSchedule(1e-2, 1e-4, 0, 0.04, 0.4))],
        verbose=0, window=50, multicrop=make_multicrop("time", 1, 0.5),
        momentum_teacher=0.5, generator=torch.Generator().manual_seed(0), init_seed=0,
    )
    params.update(kwargs)
    return DINONet(**params)


def test_train_step_updates_student_by_gradient_and_teacher_by_ema():
    records = np.random.default_rng(0).normal(size=(8, 2, 80)).astype(np.float32)
    net = _net(records).initialize()
    module = net.module_
    optimised = {id(p) for group in net.optimizer_.param_groups for p in group["params"]}
    assert optimised == {id(p) for p in module.student_parameters()}
    student0 = [p.clone() for p in module.student_parameters()]
    teacher0 = [p.clone() for p in module.teacher_parameters()]
    net.partial_fit(RecordBatches(records))  # 2 batches: 2 steps, 2 EMA updates
    student1 = list(module.student_parameters())
    assert any(not torch.equal(a, b) for a, b in zip(student0, student1))
    changed_teacher = [not torch.equal(a, b) for a, b in zip(teacher0, module.teacher_parameters())]
    assert any(changed_teacher)
    assert not torch.equal(net.criterion_.center, torch.zeros_like(net.criterion_.center))


def test_schedule_sets_optimizer_values_each_batch():
    records = np.random.default_rng(0).normal(size=(8, 2, 80)).astype(np.float32)
    net = _net(records, max_epochs=2).fit(RecordBatches(records))
    lrs = [lr for epoch in net.history[:, "batches", :, "lr"] for lr in epoch]
    decays = [wd for epoch in net.history[:, "batches", :, "weight_decay"] for wd in epoch]
    assert len(lrs) == 4 and lrs[0] == pytest.approx(1e-2) and lrs[-1] < lrs[0]
    assert decays[0] == pytest.approx(0.04) and decays[-1] > decays[0]
    assert net.optimizer_.param_groups[0]["lr"] == pytest.approx(lrs[-1])
