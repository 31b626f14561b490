import math

import pytest
import torch
import torch.nn.functional as F

from sklearn_ecg.nn import DINOHead, DINOLoss, SelfDistillation, build_encoder


def test_head_scores_are_cosines_to_unit_prototypes():
    torch.manual_seed(0)
    head = DINOHead(32, n_prototypes=10)
    with torch.no_grad():
        head.prototypes.mul_(7.0)  # the scale of the raw weights must not matter
    x = torch.randn(6, 32)
    scores = head(x)
    assert scores.shape == (6, 10)
    z = F.normalize(head.mlp(x), dim=-1)
    expected = z @ F.normalize(head.prototypes, dim=-1).T
    torch.testing.assert_close(scores, expected)
    assert scores.abs().max() <= 1 + 1e-6


def test_head_default_sizes_follow_methods_for_512d_embeddings():
    head = DINOHead(512, n_prototypes=64)
    linears = [m for m in head.mlp if isinstance(m, torch.nn.Linear)]
    assert [(layer.in_features, layer.out_features) for layer in linears] == [(512, 512), (512, 512), (512, 128)]
    assert sum(isinstance(m, torch.nn.GELU) for m in head.mlp) == 2


def _reference_loss(student, teacher, center, t_temp, s_temp):
    total, pairs = 0.0, 0
    for i, t in enumerate(teacher):
        q = torch.softmax((t - center) / t_temp, dim=-1)
        for j, s in enumerate(student):
            if i == j:
                continue
            logp = torch.log_softmax(s / s_temp, dim=-1)
            total += float(-(q * logp).sum(-1).mean())
            pairs += 1
    return total / pairs


def test_loss_matches_definition_and_skips_same_view_pairs():
    g = torch.Generator().manual_seed(1)
    student = [torch.randn(4, 7, generator=g) for _ in range(5)]
    teacher = [torch.randn(4, 7, generator=g) for _ in range(2)]
    loss = DINOLoss(7, teacher_temp=0.05, student_temp=0.2).eval()
    loss.center.copy_(torch.randn(1, 7, generator=g))
    expected = _reference_loss(student, teacher, loss.center, 0.05, 0.2)
    assert math.isclose(float(loss(student, teacher)), expected, rel_tol=1e-5)
    # With one teacher view, student view 0 (the same crop) is never paired.
    altered = [student[0] + 100.0] + student[1:]
    torch.testing.assert_close(loss(student, teacher[:1]), loss(altered, teacher[:1]))


def test_center_is_ema_of_teacher_outputs_only_in_training():
    loss = DINOLoss(3, center_momentum=0.9)
    teacher = [torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[3.0, 2.0, 1.0]])]
    student = [torch.zeros(1, 3)] * 3
    loss.eval()(student, teacher)
    torch.testing.assert_close(loss.center, torch.zeros(1, 3))
    loss.train()(student, teacher)
    torch.testing.assert_close(loss.center, 0.1 * torch.tensor([[2.0, 2.0, 2.0]]))


def test_centring_keeps_a_dominant_prototype_from_taking_over():
    # A teacher that always favours prototype 0: after centring, its
    # sharpened distribution is no longer concentrated on prototype 0.
    loss = DINOLoss(4, center_momentum=0.0).train()
    biased = torch.tensor([[5.0, 0.0, 0.1, 0.0], [5.0, 0.1, 0.0, 0.0]])
    loss([biased] * 3, [biased, biased])
    probs = loss.teacher_probabilities(biased)
    assert probs[:, 0].max() < 0.5


def test_gradient_flows_to_student_only():
    model = SelfDistillation(build_encoder("xresnet1d", "tiny", in_channels=2), n_prototypes=8)
    criterion = DINOLoss(8)
    x = torch.randn(4, 2, 30)
    loss = criterion([model.student(x), model.student(x + 0.1)], [model.teacher(x), model.teacher(x + 0.1)])
    loss.backward()
    assert all(p.grad is not None for p in model.student_parameters())
    assert all(p.grad is None and not p.requires_grad for p in model.teacher_parameters())


@pytest.mark.parametrize("momentum", [0.0, 0.5, 1.0])
def test_teacher_update_is_exponential_moving_average(momentum):
    model = SelfDistillation(build_encoder("se_resnet", "tiny", in_channels=1), n_prototypes=4)
    with torch.no_grad():
        for p in model.student_parameters():
            p.add_(1.0)
    before = [t.clone() for t in model.teacher_parameters()]
    model.update_teacher(momentum)
    for t, t0, s in zip(model.teacher_parameters(), before, model.student_parameters()):
        torch.testing.assert_close(t, momentum * t0 + (1 - momentum) * s)


def test_teacher_starts_equal_to_student_and_forward_embeds():
    encoder = build_encoder("xresnet1d", "tiny", in_channels=2)
    model = SelfDistillation(encoder, n_prototypes=8).eval()
    x = torch.randn(3, 2, 40)
    torch.testing.assert_close(model(x), encoder(x))
    torch.testing.assert_close(model.student(x), model.teacher(x))
