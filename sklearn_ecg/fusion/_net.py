"""skorch plumbing of the fusion classifiers: training input, record scores.

Private to :mod:`sklearn_ecg.fusion`: the classifiers build these nets
inside ``fit``, on :class:`~sklearn_ecg.base.RecordBatches`.
:class:`FusionNet` passes feature vectors through as they are;
:class:`SignalFusionNet` trains on random crops of signals and scores whole
records by sliding windows.
"""

import torch
import torch.nn.functional as F
from skorch.dataset import unpack_data

from ..base import SeededNet
from ..nn.functional import batched_forward, random_crops, record_windows


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
        with self.autocast():
            logits, _ = self.module_(self.training_input(self.to_device(X)))
            loss = self.get_loss(logits, self.to_device(y), X=X, training=True)
        self.backward(loss)
        return {"loss": loss, "y_pred": logits}

    def training_input(self, X):
        """The network input of a training batch ``X``, on the net's device."""
        return X

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        X, y = unpack_data(batch)
        with torch.no_grad(), self.autocast():
            logits, _ = self.score_records(self.module_, self.to_device(X))
            loss = self.get_loss(logits, self.to_device(y), X=X, training=False)
        return {"loss": loss, "y_pred": logits}

    def score_records(self, module, X):
        """Record-level logits and gate weights (float32) of a batch ``X`` by ``module``, on ``X``'s device.

        ``module`` is the net's module or a copy of it on another device,
        in eval mode. The network sees batches of ``batch_size`` rows
        whatever the size of ``X`` (:func:`~sklearn_ecg.nn.functional.batched_forward`),
        so that a record's scores do not depend on the records scored with
        it.
        """
        logits, weights = batched_forward(module, X, self.batch_size)
        return logits.float(), weights.float()


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
        # Crops and masks are drawn from the CPU generator and applied on X's
        # device: the same random stream on any device.
        X = random_crops(X, self.window, self.generator)
        if self.augment is not None:
            X = self.augment(X, self.generator)
        return X

    def score_records(self, module, X):
        """Record-level logits and gate weights (float32) of a batch of records ``X``, on ``X``'s device.

        Records are cut into windows sliding with 50 % overlap
        (:func:`~sklearn_ecg.nn.functional.record_windows`, on ``X``'s
        device), which the network sees in batches of ``batch_size``
        windows whatever the number of records; a record's logit is that of
        its mean window probability, its gate weights the mean of its
        windows'.
        """
        windows = record_windows(X, self.window, max(1, self.window // 2))
        logits, weights = super().score_records(module, windows.flatten(0, 1))
        per_record = windows.shape[:2]
        return mean_probability_logit(logits.unflatten(0, per_record), dim=1), weights.unflatten(
            0, per_record
        ).mean(dim=1)
