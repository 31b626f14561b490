"""
=================================================================
Patient identification with lead-agnostic contrastive pretraining
=================================================================

:class:`~sklearn_ecg.pretraining.ContrastivePretrainer` learns ECG
embeddings without labels (Oh et al., CHIL 2022): consecutive 5 s segments
of one record are pulled together and apart from the other records'
segments (CMSC), and random leads of every training segment are zeroed
(random lead masking), so that the embeddings also work on reduced lead
sets. The lead-agnostic paper scores such embeddings by patient
identification: is a patient's new recording nearest to that patient's
earlier one?

This example runs that pipeline, ``fit`` -> ``transform`` ->
:func:`~sklearn_ecg.metrics.identification_accuracy`, on a small synthetic
pool, in seconds on one CPU core (a tiny encoder, CMSC alone, a few
epochs). ``benchmarks/bench_identification.py`` runs it on real PTB-XL
records.
"""

# %%
# A synthetic pool of patients with two recordings each
# -----------------------------------------------------
# :func:`~sklearn_ecg.datasets.make_synthetic_ecg` draws every record from
# its own simulated heart, so it has one record per patient. Here each
# simulated 20 s record is one patient, and its two halves are two
# "visits": each visit gets its own electrode gains (a random factor per
# lead) and its own white noise. That makes an easier task than real
# visits months apart, but the same protocol.
import numpy as np

from sklearn_ecg.datasets import make_synthetic_ecg

rng = np.random.default_rng(0)
data = make_synthetic_ecg(80, duration=20.0, random_state=0)
halves = np.stack([data.X[:, :, :1000], data.X[:, :, 1000:]], axis=1)  # (patient, visit, lead, time)
gains = rng.lognormal(0.0, 0.1, size=halves.shape[:3] + (1,))
visits = (halves * gains + rng.normal(0.0, 0.02, size=halves.shape)).astype(np.float32)

# Patients 0-29 are identified; the pretraining pool holds the other 50,
# never the evaluated ones.
evaluated, pool = visits[:30], visits[30:].reshape(-1, 12, 1000)
X = np.concatenate([evaluated[:, 0], evaluated[:, 1]])  # first visits, then second visits
patients = np.tile(np.arange(30), 2)
print(f"pool: {len(pool)} records; evaluated: {len(X)} records of {len(evaluated)} patients")

# %%
# Pretraining and embedding
# -------------------------
# Every 10 s record gives one pair of 5 s segments. To run in seconds, the
# encoder is the tiny XResNet1d and the objective CMSC alone (the paper's
# transformer and wav2vec 2.0 objective are ``encoder="transformer"`` and
# ``objective="w2v+cmsc"``, the defaults). ``transform`` embeds a record as
# the mean of its segments' embeddings.
from sklearn_ecg.pretraining import ContrastivePretrainer

settings = dict(objective="cmsc", encoder="xresnet1d", size="tiny", max_epochs=10, random_state=0)
pretrainer = ContrastivePretrainer(**settings).fit(pool)
print("CMSC loss per epoch:", np.round(pretrainer.history_[:, "cmsc"], 2))

# %%
# Identification at 12, 6, 3 and 1 leads
# --------------------------------------
# :class:`~sklearn_ecg.model_selection.GalleryProbeSplit` puts each
# patient's first record (in row order) in the gallery and the second in
# the probe set; a probe is identified when its nearest gallery record by
# cosine similarity is its patient's. Absent leads are zeros at their index
# (:class:`~sklearn_ecg.preprocessing.LeadMasker`). The reference is the
# same pretraining without random lead masking.
from sklearn_ecg.metrics import identification_accuracy
from sklearn_ecg.model_selection import GalleryProbeSplit
from sklearn_ecg.preprocessing import LeadMasker

gallery, probe = next(GalleryProbeSplit().split(X, groups=patients))
unmasked = ContrastivePretrainer(lead_mask_proba=0.0, **settings).fit(pool)

lead_sets = [12, 6, 3, 1]
accuracy = {"lead masking": [], "no lead masking": []}
for k in lead_sets:
    X_k = LeadMasker(leads=k).fit_transform(X)
    for name, model in [("lead masking", pretrainer), ("no lead masking", unmasked)]:
        Z = model.transform(X_k)
        accuracy[name].append(identification_accuracy(Z, patients, gallery=gallery, probe=probe))
for name, values in accuracy.items():
    print(f"{name:>15}:", "  ".join(f"{k:2d} leads {v:.2f}" for k, v in zip(lead_sets, values)))

# %%
# Chance is one patient in 30. Ten epochs on 100 synthetic records make a
# noisy picture, in which masking need not show: the user guide gives the
# tables measured on real PTB-XL records, with three seeds.
import matplotlib.pyplot as plt

fig, ax = plt.subplots(figsize=(5, 3))
for name, values in accuracy.items():
    ax.plot(lead_sets, values, marker="o", label=name)
ax.axhline(1 / len(gallery), color="grey", linestyle=":", label="chance")
ax.set_xticks(lead_sets)
ax.invert_xaxis()
ax.set_ylim(0, 1.05)
ax.set_xlabel("leads given")
ax.set_ylabel("top-1 identification")
ax.legend()
fig.tight_layout()
plt.show()
