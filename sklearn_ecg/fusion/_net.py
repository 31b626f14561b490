"""skorch plumbing of the fusion classifiers: data, training input, record scores.

Private to :mod:`sklearn_ecg.fusion`: the classifiers build these nets
inside ``fit``. :class:`FusionNet` passes feature vectors through as they
are; :class:`SignalFusionNet` trains on random crops of signals and scores
whole records by sliding windows.
"""

import torch
import torch.nn.functional as F
from skorch.dataset import unpack_data
from skorch.utils import to_device

from ..base import SeededNet
from ..nn.functional import batched_forward, random_crops, sliding_windows


class Records(torch.utils.data.Dataset):
    """``(record, labels)`` pairs of the records ``index``, each ``repeats`` times per epoch.

    With windows cut in the train step, every repeat yields another random
    crop of the record. Records are read from ``X`` one at a time, so that
    no subset of ``X`` is copied whole.
    """

    def __init__(self, X, Y, index, repeats=1):
        self.X = X
        self.Y = Y
        self.index = index
        self.repeats = repeats

    def __len__(self):
        return len(self.index) * self.repeats

    def __getitem__(self, i):
        i = self.index[i % len(self.index)]
        # Copies, so that read-only inputs (memmaps) never reach torch as views.
        return torch.tensor(self.X[i]), torch.tensor(self.Y[i])


def mean_probability_logit(logits, dim):
    """Logit of the mean of ``sigmoid(logits)`` along ``dim``, computed stably.

    ``log(mean p) - log(mean (1 - p))``, with ``log p = -softplus(-l)`` and
    ``log(1 - p) = -softplus(l)``; the ``log n`` terms cancel. Exact for
    logits far beyond where ``sigmoid`` rounds to 0 or 1.
    """
    return torch.logsumexp(-F.softplus(-logits), dim) - torch.logsumexp(-F.softplus(logits), dim)


class FusionNet(SeededNet):
    """skorch net of a :class:`~sklearn_ecg.nn.MultiBranchNetwork` on feature vectors.

    Rows go through the network as they are, in training, validation and
    :meth:`score_records`.
    """

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        X, y = unpack_data(batch)
        X = self.training_input(X)
        logits, _ = self.module_(to_device(X, self.device))
        loss = self.get_loss(logits, to_device(y, self.device), X=X, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": logits}

    def training_input(self, X):
        """The network input of a training batch ``X`` (a CPU tensor)."""
        return X

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        X, y = unpack_data(batch)
        with torch.no_grad():
            logits, _ = self.score_records(self.module_, X, self.device)
            loss = self.get_loss(logits, to_device(y, self.device), X=X, training=False)
        return {"loss": loss, "y_pred": logits}

    def score_records(self, module, X, device):
        """Record-level logits and gate weights of a batch ``X`` (a CPU tensor), by ``module`` on ``device``.

        ``module`` is the net's module or a copy of it on another device,
        in eval mode. The network sees batches of ``batch_size`` rows
        whatever the size of ``X`` (:func:`~sklearn_ecg.nn.functional.batched_forward`),
        so that a record's scores do not depend on the records scored with
        it.
        """
        return batched_forward(module, to_device(X, device), self.batch_size)


class SignalFusionNet(FusionNet):
    """skorch net of a :class:`~sklearn_ecg.nn.MultiBranchNetwork` on signals.

    Each training batch is one random crop per item, augmented; validation
    and :meth:`score_records` slide windows over whole records and score a
    record by the mean of its window probabilities.

    Parameters
    ----------
    window : int
        Crop length in samples.
    augment : callable or None
        ``(x, generator) -> x`` applied to training crops (lead masking).
    **kwargs
        Those of :class:`~sklearn_ecg.base.SeededNet`; its ``generator``
        draws the crops and augmentations.
    """

    def __init__(self, *args, window, augment, **kwargs):
        super().__init__(*args, **kwargs)
        self.window = window
        self.augment = augment

    def training_input(self, X):
        X = random_crops(X, self.window, self.generator)
        if self.augment is not None:
            X = self.augment(X, self.generator)
        return X

    def score_records(self, module, X, device):
        """Record-level logits and gate weights of a batch of records ``X`` (a CPU tensor).

        Records are cut into windows sliding with 50 % overlap
        (:func:`~sklearn_ecg.nn.functional.sliding_windows`), which the
        network sees in batches of ``batch_size`` windows whatever the
        number of records; a record's logit is that of its mean window
        probability, its gate weights the mean of its windows'.
        """
        windows, _ = sliding_windows(X.numpy(), self.window, max(1, self.window // 2))
        logits, weights = batched_forward(module, to_device(torch.from_numpy(windows), device), self.batch_size)
        per_record = (len(X), len(windows) // len(X))
        return mean_probability_logit(logits.unflatten(0, per_record), dim=1), weights.unflatten(
            0, per_record
        ).mean(dim=1)
