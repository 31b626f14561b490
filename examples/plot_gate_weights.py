"""
==========================================
Inspecting the gate weights of the fusion
==========================================

The :class:`~sklearn_ecg.fusion.GatedFusionClassifier` weighs its two
modalities per record: a softmax gate gives the time-series embedding a
weight ``g_time`` and the spectrogram embedding ``g_spectrogram = 1 -
g_time``. :meth:`~sklearn_ecg.fusion.GatedFusionClassifier.gate_weights`
returns them (for signals, the mean over a record's windows), which shows
on which modality the model leans for which records.

Tiny encoders and few epochs keep this example to seconds; the weights of a
model trained this briefly show the mechanics, not what a fully trained
model learns.
"""

# %%
# Fit on part of the records
# --------------------------
from sklearn.pipeline import make_pipeline

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer

data = make_synthetic_ecg(150, random_state=0)
train, test = slice(0, 100), slice(100, None)

tiny = dict(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=32)
model = make_pipeline(
    LeadStandardizer(),
    GatedFusionClassifier(
        branches=[
            ("time", SelfKDPretrainer(modality="time", **tiny)),
            ("spectrogram", make_pipeline(STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram", **tiny))),
        ],
        classes=data.classes,
        hidden_size=32,
        max_epochs=8,
        random_state=0,
    ),
)
model.fit(data.X[train], data.y[train])

# %%
# Gate weights of the held-out records
# ------------------------------------
# ``gate_weights`` is a method of the classifier, so the records first go
# through the pipeline's earlier steps.
classifier = model[-1]
weights = classifier.gate_weights(model[:-1].transform(data.X[test]))
print(classifier.modality_names_, weights.shape)
print("rows sum to one:", bool(abs(weights.sum(axis=1) - 1).max() < 1e-6))

# %%
# Distribution per class
# ----------------------
# For each class, the time-series weight of the held-out records that have
# it (a record with several findings counts in each).
import matplotlib.pyplot as plt

y_test = data.y[test]
present = [j for j in range(y_test.shape[1]) if y_test[:, j].any()]
fig, ax = plt.subplots(figsize=(7, 3))
ax.boxplot([weights[y_test[:, j] == 1, 0] for j in present])
ax.set_xticks(range(1, len(present) + 1), data.class_names[present], rotation=45)
ax.axhline(0.5, color="gray", linestyle=":")
ax.set_ylabel(f"gate weight of '{classifier.modality_names_[0]}'")
ax.set_ylim(0, 1)
fig.tight_layout()
plt.show()
