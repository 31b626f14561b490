"""
==========================================
Pretrain once, reuse in every fold
==========================================

Pretraining inside ``fit`` sees only the records being fitted, so in a
cross-validation it starts again in every fold, on the labelled records
only. Unlabelled records are usually far more plentiful: pretrain the
encoders once on them with :func:`~sklearn_ecg.pipelines.pretrain_encoders`
(or ``sklearn-ecg pretrain``), keep them in a file, and start the default
pipeline from them with ``make_default_pipeline(pretrained=...)``. Every fit
then loads the pretrained weights and fine-tunes them with its labels,
without pretraining again, also inside ``cross_validate`` and
``GridSearchCV``.

Tiny encoders, a few epochs and three folds keep this example to seconds
on one CPU core; on so little synthetic data the comparison at the end is
mostly noise. ``benchmarks/bench_label_efficiency.py`` measures when
pretraining pays on real records.
"""

# %%
# An unlabelled pool and a small labelled set
# -------------------------------------------
# The embedded synthetic 12-lead records stand in for both: 60 records whose
# labels are not used, and 45 others with labels. Real pools load with
# :func:`~sklearn_ecg.datasets.load_folders` and ``labels=None``, from
# folders of any layout and sampling rate.
from sklearn_ecg.datasets import make_synthetic_ecg

pool = make_synthetic_ecg(60, duration=5.0, random_state=1).X
labelled = make_synthetic_ecg(45, duration=5.0, random_state=2)
print("pool:", pool.shape, " labelled:", labelled.X.shape, labelled.y.shape)

# %%
# Pretrain once, and keep the encoders
# ------------------------------------
# ``method="selfkd"`` pretrains the default pipeline's two branches (time
# series and spectrogram) by self-knowledge distillation;
# ``method="contrastive"`` the time branch by contrastive multi-segment
# coding. The file starts with a plain-text header that
# :func:`~sklearn_ecg.pretraining.load_encoders` checks before it unpickles
# anything.
import tempfile
from pathlib import Path

from sklearn_ecg.pipelines import pretrain_encoders
from sklearn_ecg.pretraining import load_encoders, read_encoders_header, save_encoders

encoders = pretrain_encoders(pool, method="selfkd", size="tiny", epochs=2, sources=["synthetic pool"],
                             random_state=0)
folder = tempfile.TemporaryDirectory()
path = save_encoders(encoders, Path(folder.name) / "encoders.joblib")
header = read_encoders_header(path)
print({key: header[key] for key in ("method", "size", "fs", "window", "modalities", "n_records", "epochs")})
encoders = load_encoders(path)

# %%
# Reuse them in a cross-validated pipeline
# ----------------------------------------
# The classifier takes the encoders' branches frozen
# (``pretraining="prefit"`` with :class:`~sklearn.frozen.FrozenEstimator`):
# the clones that ``cross_validate`` fits share them, and each fold
# fine-tunes a fresh copy of their weights. The same pipeline without
# pretraining (random initial weights) runs on the same folds for
# comparison.
from sklearn.model_selection import cross_validate

from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import MultilabelStratifiedKFold
from sklearn_ecg.pipelines import make_default_pipeline

# One fused model each (no ensemble, no blend): the encoders are what differs.
common = dict(classes=labelled.classes, finetune_epochs=4, ensemble=None, blend=None, random_state=0)
models = {
    "pretrained once": make_default_pipeline(pretrained=encoders, **common),
    "no pretraining": make_default_pipeline(pretrained=None, pretraining=None, **common),
}
cv = MultilabelStratifiedKFold(n_splits=3, random_state=0)
scoring = make_cinc_scorers(classes=labelled.classes)["macro_auroc"]
results = {name: cross_validate(model, labelled.X, labelled.y, cv=cv, scoring=scoring)
           for name, model in models.items()}
for name, result in results.items():
    print(f"{name:>16}: macro AUROC {result['test_score'].mean():.3f} +- {result['test_score'].std():.3f}, "
          f"fit {result['fit_time'].sum():.1f} s")
folder.cleanup()

# %%
# Per fold
# --------
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 3))
width = 0.38
for i, (name, result) in enumerate(results.items()):
    ax.bar(np.arange(3) + (i - 0.5) * width, result["test_score"], width, label=name)
ax.set_xticks(range(3), [f"fold {k + 1}" for k in range(3)])
ax.set_ylabel("macro AUROC")
ax.set_ylim(0, 1)
ax.legend(loc="lower right")
fig.tight_layout()
plt.show()
