"""Gallery and probe records for patient identification."""

from numbers import Integral

import numpy as np
from sklearn.model_selection import BaseCrossValidator

from .._sklearn_compat import num_samples


class GalleryProbeSplit(BaseCrossValidator):
    """One split of the records of patients with several records into gallery and probe.

    The patient identification setting of the lead-agnostic paper on
    PTB-XL: among the patients (``groups``) with at least two records, each
    one's first record (in the order of the rows) goes to the gallery and
    the next ``n_probes`` to the probe set. Patients with a single record
    are in neither. Sort the rows (e.g. by recording date or PTB-XL's
    ``ecg_id``) before splitting to fix which record is first.

    ``split`` yields one ``(gallery, probe)`` pair of index arrays, in the
    place of scikit-learn's ``(train, test)``; score embeddings with
    :func:`~sklearn_ecg.metrics.identification_accuracy`.

    Parameters
    ----------
    n_probes : int or None, default=1
        Probe records per patient: the second record only (the paper's
        setting), more, or None for all records after the first.

    See Also
    --------
    sklearn_ecg.metrics.identification_accuracy : Top-k identification.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.model_selection import GalleryProbeSplit
    >>> patients = np.array([7, 3, 7, 5, 3, 7])
    >>> gallery, probe = next(GalleryProbeSplit().split(np.zeros((6, 1)), groups=patients))
    >>> gallery, probe
    (array([0, 1]), array([2, 4]))
    >>> next(GalleryProbeSplit(n_probes=None).split(np.zeros((6, 1)), groups=patients))[1]
    array([2, 4, 5])
    """

    def __init__(self, n_probes=1):
        self.n_probes = n_probes

    def get_n_splits(self, X=None, y=None, groups=None):
        """Number of splits: 1.

        Parameters
        ----------
        X, y, groups : object
            Ignored, exist for compatibility.

        Returns
        -------
        n_splits : int
        """
        return 1

    def split(self, X, y=None, groups=None):
        """Generate the gallery and probe indices.

        Parameters
        ----------
        X : array-like of shape (n_records, ...)
            Records (or their embeddings); only their number is used.
        y : None
            Ignored.
        groups : array-like of shape (n_records,)
            Patient of each record.

        Yields
        ------
        gallery : ndarray
            Index of each patient's first record, in row order.
        probe : ndarray
            Indices of the next ``n_probes`` records of each patient, in
            row order.
        """
        if self.n_probes is not None and (
            not isinstance(self.n_probes, Integral) or isinstance(self.n_probes, bool) or self.n_probes < 1
        ):
            raise ValueError(f"n_probes must be a positive integer or None, got {self.n_probes!r}.")
        if groups is None:
            raise ValueError("GalleryProbeSplit needs groups: the patient of each record.")
        groups = np.asarray(groups)
        if groups.shape != (num_samples(X),):
            raise ValueError(f"groups must have shape ({num_samples(X)},), got {groups.shape}.")
        _, patient, counts = np.unique(groups, return_inverse=True, return_counts=True)
        order = np.argsort(patient, kind="stable")
        # Position of each record among its patient's records, in row order.
        rank = np.empty(len(groups), dtype=int)
        rank[order] = np.arange(len(groups)) - np.repeat(np.cumsum(counts) - counts, counts)
        several = counts[patient] >= 2
        if not several.any():
            raise ValueError("No patient has two or more records: there is nothing to identify.")
        last_probe = np.inf if self.n_probes is None else self.n_probes
        yield np.flatnonzero(several & (rank == 0)), np.flatnonzero(several & (rank >= 1) & (rank <= last_probe))
