"""Patient identification: does a record's nearest gallery record belong to its patient?"""

from numbers import Integral

import numpy as np
from sklearn.metrics import pairwise_distances
from sklearn.utils import check_array


def identification_accuracy(embeddings, groups, *, gallery=None, probe=None, top_k=1, metric="cosine"):
    """Share of probe records whose patient is among the ``top_k`` nearest in the gallery.

    Each patient (identity) is as far from a probe as its nearest gallery
    record. A probe is identified when fewer than ``top_k`` other patients
    are at most as far as its own patient: ties count against it, so that
    the score does not depend on the order of the records.

    Parameters
    ----------
    embeddings : array-like of shape (n_records, n_features)
        One embedding per record.
    groups : array-like of shape (n_records,)
        Patient of each record.
    gallery, probe : array-like of int or bool, default=None
        Indices (or boolean masks) of the gallery and probe records; both
        or neither. None: :class:`~sklearn_ecg.model_selection.GalleryProbeSplit`
        (first record of each patient with several in the gallery, the
        second as probe). Every probe's patient must be in the gallery, and
        no record in both.
    top_k : int, default=1
        How many of the nearest patients may be tried.
    metric : str or callable, default="cosine"
        Distance of :func:`sklearn.metrics.pairwise_distances`.

    Returns
    -------
    accuracy : float
        In [0, 1]; top-1 identification accuracy by default.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.metrics import identification_accuracy
    >>> embeddings = np.array([[1, 0], [0, 1], [0.9, 0.1], [0.6, 0.4]])
    >>> patients = np.array(["a", "b", "a", "b"])
    >>> identification_accuracy(embeddings, patients)  # probe of "b" is nearer "a"
    0.5
    >>> identification_accuracy(embeddings, patients, top_k=2)
    1.0
    """
    # float64: float32 cosine distances of similar embeddings tie often.
    embeddings = check_array(embeddings, dtype=np.float64, input_name="embeddings")
    groups = np.asarray(groups)
    if groups.shape != (len(embeddings),):
        raise ValueError(f"groups must have shape ({len(embeddings)},), got {groups.shape}.")
    if not isinstance(top_k, Integral) or isinstance(top_k, bool) or top_k < 1:
        raise ValueError(f"top_k must be a positive integer, got {top_k!r}.")
    gallery, probe = _gallery_and_probe(embeddings, groups, gallery, probe)
    identities, identity = np.unique(groups[gallery], return_inverse=True)
    own = np.searchsorted(identities, groups[probe])
    unknown = (own == len(identities)) | (identities[np.minimum(own, len(identities) - 1)] != groups[probe])
    if unknown.any():
        raise ValueError(
            f"{unknown.sum()} probe records belong to patients without a gallery record, "
            f"e.g. {groups[probe][unknown][:3].tolist()}."
        )
    distances = pairwise_distances(embeddings[probe], embeddings[gallery], metric=metric)
    # Distance to each identity: the minimum over its gallery records.
    order = np.argsort(identity, kind="stable")
    starts = np.searchsorted(identity[order], np.arange(len(identities)))
    to_identity = np.minimum.reduceat(distances[:, order], starts, axis=1)
    own_distance = to_identity[np.arange(len(probe)), own]
    rank = (to_identity <= own_distance[:, None]).sum(axis=1)
    return float(np.mean(rank <= top_k))


def _gallery_and_probe(embeddings, groups, gallery, probe):
    if gallery is None and probe is None:
        # Imported here: model_selection imports metrics.
        from ..model_selection import GalleryProbeSplit

        return next(GalleryProbeSplit().split(embeddings, groups=groups))
    if gallery is None or probe is None:
        raise ValueError("Pass both gallery and probe, or neither.")
    gallery = _as_indices(gallery, "gallery", len(embeddings))
    probe = _as_indices(probe, "probe", len(embeddings))
    shared = np.intersect1d(gallery, probe)
    if shared.size:
        raise ValueError(f"gallery and probe share {shared.size} records, e.g. {shared[:3].tolist()}.")
    return gallery, probe


def _as_indices(rows, name, n_records):
    rows = np.asarray(rows)
    if rows.dtype == bool:
        if rows.shape != (n_records,):
            raise ValueError(f"A boolean {name} mask must have shape ({n_records},), got {rows.shape}.")
        rows = np.flatnonzero(rows)
    elif rows.ndim != 1 or (rows.size and not np.issubdtype(rows.dtype, np.integer)):
        raise ValueError(f"{name} must be a 1-D array of record indices or a boolean mask.")
    if rows.size == 0:
        raise ValueError(f"{name} is empty.")
    if rows.min() < 0 or rows.max() >= n_records:
        raise ValueError(f"{name} indices must lie in [0, {n_records}).")
    return rows
