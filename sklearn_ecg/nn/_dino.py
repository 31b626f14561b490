"""Self-knowledge distillation (DINO): projection head, loss, EMA teacher."""

import copy

import torch
import torch.nn.functional as F
from torch import nn


class DINOHead(nn.Module):
    """Projection head: MLP, L2 normalisation, weight-normalised prototypes.

    ``in -> hidden -> hidden -> bottleneck`` with GELU between layers, then
    the bottleneck vector is L2-normalised and scored against
    ``n_prototypes`` prototypes by a linear layer whose weight rows are
    normalised to unit length (weight normalisation with the gain fixed at
    1, DINO's ``norm_last_layer=True``).

    Parameters
    ----------
    in_features : int
        Embedding size of the encoder.
    n_prototypes : int, default=256
        Output size K. METHODS uses 65,536 on 43,101 records; a few hundred
        suit a few hundred records.
    hidden_features : int, default=None
        Width of the hidden layers; None uses ``in_features`` (512 for the
        paper's encoders, as in METHODS).
    bottleneck_features : int, default=None
        Size before normalisation; None uses ``max(16, in_features // 4)``
        (128 for 512-d embeddings, as in METHODS).

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import DINOHead
    >>> head = DINOHead(64, n_prototypes=32)
    >>> head(torch.randn(5, 64)).shape
    torch.Size([5, 32])
    """

    def __init__(self, in_features, n_prototypes=256, hidden_features=None, bottleneck_features=None):
        super().__init__()
        hidden = hidden_features or in_features
        bottleneck = bottleneck_features or max(16, in_features // 4)
        self.mlp = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.GELU(),
            nn.Linear(hidden, hidden),
            nn.GELU(),
            nn.Linear(hidden, bottleneck),
        )
        self.prototypes = nn.Parameter(torch.empty(n_prototypes, bottleneck))
        nn.init.normal_(self.prototypes, std=0.02)

    def forward(self, x):
        """Map embeddings (batch, in_features) to prototype scores (batch, n_prototypes)."""
        z = F.normalize(self.mlp(x), dim=-1)
        return F.linear(z, F.normalize(self.prototypes, dim=-1))


class DINOLoss(nn.Module):
    """Cross-entropy from a centred, sharpened teacher to the student.

    For every pair of a teacher view ``i`` (a global crop) and a student
    view ``j != i`` (global or local), the loss is
    ``-sum softmax((t_i - c) / teacher_temp) * log_softmax(s_j / student_temp)``,
    averaged over the batch and the pairs. The centre ``c`` is an
    exponential moving average of the teacher's outputs, updated after each
    training call; centring and sharpening together keep the outputs from
    collapsing to one prototype or to the uniform distribution.

    Parameters
    ----------
    n_prototypes : int
        Output size of the head.
    teacher_temp : float, default=0.04
    student_temp : float, default=0.1
    center_momentum : float, default=0.9

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import DINOLoss
    >>> loss = DINOLoss(8)
    >>> student = [torch.randn(4, 8) for _ in range(3)]
    >>> teacher = [torch.randn(4, 8) for _ in range(2)]
    >>> loss(student, teacher).ndim
    0
    """

    def __init__(self, n_prototypes, teacher_temp=0.04, student_temp=0.1, center_momentum=0.9):
        super().__init__()
        self.teacher_temp = teacher_temp
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.register_buffer("center", torch.zeros(1, n_prototypes))

    def teacher_probabilities(self, teacher_out):
        """Centred, sharpened teacher distribution of one view."""
        return F.softmax((teacher_out - self.center) / self.teacher_temp, dim=-1)

    def forward(self, student_out, teacher_out):
        """Loss of student views (list of (batch, K)) against teacher views (list of (batch, K)).

        Teacher view ``i`` is the same crop as student view ``i``; those
        pairs are skipped.
        """
        teacher_probs = [self.teacher_probabilities(t).detach() for t in teacher_out]
        student_logp = [F.log_softmax(s / self.student_temp, dim=-1) for s in student_out]
        total, n_pairs = 0.0, 0
        for i, t in enumerate(teacher_probs):
            for j, logp in enumerate(student_logp):
                if i != j:
                    total = total + (-t * logp).sum(dim=-1).mean()
                    n_pairs += 1
        if self.training:
            self._update_center(teacher_out)
        return total / n_pairs

    @torch.no_grad()
    def _update_center(self, teacher_out):
        batch_center = torch.cat(teacher_out).float().mean(dim=0, keepdim=True)
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            # Data-parallel training: the centre of the whole batch, as in DINO.
            torch.distributed.all_reduce(batch_center)
            batch_center /= torch.distributed.get_world_size()
        self.center.mul_(self.center_momentum).add_(batch_center, alpha=1 - self.center_momentum)


class SelfDistillation(nn.Module):
    """Student and EMA teacher, each an encoder followed by a :class:`DINOHead`.

    The teacher starts as a copy of the student, takes no gradient and
    follows it by :meth:`update_teacher`. ``forward`` returns the student
    encoder's embeddings, so a trained module embeds like its encoder.

    Parameters
    ----------
    encoder : torch.nn.Module
        Student encoder with an ``out_features`` attribute.
    n_prototypes : int, default=256
        Passed to :class:`DINOHead`.

    Examples
    --------
    >>> import torch
    >>> from sklearn_ecg.nn import SelfDistillation, build_encoder
    >>> model = SelfDistillation(build_encoder("xresnet1d", "tiny", in_channels=2), n_prototypes=16)
    >>> model.student(torch.randn(3, 2, 40)).shape
    torch.Size([3, 16])
    >>> model.update_teacher(momentum=0.996)
    """

    def __init__(self, encoder, n_prototypes=256):
        super().__init__()
        self.student_encoder = encoder
        self.student_head = DINOHead(encoder.out_features, n_prototypes)
        self.teacher_encoder = copy.deepcopy(encoder)
        self.teacher_head = copy.deepcopy(self.student_head)
        for p in self.teacher_parameters():
            p.requires_grad_(False)

    def student_parameters(self):
        """Parameters trained by gradient."""
        yield from self.student_encoder.parameters()
        yield from self.student_head.parameters()

    def teacher_parameters(self):
        """Parameters moved by exponential moving average."""
        yield from self.teacher_encoder.parameters()
        yield from self.teacher_head.parameters()

    def forward(self, x, *, scores=False):
        """Student embeddings (batch, encoder.out_features), or with ``scores`` its prototype scores.

        ``scores=True`` is :meth:`student` through ``forward``, the call a
        data-parallel wrapper synchronises.
        """
        return self.student(x) if scores else self.student_encoder(x)

    def student(self, x):
        """Student prototype scores."""
        return self.student_head(self.student_encoder(x))

    @torch.no_grad()
    def teacher(self, x):
        """Teacher prototype scores, without gradient."""
        return self.teacher_head(self.teacher_encoder(x))

    @torch.no_grad()
    def update_teacher(self, momentum):
        """``teacher = momentum * teacher + (1 - momentum) * student``, parameter-wise."""
        for t, s in zip(self.teacher_parameters(), self.student_parameters()):
            t.mul_(momentum).add_(s.detach(), alpha=1 - momentum)
