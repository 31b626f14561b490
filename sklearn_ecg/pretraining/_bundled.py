"""The encoders shipped with sklearn-ecg: the default pipeline's start."""

from importlib import resources

from ._encoders import read_encoders

BUNDLED_ENCODERS = "contrastive_tiny_100hz.joblib"
"""File name of the bundled encoders, in ``sklearn_ecg/pretraining/_data``."""


def load_bundled_encoders():
    """Load the encoders shipped with sklearn-ecg, which the default pipeline starts from.

    The time branch (``tiny`` XResNet1d, 12 leads at 100 Hz, 2.5 s
    windows), pretrained by contrastive multi-segment coding with random
    lead masking (``pretrain_encoders(method="contrastive")``, 60 epochs,
    seed 0) on 585 unlabelled records: the ``ptbxl-dev`` (PTB-XL, ecg_id
    11-500 without fold 10) and ``ludb-dev`` (LUDB) development folders,
    none of them a record of the challenge development set. Made by::

        sklearn-ecg pretrain ptbxl-dev ludb-dev --method contrastive --seed 0 \\
            -o sklearn_ecg/pretraining/_data/contrastive_tiny_100hz.joblib

    PTB-XL (Wagner et al., 2020) and LUDB (Kalyakulina et al., 2020) are
    published by PhysioNet under CC BY 4.0.

    Returns
    -------
    encoders : PretrainedEncoders

    Examples
    --------
    >>> from sklearn_ecg.pretraining import load_bundled_encoders
    >>> encoders = load_bundled_encoders()
    >>> encoders.method, encoders.modalities, encoders.fs, encoders.window
    ('contrastive', ('time',), 100, 2.5)
    """
    with resources.as_file(resources.files(__package__) / "_data" / BUNDLED_ENCODERS) as path:
        # Made by an earlier version of this package, on purpose: no warning.
        return read_encoders(path, warn_version=False)
