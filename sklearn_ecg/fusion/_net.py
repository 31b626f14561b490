"""skorch plumbing of the fusion classifier: data, windows, train and validation steps.

Private to :class:`~sklearn_ecg.fusion.GatedFusionClassifier`, which builds
the net inside ``fit``.
"""

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.dataset import unpack_data
from skorch.utils import to_device

from ..nn.functional import random_crops, sliding_windows


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


class FusionNet(NeuralNet):
    """skorch net of a :class:`~sklearn_ecg.nn._fusion.MultiBranchNetwork`.

    With a ``window`` (signal input), each training batch is one random
    crop per item, augmented; validation and :meth:`record_outputs` slide
    windows over whole records and score a record by the mean of its window
    probabilities. Without one (feature vectors), rows go through as they
    are.

    Parameters
    ----------
    window : int or None
        Crop length in samples, or None for feature vectors.
    augment : callable or None
        ``(x, generator) -> x`` applied to training crops (lead masking).
    generator : torch.Generator
        CPU generator of the crops and augmentations.
    """

    def __init__(self, *args, window, augment, generator, **kwargs):
        super().__init__(*args, **kwargs)
        self.window = window
        self.augment = augment
        self.generator = generator

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        X, y = unpack_data(batch)
        if self.window is not None:
            X = random_crops(X, self.window, self.generator)
        if self.augment is not None:
            X = self.augment(X, self.generator)
        logits, _ = self.module_(to_device(X, self.device))
        loss = self.get_loss(logits, to_device(y, self.device), X=X, training=True)
        loss.backward()
        return {"loss": loss, "y_pred": logits}

    def validation_step(self, batch, **fit_params):
        self._set_training(False)
        X, y = unpack_data(batch)
        with torch.no_grad():
            logits, _ = self.record_outputs(X)
            loss = self.get_loss(logits, to_device(y, self.device), X=X, training=False)
        return {"loss": loss, "y_pred": logits}

    def record_outputs(self, X):
        """Record-level logits and gate weights of a batch, on the net's device.

        ``X`` is a CPU tensor. Signals are cut into windows sliding with 50 %
        overlap (:func:`~sklearn_ecg.preprocessing.sliding_windows`); a
        record's logit is that of its mean window probability, its gate
        weights the mean of its windows'. The caller sets training or eval
        mode.
        """
        if self.window is None:
            return self.module_(to_device(X, self.device))
        windows, _ = sliding_windows(X.numpy(), self.window, max(1, self.window // 2))
        logits, weights = self.module_(to_device(torch.from_numpy(windows), self.device))
        per_record = (len(X), len(windows) // len(X))
        return mean_probability_logit(logits.unflatten(0, per_record), dim=1), weights.unflatten(
            0, per_record
        ).mean(dim=1)


def predict_records(net, X, batch_size):
    """Record-level logits and gate weights of ``X`` as float64 arrays, in eval mode."""
    net.module_.eval()
    logits, weights = [], []
    with torch.no_grad():
        for start in range(0, len(X), batch_size):
            batch = torch.from_numpy(np.array(X[start:start + batch_size]))
            batch_logits, batch_weights = net.record_outputs(batch)
            logits.append(batch_logits.double().cpu().numpy())
            weights.append(batch_weights.double().cpu().numpy())
    return np.concatenate(logits), np.concatenate(weights)
