"""Plumbing shared by the signal transformers: tags, lead checks, numpy <-> torch."""

import warnings

import numpy as np
import torch
from sklearn.base import BaseEstimator, TransformerMixin

from .._validation import check_signals

# Records per torch call are chosen so that one chunk holds about this many
# values (4 MiB of float32): small enough to stay in cache between the
# steps of a transform, large enough that the per-call overhead vanishes.
_CHUNK_VALUES = 2**20


class SignalTransformer(TransformerMixin, BaseEstimator):
    """Base of the transformers of arrays ``(n_records, n_leads, ...)``.

    ``fit`` records ``n_leads_in_``; ``transform`` requires the same number
    of leads. 2-D input ``(n_records, n_times)`` is read as one lead.
    """

    # Dimensionality of the input: 3 for signals, 4 for spectrograms, None
    # for either (a 4-D input stays 4-D, anything else is read as signals).
    _input_ndim = 3
    # Number of leads ``fit`` requires, or None for any.
    _required_leads = None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    def set_output(self, *, transform=None):
        """Accept a pipeline's output configuration; the output stays an array.

        ``Pipeline.set_output(transform="pandas")`` configures every step,
        and fails on a step without this method. Signals and spectrograms
        are 3-D or 4-D, which no DataFrame holds, so they stay numpy arrays;
        the 2-D embeddings of later steps (e.g.
        :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`) become
        DataFrames with named columns.

        Parameters
        ----------
        transform : {"default", "pandas", "polars"} or None, default=None
            Ignored.

        Returns
        -------
        self : estimator instance
        """
        return self

    def _check_X(self, X, *, reset):
        """Validate ``X``; with ``reset``, record its lead count, else check it."""
        X = check_signals(
            X,
            n_leads=self._required_leads if reset else self.n_leads_in_,
            ndim=self._input_ndim or (4 if np.asarray(X).ndim == 4 else 3),
        )
        if reset:
            self.n_leads_in_ = X.shape[1]
        return X


def chunk_size(n_values_per_record):
    """Records per chunk for records of ``n_values_per_record`` values."""
    return max(1, _CHUNK_VALUES // max(1, n_values_per_record))


def as_tensor(X):
    """A torch view of the numpy array ``X``, read-only arrays included.

    torch warns that it cannot protect a read-only array from writes; the
    callers only read from the view, so the warning is silenced. Arrays
    with negative strides (which torch cannot view) are copied.
    """
    if any(stride < 0 for stride in X.strides):
        X = np.ascontiguousarray(X)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The given NumPy array is not writable")
        return torch.from_numpy(X)
