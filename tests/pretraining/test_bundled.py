import warnings

import numpy as np

from sklearn_ecg.leads import LEAD_NAMES
from sklearn_ecg.pretraining import ContrastivePretrainer, PretrainedEncoders, load_bundled_encoders


def test_bundled_encoders_are_the_contrastive_time_branch_of_the_default_pipeline():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # made by another version on purpose: no warning
        encoders = load_bundled_encoders()
    assert isinstance(encoders, PretrainedEncoders)
    assert (encoders.method, encoders.size, encoders.fs, encoders.window) == ("contrastive", "tiny", 100, 2.5)
    assert encoders.modalities == ("time",) and tuple(encoders.leads) == tuple(LEAD_NAMES)
    # Pretrained on the unlabelled pool only, never on the challenge development records.
    assert encoders.n_records == 585
    assert [source.rsplit("/", 1)[-1] for source in encoders.sources] == ["ptbxl-dev", "ludb-dev"]
    pretrainer = dict(encoders.branches)["time"]
    assert isinstance(pretrainer, ContrastivePretrainer) and pretrainer.objective == "cmsc"
    encoders.check_compatible(fs=100, window=2.5, n_leads=12, modalities=["time"])


def test_bundled_encoders_embed_records():
    pretrainer = dict(load_bundled_encoders().branches)["time"]
    X = np.random.default_rng(0).normal(size=(3, 12, 1000)).astype(np.float32)
    Z = pretrainer.transform(X)
    assert Z.shape[0] == 3 and np.isfinite(Z).all() and Z.std(axis=0).max() > 0
