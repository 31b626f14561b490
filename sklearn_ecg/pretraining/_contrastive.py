"""ContrastivePretrainer: lead-agnostic pretraining by wav2vec 2.0 and CMSC."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import LRScheduler, PassthroughScoring

from .._random import seeded_torch
from .._sklearn_compat import Interval, StrOptions, fit_context
from .._validation import check_signals
from ..base import BaseTorchEstimator
from ..nn import load_encoder_state
from ..nn.functional import aggregate_windows, batched_forward, segment_pairs, sliding_windows
from ..preprocessing import LeadStandardizer
from ._contrastive_net import (
    ContrastiveNet,
    TotalLoss,
    as_segment_encoder,
    build_contrastive_network,
    build_segment_encoder,
    objective_terms,
)


class ContrastivePretrainer(TransformerMixin, BaseTorchEstimator):
    """Pretrain an ECG encoder without labels, lead-agnostically, by wav2vec 2.0 and CMSC.

    The method of Oh et al. (CHIL 2022). ``fit`` cuts each record into
    non-overlapping segments of ``segment_length`` samples and pairs
    consecutive ones (0-1, 2-3, ...). Each lead of each training segment is
    zeroed with probability ``lead_mask_proba`` (random lead masking, the
    12-lead layout kept), and the encoder learns, by ``objective``:

    - ``"cmsc"``: contrastive multi-segment coding (Kiyasseh et al. 2021):
      the two segments of a pair, both from one record, embed close
      together and apart from the other records' segments of the batch
      (symmetric InfoNCE on cosine similarities over ``cmsc_temperature``);
      the segments of one record are all positives of each other;
    - ``"w2v"``: wav2vec 2.0 (Baevski et al. 2020): spans of the
      transformer's input frames are masked, and its output at each masked
      frame must pick that frame's quantised extractor features among
      ``n_negatives`` others of the segment; plus a codebook diversity term
      and an L2 penalty on the extractor features;
    - ``"w2v+cmsc"`` (the paper's): both, CMSC on the mean over frames of
      the transformer's output of the masked input. Total: ``w2v +
      diversity_weight * diversity + feature_penalty_weight * penalty +
      cmsc_weight * cmsc``.

    ``transform`` embeds each record: every segment of it (non-overlapping,
    the last one aligned to the record's end) is embedded by the mean over
    time of the encoder's output, and the segment embeddings are averaged.
    Absent leads are given as zero channels, as masked leads were in
    pretraining.

    Parameters
    ----------
    objective : {"w2v+cmsc", "w2v", "cmsc"}, default="w2v+cmsc"
        Pretraining losses; the wav2vec 2.0 ones need ``encoder="transformer"``.
    encoder : {"transformer", "xresnet1d"}, default="transformer"
        ``"transformer"``: the paper's ECG transformer
        (:class:`~sklearn_ecg.nn.ECGTransformer`: strided convolutions, a
        convolutional positional encoding, a transformer encoder).
        ``"xresnet1d"``: the library's XResNet1d (``objective="cmsc"``
        only).
    size : {"tiny", "small", "paper"}, default="small"
        Preset of :func:`~sklearn_ecg.nn.build_ecg_transformer` or
        :func:`~sklearn_ecg.nn.build_encoder`. ``"paper"``: the paper's 12
        layers of width 768 (for tens of thousands of records on a GPU);
        ``"small"`` (4 layers of width 128) and ``"tiny"`` (2 of width 64)
        train on a CPU.
    conv_strides : tuple of int, default=(2, 2, 1, 1)
        Strides of the transformer's four extractor convolutions (kernel 2
        each). The paper's ``(2, 2, 2, 2)`` at 500 Hz makes 156 frames of a
        5 s segment; ``(2, 2, 1, 1)`` makes 123 frames of 5 s at 100 Hz.
        Ignored by XResNet1d.
    segment_length : int, default=500
        Samples per segment: 5 s at 100 Hz, the paper's segments (at 500 Hz,
        2500). A record needs two whole segments to be pretrained on.
    lead_mask_proba : float, default=0.5
        Probability of zeroing each lead of each training segment; 0 turns
        random lead masking off.
    standardize : bool, default=True
        Standardise each lead with the mean and standard deviation of the
        records given to ``fit`` (a :class:`~sklearn_ecg.preprocessing.LeadStandardizer`,
        ``standardizer_``), in ``fit`` and ``transform``. Not the paper's
        (it feeds raw signals); see Notes.
    projection_dim : int or None, default=128
        CMSC compares the embeddings after a projection head (linear, ReLU,
        linear to ``projection_dim``, as SimCLR), dropped after
        pretraining. None compares the embeddings themselves, as the
        paper. Ignored by ``objective="w2v"``. See Notes.
    cmsc_temperature : float, default=0.1
    cmsc_weight : float, default=1.0
    diversity_weight : float, default=0.1
    feature_penalty_weight : float, default=10.0
    mask_prob : float, default=0.65
        wav2vec 2.0: share of frames that start a masked span.
    mask_length : int, default=10
        wav2vec 2.0: frames per masked span.
    n_negatives : int, default=100
        wav2vec 2.0: distractors per masked frame, from the masked frames
        of the same segment.
    logit_temperature : float, default=0.1
        wav2vec 2.0: divides the cosine similarities.
    codebook_entries : int, default=320
        wav2vec 2.0: entries of each of the quantiser's 2 codebooks.
    quantizer_temperature : tuple of float, default=(2.0, 0.5, 0.999995)
        Gumbel softmax temperature of the quantiser: start, floor, decay
        per update. The paper's decay leaves it near 2 over a few thousand
        updates.
    max_epochs : int, default=60
        Passes over the pairs (the paper: 200 epochs on about 40,000
        records). 60 epochs of a few hundred records is the setting of the
        measurements in Notes.
    batch_size : int, default=64
        Pairs per step (each gives two segments); also segments per batch
        in ``transform``.
    lr : float, default=1e-3
        Constant learning rate of Adam with decoupled weight decay (AdamW,
        as fairseq's Adam). The paper's 5e-5 suits 200 epochs on tens of
        thousands of records; on a few hundred records it barely moves the
        encoder in tens of epochs (see Notes).
    weight_decay : float, default=0.01
    betas : tuple of float, default=(0.9, 0.98)
    eps : float, default=1e-6
    early_stopping : int or None, default=None
        Stop when the training loss has not improved for this many epochs;
        None trains all ``max_epochs``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``.
        Honoured by ``transform`` too, without changing the fitted model.
    precision : {"32", "bf16", "16"}, default="32"
        Arithmetic of the forward passes, in training and ``transform``:
        float32, or mixed precision with autocast to bfloat16 (``"bf16"``,
        on a GPU or a CPU) or float16 (``"16"``, with a gradient scaler;
        CUDA only: on a CPU it warns and runs in float32).
    pin_memory : bool, default=False
        Load training batches into pinned memory and copy them to a CUDA
        device asynchronously; ignored, with a warning, on a CPU.
    accelerator : {"accelerate"} or None, default=None
        ``"accelerate"``: train through Hugging Face accelerate, so that
        ``accelerate launch`` runs one fit data-parallel over several GPUs
        or CPU processes (needs the ``accelerate`` extra); the fitted model
        pickles and transforms without it. None: one process, on
        ``device``.
    verbose : int, default=0
        0 prints nothing; 1 prints a table per epoch and a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the order of the pairs, the lead and
        span masks, the negatives, the Gumbel noise and dropout. The
        caller's global numpy and torch random states are left untouched
        (None draws from numpy's global generator, as in scikit-learn). On
        a CPU, the same integer gives the same embeddings.

    Attributes
    ----------
    encoder_ : torch.nn.Module
        The pretrained segment encoder ``(batch, leads, times) -> (batch,
        features)``, on the CPU and in eval mode; it expects standardised
        input when ``standardize``. Use :meth:`build_pretrained_encoder`
        for a fresh copy to fine-tune.
    standardizer_ : LeadStandardizer or None
        The fitted input standardisation; None without ``standardize``.
    net_ : skorch.NeuralNet
        The net that pretrained it (``net_.module_`` is the
        :class:`~sklearn_ecg.nn.ContrastivePretrainingNetwork`).
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    n_features_out_ : int
        Embedding size.
    n_pairs_ : int
        Segment pairs pretrained on.
    skipped_records_ : ndarray of int
        Indices of the records of ``fit`` too short for two segments.
    history_ : skorch.callbacks.History
        Per epoch ``train_loss`` and the mean of each term (``cmsc``;
        ``w2v``, ``diversity``, ``feature_penalty``, ``w2v_accuracy``,
        ``code_perplexity``, ``temperature``); per batch the same.

    See Also
    --------
    SelfKDPretrainer : Pretraining by self-knowledge distillation.
    sklearn_ecg.nn.ContrastivePretrainingNetwork : The losses.
    sklearn_ecg.metrics.identification_accuracy : Patient identification from the embeddings.

    Notes
    -----
    A record's length is its row up to its last sample that is non-zero in
    some lead: the loaders pad records shorter than ``duration`` with
    zeros, and that padding is neither paired nor embedded. Records
    shorter than two segments are left out of pretraining with a warning
    that counts them (a ``ValueError`` if none is left); ``transform``
    embeds any record, one shorter than a segment zero-padded to one.

    Departures from the paper, measured on the development data (a small
    XResNet1d pretrained by CMSC on 585 records of PTB-XL and LUDB, linear
    probe of the embeddings on the 247 challenge records, macro AUROC over
    seeds 0-2): fed raw millivolts and compared without a projection head
    as in the paper, the pretrained encoder scored no better than a random
    one (0.586 against 0.584); with per-lead standardisation and a
    projection head to 128 dimensions, 0.649 / 0.651 / 0.648 against
    0.569 / 0.589 / 0.597. Hence ``standardize=True`` and
    ``projection_dim=128``; set ``standardize=False, projection_dim=None``
    for the paper's setting. The tiny transformer (``w2v+cmsc``, 20
    epochs, seed 0) scored alike either way (0.603 against random 0.575
    with both departures, 0.603 against 0.561 without): its group and
    layer norms make it less sensitive to the input's scale. With the
    paper's learning rate, 5e-5, the same run stayed at the random
    encoder's score (0.569); 1e-3 and 3e-3 gave 0.603 and 0.606.

    wav2vec 2.0's other constants are the paper's: 2 codebook groups,
    codes and comparison space of 256 dimensions, at least 2 masked spans,
    dropout 0.1, the extractor's gradient scaled by 0.1. A record with a
    single pair (10 s at the default) gives one CMSC positive: in a batch,
    the other records' segments are its negatives.

    Pickling stores the fitted torch state device-agnostically: a model
    fitted on a GPU unpickles on a CPU-only machine (skorch warns that the
    net's device changed).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.pretraining import ContrastivePretrainer
    >>> X = np.random.default_rng(0).normal(size=(8, 12, 1000)).astype(np.float32)
    >>> pretrainer = ContrastivePretrainer(objective="cmsc", size="tiny", max_epochs=1,
    ...                                    random_state=0)
    >>> pretrainer.fit_transform(X).shape
    (8, 64)
    >>> pretrainer.get_feature_names_out()[:2]
    array(['contrastivepretrainer0', 'contrastivepretrainer1'], dtype=object)
    """

    _net_class = ContrastiveNet
    _torch_attributes = ("net_", "encoder_")

    _parameter_constraints = {
        "objective": [StrOptions({"w2v+cmsc", "w2v", "cmsc"})],
        "encoder": [StrOptions({"transformer", "xresnet1d"})],
        "size": [StrOptions({"tiny", "small", "paper"})],
        "conv_strides": [tuple],
        "segment_length": [Interval(Integral, 1, None, closed="left")],
        "lead_mask_proba": [Interval(Real, 0, 1, closed="left")],
        "standardize": ["boolean"],
        "projection_dim": [Interval(Integral, 1, None, closed="left"), None],
        "cmsc_temperature": [Interval(Real, 0, None, closed="neither")],
        "cmsc_weight": [Interval(Real, 0, None, closed="left")],
        "diversity_weight": [Interval(Real, 0, None, closed="left")],
        "feature_penalty_weight": [Interval(Real, 0, None, closed="left")],
        "mask_prob": [Interval(Real, 0, 1, closed="right")],
        "mask_length": [Interval(Integral, 1, None, closed="left")],
        "n_negatives": [Interval(Integral, 1, None, closed="left")],
        "logit_temperature": [Interval(Real, 0, None, closed="neither")],
        "codebook_entries": [Interval(Integral, 2, None, closed="left")],
        "quantizer_temperature": [tuple],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "betas": [tuple],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        **BaseTorchEstimator._torch_parameter_constraints,
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        objective="w2v+cmsc",
        encoder="transformer",
        size="small",
        conv_strides=(2, 2, 1, 1),
        segment_length=500,
        lead_mask_proba=0.5,
        standardize=True,
        projection_dim=128,
        cmsc_temperature=0.1,
        cmsc_weight=1.0,
        diversity_weight=0.1,
        feature_penalty_weight=10.0,
        mask_prob=0.65,
        mask_length=10,
        n_negatives=100,
        logit_temperature=0.1,
        codebook_entries=320,
        quantizer_temperature=(2.0, 0.5, 0.999995),
        max_epochs=60,
        batch_size=64,
        lr=1e-3,
        weight_decay=0.01,
        betas=(0.9, 0.98),
        eps=1e-6,
        early_stopping=None,
        device="auto",
        precision="32",
        pin_memory=False,
        accelerator=None,
        verbose=0,
        random_state=None,
    ):
        self.objective = objective
        self.encoder = encoder
        self.size = size
        self.conv_strides = conv_strides
        self.segment_length = segment_length
        self.lead_mask_proba = lead_mask_proba
        self.standardize = standardize
        self.projection_dim = projection_dim
        self.cmsc_temperature = cmsc_temperature
        self.cmsc_weight = cmsc_weight
        self.diversity_weight = diversity_weight
        self.feature_penalty_weight = feature_penalty_weight
        self.mask_prob = mask_prob
        self.mask_length = mask_length
        self.n_negatives = n_negatives
        self.logit_temperature = logit_temperature
        self.codebook_entries = codebook_entries
        self.quantizer_temperature = quantizer_temperature
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.betas = betas
        self.eps = eps
        self.early_stopping = early_stopping
        self.device = device
        self.precision = precision
        self.pin_memory = pin_memory
        self.accelerator = accelerator
        self.verbose = verbose
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the encoder on the segment pairs of ``X``; labels are not used.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)
            Signals, zero-padded at the end to a common length; 2-D input
            is one lead per record.
        y : None
            Ignored.

        Returns
        -------
        self : ContrastivePretrainer

        Warns
        -----
        UserWarning
            When some records are shorter than two segments (they are left
            out; their indices are in ``skipped_records_``).
        """
        self._check_options()
        X = self._check_X(X, reset=True)
        lengths = signal_lengths(X)
        self.standardizer_ = LeadStandardizer().fit(X) if self.standardize else None
        pairs, record_index, self.skipped_records_ = segment_pairs(
            self._standardized(X), self.segment_length, lengths=lengths
        )
        self._check_pairs(len(X), len(pairs))
        self.n_pairs_ = len(pairs)
        self.net_ = self._contrastive_net()
        self.net_.fit(pairs, record_index.astype(np.int64))
        encoder = as_segment_encoder(self.net_.module_.encoder, self.encoder)
        self.encoder_ = copy.deepcopy(encoder).cpu().eval()
        self.n_features_out_ = self.encoder_.out_features
        return self

    def transform(self, X):
        """Embed each record: the mean of its segments' embeddings.

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
        X = self._check_X(X, reset=False)
        segments, record_index = record_segments(self._standardized(X), signal_lengths(X), self.segment_length)
        embeddings = []
        with self._inference(self.encoder_) as (encoder, device):
            for start in range(0, len(segments), self.batch_size):
                batch = torch.from_numpy(segments[start:start + self.batch_size]).to(device)
                # A short last batch is padded: a segment's embedding does not depend on the others.
                embeddings.append(batched_forward(encoder, batch, self.batch_size).float().cpu().numpy())
        embeddings = np.concatenate(embeddings)
        return aggregate_windows(embeddings, record_index, len(X), how="mean").astype(np.float32)

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``contrastivepretrainer<i>``.

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

    def build_pretrained_encoder(self):
        """A fresh segment encoder of the fitted architecture with the pretrained weights.

        The weights are loaded strictly (every name and shape must match;
        see :func:`~sklearn_ecg.nn.load_encoder_state`). The copy is
        independent of ``encoder_``, on the CPU and in training mode, ready
        to fine-tune; it maps ``(batch, leads, times)`` to ``(batch,
        n_features_out_)`` (a transformer's frames averaged) and expects
        input standardised by ``standardizer_`` when there is one.

        Returns
        -------
        encoder : torch.nn.Module
        """
        check_is_fitted(self, "encoder_")
        with seeded_torch(0):  # initial weights, overwritten: the global generator is left alone
            encoder = self.build_untrained_encoder(self.n_leads_in_)
        return load_encoder_state(encoder, self.encoder_.state_dict())

    def build_untrained_encoder(self, n_leads):
        """A freshly initialised segment encoder of this pretrainer's architecture.

        Its initial weights are drawn from torch's global generator. Needs
        no fit.

        Parameters
        ----------
        n_leads : int
            Input leads.

        Returns
        -------
        encoder : torch.nn.Module
        """
        return build_segment_encoder(self.encoder, self.size, n_leads, self.conv_strides)

    def _check_options(self):
        if self.objective != "cmsc" and self.encoder != "transformer":
            raise ValueError(
                f"objective={self.objective!r} masks the frames of a transformer; use "
                f"encoder='transformer', or objective='cmsc' with encoder={self.encoder!r}."
            )
        for name, size, kind in (("conv_strides", 4, Integral), ("quantizer_temperature", 3, Real),
                                 ("betas", 2, Real)):
            value = getattr(self, name)
            if len(value) != size or not all(isinstance(v, kind) and v > 0 for v in value):
                what = "integers" if kind is Integral else "numbers"
                raise ValueError(f"{name} must be a tuple of {size} positive {what}; got {value!r}.")

    def _check_X(self, X, *, reset):
        if np.asarray(X).ndim == 4:
            raise ValueError(
                f"{type(self).__name__} takes signals (n_records, n_leads, n_times), got a 4-D array "
                f"of shape {np.shape(X)}."
            )
        X = check_signals(X, dtype=np.float32)
        self._check_n_leads(X, reset=reset)
        return X

    def _check_pairs(self, n_records, n_pairs):
        n_skipped = len(self.skipped_records_)
        needed = f"two segments of segment_length={self.segment_length} samples"
        if n_pairs == 0:
            raise ValueError(
                f"None of the {n_records} records holds {needed} (trailing zero padding excluded); "
                "give longer records or a shorter segment_length."
            )
        if n_skipped:
            warnings.warn(
                f"{n_skipped} of {n_records} records are shorter than {needed} (trailing zero padding "
                "excluded) and are left out of pretraining; their indices are in skipped_records_.",
                UserWarning, stacklevel=3,
            )
        if n_pairs < 2 and self.objective != "w2v":
            raise ValueError(
                f"CMSC contrasts a pair with other pairs, but X gives only {n_pairs} pair of {needed}."
            )

    def _standardized(self, X):
        return X if self.standardizer_ is None else self.standardizer_.transform(X)

    def _network_params(self):
        params = dict(lead_mask_prob=self.lead_mask_proba)
        if self.objective != "w2v":
            params.update(cmsc_temperature=self.cmsc_temperature, cmsc_weight=self.cmsc_weight,
                          projection_dim=self.projection_dim)
        if self.objective != "cmsc":
            params.update(
                diversity_weight=self.diversity_weight, feature_penalty_weight=self.feature_penalty_weight,
                mask_prob=self.mask_prob, mask_length=self.mask_length, n_negatives=self.n_negatives,
                logit_temperature=self.logit_temperature, codebook_entries=self.codebook_entries,
                quantizer_temperature=tuple(self.quantizer_temperature),
            )
        return {f"module__{key}": value for key, value in params.items()}

    def _contrastive_net(self):
        constant = LRScheduler(policy=torch.optim.lr_scheduler.ConstantLR, factor=1.0, total_iters=0)
        terms = [(name, PassthroughScoring(name, lower_is_better=None, on_train=True))
                 for name in objective_terms(self.objective)]
        return self._build_net(
            build_contrastive_network,
            check_random_state(self.random_state),
            seeded_iterators=("train",),  # no validation data
            module__kind=self.encoder,
            module__size=self.size,
            module__in_channels=self.n_leads_in_,
            module__conv_strides=tuple(self.conv_strides),
            module__objective=self.objective,
            **self._network_params(),
            criterion=TotalLoss,
            optimizer=torch.optim.AdamW,
            optimizer__betas=tuple(self.betas),
            optimizer__eps=self.eps,
            optimizer__weight_decay=self.weight_decay,
            train_split=None,
            callbacks=self._default_callbacks(constant, extra=terms, patience=self.early_stopping),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags


def signal_lengths(X):
    """Samples of each record up to its last one that is non-zero in some lead (0 for all-zero records)."""
    active = X.reshape(X.shape[0], -1, X.shape[-1]).any(axis=1)
    last = X.shape[-1] - np.argmax(active[:, ::-1], axis=1)
    return np.where(active.any(axis=1), last, 0)


def record_segments(X, lengths, segment_length):
    """Non-overlapping segments of each record's first ``lengths[i]`` samples, the last aligned to its end.

    A record shorter than a segment gives one, zero-padded; an empty one, a
    segment of zeros. Returns the segments and the record of each.
    """
    segments, record_index = [], []
    for length in np.unique(lengths):
        rows = np.flatnonzero(lengths == length)
        windows, index = sliding_windows(X[rows, :, :max(length, 1)], segment_length, segment_length)
        segments.append(windows)
        record_index.append(rows[index])
    return np.concatenate(segments), np.concatenate(record_index)
