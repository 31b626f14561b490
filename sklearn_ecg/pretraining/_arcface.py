"""ArcFaceEmbedder: identity embeddings learned with an additive angular margin head."""

import copy
import math
from numbers import Integral, Real

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.base import TransformerMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import LRScheduler
from skorch.dataset import unpack_data

from .._random import draw_seed, seeded_torch
from .._sklearn_compat import HasMethods, Interval, StrOptions, fit_context
from .._validation import check_signals
from ..augmentation import RandomLeadMasking
from ..base import BaseTorchEstimator, RecordBatches, SeededNet
from ..nn import ENCODER_PRESETS, IdentificationNetwork, build_encoder
from ..nn.functional import mean_window_embeddings, random_crops
from ..preprocessing import LeadStandardizer


class IdentificationNet(SeededNet):
    """skorch net whose train step crops, masks and classifies identities through the ArcFace head.

    Each batch of whole records is moved to the device, cut into one random
    ``window`` per record and its leads masked by ``lead_masking``, every
    random draw made by the CPU ``generator``; the head sees the true
    identities, to widen their angles by the margin.
    """

    def __init__(self, *args, window, lead_masking, **kwargs):
        super().__init__(*args, **kwargs)
        self.window = window
        self.lead_masking = lead_masking

    def train_step_single(self, batch, **fit_params):
        self._set_training(True)
        records, identities = unpack_data(batch)
        crops = self.lead_masking(random_crops(self.to_device(records), self.window, self.generator), self.generator)
        identities = self.to_device(identities)
        with self.autocast():
            logits = self.module_(crops, identities)
            loss = self.get_loss(logits.float(), identities, training=True)
        self.backward(loss)
        return {"loss": loss, "y_pred": logits}


class ArcFaceEmbedder(TransformerMixin, BaseTorchEstimator):
    """Identity embeddings of ECG records, learned with an ArcFace head.

    The fine-tuning for patient identification of the lead-agnostic paper
    (Oh et al., CHIL 2022): an encoder, fresh or ``pretrained`` without
    labels, is trained with an additive angular margin head (ArcFace, Deng
    et al. 2019) to tell the identities of the training records apart, on
    random ``window``-sample crops with random lead masking. ``transform``
    embeds any record, also of identities never seen in ``fit``: the mean of
    its sliding-window embeddings (50 % overlap), L2-normalised, so that
    :func:`~sklearn_ecg.metrics.identification_accuracy` compares them by
    cosine similarity.

    Parameters
    ----------
    pretrained : estimator or None, default=None
        A fitted :class:`~sklearn_ecg.pretraining.ContrastivePretrainer` or
        :class:`~sklearn_ecg.pretraining.SelfKDPretrainer` (time modality)
        whose encoder is the start, with its input standardisation if it
        has one; wrap it in :class:`~sklearn.frozen.FrozenEstimator` so that
        ``clone`` (cross-validation, grid search) keeps it fitted. None: a
        fresh XResNet1d of ``size``, on signals standardised per lead with
        the statistics of the training records.
    size : {"tiny", "small", "paper"}, default="small"
        Preset of the fresh encoder (ignored with ``pretrained``).
    window : int, default=250
        Samples per training crop and per embedded window (2.5 s at 100 Hz).
    scale : float, default=30.0
        ArcFace's scale (radius of the sphere of the logits).
    margin : float, default=0.5
        ArcFace's additive angular margin, in radians.
    lead_mask_proba : float, default=0.5
        Probability that a lead of a training crop is zeroed.
    crops_per_record : int, default=4
        Random crops of each record per epoch.
    max_epochs : int, default=30
    batch_size : int, default=64
    lr : float, default=1e-3
        Initial learning rate of AdamW, decayed by a cosine to 0 over the
        training.
    weight_decay : float, default=0.01
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``;
        ``transform`` honours it too.
    precision : {"32", "bf16", "16"}, default="32"
        Arithmetic of the forward passes (float16 on CUDA only).
    pin_memory : bool, default=False
        Pinned training batches, for copies to a CUDA device.
    accelerator : {"accelerate"} or None, default=None
        Train through Hugging Face accelerate (``accelerate launch``).
    verbose : int, default=0
        0 prints nothing; 1 prints a table per epoch and a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights (head, and fresh encoder), the order of
        the records, the crops and the lead masks. On a CPU the same integer
        gives the same embeddings.

    Attributes
    ----------
    encoder_ : torch.nn.Module
        The trained encoder, on the CPU and in eval mode.
    standardizer_ : LeadStandardizer
        The standardisation of the encoder's input.
    identities_ : ndarray of shape (n_identities,)
        The identities of the training records.
    net_ : skorch.NeuralNet
        The net that trained the encoder and head.
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_features_out_ : int
        Embedding size.

    See Also
    --------
    sklearn_ecg.metrics.identification_accuracy : Top-k identification from embeddings.
    sklearn_ecg.model_selection.GalleryProbeSplit : Gallery and probe records by patient.
    sklearn_ecg.nn.ArcMarginHead : The head.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.pretraining import ArcFaceEmbedder
    >>> rng = np.random.default_rng(0)
    >>> patients = np.repeat(np.arange(6), 2)
    >>> X = rng.normal(size=(6, 12, 1))[patients] + 0.1 * rng.normal(size=(12, 12, 500))
    >>> embedder = ArcFaceEmbedder(size="tiny", max_epochs=2, random_state=0).fit(X, patients)
    >>> Z = embedder.transform(X)
    >>> Z.shape, bool(np.allclose(np.linalg.norm(Z, axis=1), 1, atol=1e-5))
    ((12, 64), True)
    """

    _net_class = IdentificationNet
    _torch_attributes = ("net_", "encoder_")

    _parameter_constraints = {
        "pretrained": [HasMethods(["build_pretrained_encoder"]), HasMethods(["fit", "transform"]), None],
        "size": [StrOptions(set(ENCODER_PRESETS["xresnet1d"]))],
        "window": [Interval(Integral, 1, None, closed="left")],
        "scale": [Interval(Real, 0, None, closed="neither")],
        "margin": [Interval(Real, 0, math.pi / 2, closed="both")],
        "lead_mask_proba": [Interval(Real, 0, 1, closed="both")],
        "crops_per_record": [Interval(Integral, 1, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        **BaseTorchEstimator._torch_parameter_constraints,
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        pretrained=None,
        size="small",
        window=250,
        scale=30.0,
        margin=0.5,
        lead_mask_proba=0.5,
        crops_per_record=4,
        max_epochs=30,
        batch_size=64,
        lr=1e-3,
        weight_decay=0.01,
        device="auto",
        precision="32",
        pin_memory=False,
        accelerator=None,
        verbose=0,
        random_state=None,
    ):
        self.pretrained = pretrained
        self.size = size
        self.window = window
        self.scale = scale
        self.margin = margin
        self.lead_mask_proba = lead_mask_proba
        self.crops_per_record = crops_per_record
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.device = device
        self.precision = precision
        self.pin_memory = pin_memory
        self.accelerator = accelerator
        self.verbose = verbose
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the encoder to tell the identities ``y`` of the records ``X`` apart.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)
            Signals; records shorter than ``window`` are zero-padded.
        y : array-like of shape (n_records,)
            The identity (e.g. patient id) of each record; at least two.

        Returns
        -------
        self : ArcFaceEmbedder
        """
        X = self._check_X(X, reset=True)
        identities = self._check_identities(y, len(X))
        rng = check_random_state(self.random_state)
        with seeded_torch(draw_seed(rng)):  # the initial weights, without touching torch's global stream
            encoder, self.standardizer_ = self._start(X)
            network = IdentificationNetwork(encoder, len(self.identities_), self.scale, self.margin)
        self.net_ = self._identification_net(network, len(X), rng)
        self._fit_net(self.net_, RecordBatches(self.standardizer_.transform(X), identities,
                                               repeats=self.crops_per_record))
        self.encoder_ = copy.deepcopy(self.net_.module_.encoder).cpu().eval()
        self.n_features_out_ = self.encoder_.out_features
        return self

    def transform(self, X):
        """Embed each record: the L2-normalised mean of its sliding-window embeddings.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)
            Records of any length, with the leads seen in ``fit`` (absent
            ones as zero channels).

        Returns
        -------
        embeddings : ndarray of shape (n_records, ``n_features_out_``), float32
        """
        check_is_fitted(self, "encoder_")
        X = self.standardizer_.transform(self._check_X(X, reset=False))
        embeddings = np.empty((len(X), self.n_features_out_), dtype=np.float32)
        with self._inference(self.encoder_) as (encoder, device):
            for start in range(0, len(X), self.batch_size):
                records = torch.from_numpy(np.ascontiguousarray(X[start:start + self.batch_size])).to(device)
                means = mean_window_embeddings(encoder, records, self.window, self.batch_size)
                embeddings[start:start + len(records)] = F.normalize(means).cpu().numpy()
        return embeddings

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``arcfaceembedder<i>``.

        Parameters
        ----------
        input_features : None
            Ignored: the inputs are signals, not named features.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "n_features_out_")
        prefix = type(self).__name__.lower()
        return np.asarray([f"{prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def _check_X(self, X, *, reset):
        X = check_signals(X, dtype=np.float32)
        self._check_n_leads(X, reset=reset)
        return X

    def _check_identities(self, y, n_records):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None; give the identity "
                "(e.g. patient id) of each record."
            )
        y = np.asarray(y)
        if y.shape != (n_records,):
            raise ValueError(f"y must hold one identity per record, shape ({n_records},); got shape {y.shape}.")
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(
                f"ArcFace needs at least two identities to tell apart; y has one class ({encoder.classes_[0]!r})."
            )
        self.identities_ = encoder.classes_
        return encoder.transform(y).astype(np.int64)

    def _start(self, X):
        """The encoder to train and the standardiser of its input."""
        if self.pretrained is None:
            return build_encoder("xresnet1d", self.size, X.shape[1]), LeadStandardizer().fit(X)
        pretrainer = getattr(self.pretrained, "estimator", self.pretrained)  # a FrozenEstimator's
        if not hasattr(pretrainer, "build_pretrained_encoder"):
            raise TypeError(
                "pretrained must be a fitted ContrastivePretrainer or SelfKDPretrainer (optionally in a "
                f"FrozenEstimator), or None; got {type(pretrainer).__name__}."
            )
        check_is_fitted(pretrainer, "encoder_")
        if getattr(pretrainer, "modality", "time") != "time" or pretrainer.n_leads_in_ != X.shape[1]:
            raise ValueError(
                f"pretrained was fitted on {pretrainer.n_leads_in_}-lead "
                f"{getattr(pretrainer, 'modality', 'time')} input; X has {X.shape[1]} leads of signals."
            )
        standardizer = getattr(pretrainer, "standardizer_", None) or LeadStandardizer().fit(X)
        return pretrainer.build_pretrained_encoder(), standardizer

    def _identification_net(self, network, n_records, rng):
        n_items = n_records * self.crops_per_record
        # A batch of one crop breaks batch normalisation.
        drop_last, steps = self._training_batches(n_items, drop_last=n_items % self.batch_size == 1)
        schedule = LRScheduler(policy="CosineAnnealingLR", T_max=max(1, steps), step_every="batch")
        return self._build_net(
            network,
            rng,
            seeded_iterators=("train",),  # no validation data
            criterion=torch.nn.CrossEntropyLoss,
            optimizer=torch.optim.AdamW,
            optimizer__weight_decay=self.weight_decay,
            iterator_train__drop_last=drop_last,
            train_split=None,
            callbacks=self._default_callbacks(schedule),
            window=self.window,
            lead_masking=RandomLeadMasking(self.lead_mask_proba),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.target_tags.required = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
