"""
=================================================
Train on a GPU, serve on a CPU: pickling a model
=================================================

A fitted pipeline is an ordinary Python object: ``joblib.dump`` writes it,
``joblib.load`` reads it back on another machine. The torch estimators of
sklearn-ecg store their fitted torch state device-agnostically, so a model
fitted on a CUDA GPU unpickles on a machine without one: its tensors come
back on the CPU, a ``device`` of ``"cuda"`` becomes ``"cpu"``, and one
``DeviceWarning`` says so.

``device="auto"`` trains on CUDA when it is available and on the CPU
otherwise. This page was built on a CPU-only machine, so the fit below ran
on the CPU; the code is the same on a GPU machine.
"""

# %%
# Fit with ``device="auto"`` and save
# -----------------------------------
import tempfile
from pathlib import Path

import joblib
import torch
from sklearn.pipeline import make_pipeline

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

data = make_synthetic_ecg(80, random_state=0)
X_train, y_train, X_new = data.X[:60], data.y[:60], data.X[60:]

tiny = dict(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=32, device="auto")
model = make_pipeline(
    LeadStandardizer(),
    GatedFusionClassifier(
        branches=[
            ("time", SelfKDPretrainer(modality="time", **tiny)),
            ("spectrogram", make_pipeline(STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram", **tiny))),
        ],
        classes=data.classes,
        hidden_size=32,
        max_epochs=4,
        device="auto",
        random_state=0,
    ),
)
model.fit(X_train, y_train)
print("CUDA available here:", torch.cuda.is_available())
print("trained on:", model[-1].net_.device)

folder = Path(tempfile.mkdtemp())
joblib.dump(model, folder / "model.joblib")

# %%
# Load and predict on a CPU-only machine
# --------------------------------------
# ``set_params(device="cpu")`` on the classifier pins prediction to the CPU
# (the fitted network moves to the estimator's ``device`` before each
# prediction). With ``device="auto"`` left as it is, a CPU-only machine
# predicts on its CPU anyway, and a GPU machine on its GPU.
served = joblib.load(folder / "model.joblib")
served.set_params(gatedfusionclassifier__device="cpu")
proba = served.predict_proba(X_new)
print(proba.shape, proba.dtype)

# %%
# The loaded model gives the predictions of the one that was saved.
import numpy as np

print("same probabilities:", np.allclose(proba, model.predict_proba(X_new)))

# %%
# How a GPU-fitted model loads without a GPU: plain ``pickle`` would restore
# each CUDA tensor with torch's own loader, which fails without CUDA. The
# estimators pickle their torch attributes as one byte string and, when
# loading, map every tensor storage to the CPU if no GPU is present
# (:class:`~sklearn_ecg.base.BaseTorchEstimator`, their common base). The user guide
# page :doc:`/user_guide/gpu` has the details.
#
# The probabilities of the first new records, as a picture:
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(6, 2.5))
image = ax.imshow(proba[:10].T, aspect="auto", cmap="viridis", vmin=0, vmax=1)
ax.set_yticks(range(len(data.class_names)), data.class_names, fontsize=7)
ax.set_xlabel("new record")
fig.colorbar(image, label="probability")
fig.tight_layout()
plt.show()
