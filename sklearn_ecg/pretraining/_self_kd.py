"""SelfKDPretrainer: label-free encoder pretraining by self-knowledge distillation."""

import copy
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import GradientNormClipping, PassthroughScoring

from .._sklearn_compat import Interval, StrOptions, fit_context
from .._validation import check_amplitude, check_signals, warn_short_records
from ..base import BaseTorchEstimator, RecordBatches
from ..nn import DINOLoss, build_encoder, load_encoder_state
from ..nn.functional import mean_window_embeddings
from ..preprocessing import STFTSpectrogram
from ._dino_net import (
    DINONet,
    WarmupCosineSchedule,
    build_self_distillation,
    make_multicrop,
)

_DEFAULT_ENCODER = {"time": "xresnet1d", "spectrogram": "se_resnet"}
# 2.5 s at 100 Hz: 250 samples, or the frames of their spectrogram with the
# default STFT (21).
_DEFAULT_WINDOW = {"time": 250, "spectrogram": STFTSpectrogram().n_frames(250)}
_LAYOUT = {"time": "(n_records, n_leads, n_times)", "spectrogram": "(n_records, n_leads, n_freqs, n_frames)"}


class SelfKDPretrainer(TransformerMixin, BaseTorchEstimator):
    """Pretrain an ECG encoder without labels by self-knowledge distillation (DINO).

    ``fit`` trains a student encoder and its exponential-moving-average
    teacher on random windows of the records: each window gives two global
    and ``n_local_crops`` local augmented views; the student learns to
    match, on every view, the teacher's centred and sharpened output on
    the other global view (Caron et al. 2021, as used for ECGs by Phan et
    al. 2022). Every view also has random leads zeroed (random lead
    masking, Oh et al. 2022), so the encoder does not rely on any one lead
    and copes with reduced lead sets given as zero channels.

    ``transform`` embeds each record: the trained student encoder embeds
    windows sliding with 50 % overlap, and the window embeddings are
    averaged per record.

    Parameters
    ----------
    modality : {"time", "spectrogram"}, default="time"
        ``"time"`` takes signals ``(n_records, n_leads, n_times)``;
        ``"spectrogram"`` takes STFT magnitudes ``(n_records, n_leads,
        n_freqs, n_frames)``, e.g. the output of
        :class:`~sklearn_ecg.preprocessing.STFTSpectrogram`. 2-D input is
        read as single-lead records.
    encoder : {"xresnet1d", "se_resnet"} or None, default=None
        Encoder family; None picks XResNet1d for time series and SE-ResNet
        for spectrograms (the paper's choices).
    size : {"tiny", "small", "paper"}, default="small"
        Encoder preset of :func:`~sklearn_ecg.nn.build_encoder`:
        ``"paper"`` (512-d, for tens of thousands of records), ``"small"``
        (256-d, for a few hundred records on a CPU) or ``"tiny"`` (tests and
        examples).
    window : int or None, default=None
        Window length along the last axis: samples (time) or frames
        (spectrogram). None: 250 samples or 21 frames, i.e. 2.5 s at 100 Hz.
        Records shorter than the window are zero-padded at the end; those
        shorter than half a window (trailing zeros not counted) give a
        warning.
    n_local_crops : int, default=4
        Local views per window (METHODS: 8; fewer is cheaper on a CPU).
    crops_per_record : int, default=1
        Random windows cut from each record per epoch (METHODS: 5).
    lead_mask_proba : float, default=0.5
        Probability of zeroing each lead of each view.
    n_prototypes : int, default=256
        Output size K of the projection head (METHODS: 65,536 for 43,101
        records; a few hundred suit small data).
    max_epochs : int, default=20
        Epochs per call to ``fit`` (METHODS: about 300 on the full data).
    batch_size : int, default=64
        Records per batch; the student sees ``batch_size * (2 +
        n_local_crops)`` windows per step.
    lr : float, default=1e-3
        Peak learning rate of Adam with decoupled weight decay (AdamW, as
        DINO). METHODS: 5e-4 * batch_size / 256, i.e. 1.25e-4 at batch 64
        over about 300 epochs; a larger rate suits a few epochs.
    min_lr : float, default=1e-6
        Learning rate at the end of the cosine decay.
    warmup_epochs : int, default=2
        Epochs of linear warm-up (METHODS: 10 of 300).
    weight_decay : float, default=0.04
        Weight decay at the start; it rises along a cosine to
        ``weight_decay_end`` (DINO's schedule). Set both equal for a
        constant decay.
    weight_decay_end : float, default=0.4
    momentum_teacher : float, default=0.99
        EMA momentum of the teacher (METHODS: 0.996). With a few hundred
        steps in all, 0.996 leaves the teacher near its initial weights;
        0.99 lets it follow.
    teacher_temp : float, default=0.04
    student_temp : float, default=0.1
    center_momentum : float, default=0.9
        EMA momentum of the centre of the teacher's outputs.
    early_stopping : int or None, default=None
        Stop when the training loss has not improved for this many epochs;
        None trains all ``max_epochs``.
    warm_start : bool, default=False
        If True and already fitted, ``fit`` continues training the same
        student, teacher, optimiser and centre for ``max_epochs`` more
        epochs (with a new warm-up and cosine cycle) and extends
        ``history_``. The architecture, window and augmentations stay
        those of the first fit; ``verbose``, ``early_stopping`` and the
        schedule's parameters are this fit's.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``.
        Honoured by ``transform`` too, without changing the fitted model:
        ``set_params(device="cpu")`` embeds on the CPU with a model fitted
        on a GPU.
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
        pickles and transforms without it. Not with ``warm_start``
        continuing a fit. None: one process, on ``device``.
    verbose : int, default=0
        0 prints nothing; 1 prints a table per epoch and a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights, the order of the records, the crops and
        the augmentations. The caller's global numpy and torch random states
        are left untouched (except that None draws from numpy's global
        generator, as in scikit-learn). On a CPU, the same integer gives the
        same embeddings.

    Attributes
    ----------
    encoder_ : torch.nn.Module
        The trained student encoder, on the CPU and in eval mode. Use
        :meth:`build_pretrained_encoder` for a fresh copy to fine-tune.
    net_ : skorch.NeuralNet
        The net that trained it (student, teacher, optimiser, DINO loss).
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    amplitude_ : float or None
        With ``modality="time"``: typical amplitude of the signals given to
        ``fit`` (median over records and present leads of the 99th
        percentile of ``|x|``); ``transform`` warns for signals more than 10
        times larger or smaller, e.g. in another unit.
    n_features_out_ : int
        Embedding size.
    window_ : int
        Window length used.
    encoder_kind_ : str
        Encoder family used.
    history_ : skorch.callbacks.History
        Per-epoch ``train_loss`` and collapse diagnostics
        ``teacher_entropy`` (mean entropy of the teacher's output
        distribution, in nats; near ``log(n_prototypes)`` means uniform
        outputs) and ``teacher_batch_entropy`` (entropy of its batch mean;
        near 0 means one prototype for every input); per batch also ``lr``
        and ``weight_decay``.

    See Also
    --------
    sklearn_ecg.nn.build_encoder : The encoder presets.
    sklearn_ecg.nn.SelfDistillation : The student/teacher module.

    Notes
    -----
    Settings taken from DINO rather than METHODS.md: AdamW, gradient norm
    clipped at 3, and the teacher in training mode (batch statistics).
    Simplifications of DINO: the weight decay applies to every parameter
    (DINO spares biases and norms), the last layer is not frozen in the
    first epoch, and the teacher momentum and temperature stay constant.
    Crops and augmentations are drawn on the CPU, so the random stream does
    not depend on the device.

    On a few hundred records, the DINO dynamics are fragile: with
    ``center_momentum=0.9`` the teacher's outputs drift towards uniform
    within a few hundred steps, and with a slower centre (0.99) they tend
    to collapse onto a few prototypes. ``history_`` records both
    diagnostics; ``benchmarks/bench_pretraining.py`` compares the
    embeddings with those of a random encoder.

    Pickling stores the fitted torch state device-agnostically: a model
    fitted on a GPU unpickles on a CPU-only machine, with its tensors on the
    CPU and a ``device`` of ``"cuda"`` set to ``"cpu"`` (one
    :class:`skorch.exceptions.DeviceWarning` says so).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.pretraining import SelfKDPretrainer
    >>> X = np.random.default_rng(0).normal(size=(8, 12, 300)).astype(np.float32)
    >>> pretrainer = SelfKDPretrainer(size="tiny", max_epochs=1, n_local_crops=1,
    ...                               n_prototypes=16, random_state=0)
    >>> pretrainer.fit_transform(X).shape
    (8, 64)
    >>> pretrainer.get_feature_names_out()[:2]
    array(['selfkdpretrainer_time0', 'selfkdpretrainer_time1'], dtype=object)
    """

    _net_class = DINONet
    _torch_attributes = ("net_", "encoder_")

    _parameter_constraints = {
        "modality": [StrOptions({"time", "spectrogram"})],
        "encoder": [StrOptions({"xresnet1d", "se_resnet"}), None],
        "size": [StrOptions({"tiny", "small", "paper"})],
        "window": [Interval(Integral, 1, None, closed="left"), None],
        "n_local_crops": [Interval(Integral, 0, None, closed="left")],
        "crops_per_record": [Interval(Integral, 1, None, closed="left")],
        "lead_mask_proba": [Interval(Real, 0, 1, closed="left")],
        "n_prototypes": [Interval(Integral, 2, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "min_lr": [Interval(Real, 0, None, closed="left")],
        "warmup_epochs": [Interval(Integral, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "weight_decay_end": [Interval(Real, 0, None, closed="left")],
        "momentum_teacher": [Interval(Real, 0, 1, closed="both")],
        "teacher_temp": [Interval(Real, 0, None, closed="neither")],
        "student_temp": [Interval(Real, 0, None, closed="neither")],
        "center_momentum": [Interval(Real, 0, 1, closed="both")],
        "early_stopping": [Interval(Integral, 1, None, closed="left"), None],
        "warm_start": ["boolean"],
        "device": [str],
        **BaseTorchEstimator._torch_parameter_constraints,
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        modality="time",
        encoder=None,
        size="small",
        window=None,
        n_local_crops=4,
        crops_per_record=1,
        lead_mask_proba=0.5,
        n_prototypes=256,
        max_epochs=20,
        batch_size=64,
        lr=1e-3,
        min_lr=1e-6,
        warmup_epochs=2,
        weight_decay=0.04,
        weight_decay_end=0.4,
        momentum_teacher=0.99,
        teacher_temp=0.04,
        student_temp=0.1,
        center_momentum=0.9,
        early_stopping=None,
        warm_start=False,
        device="auto",
        precision="32",
        pin_memory=False,
        accelerator=None,
        verbose=0,
        random_state=None,
    ):
        self.modality = modality
        self.encoder = encoder
        self.size = size
        self.window = window
        self.n_local_crops = n_local_crops
        self.crops_per_record = crops_per_record
        self.lead_mask_proba = lead_mask_proba
        self.n_prototypes = n_prototypes
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.min_lr = min_lr
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.weight_decay_end = weight_decay_end
        self.momentum_teacher = momentum_teacher
        self.teacher_temp = teacher_temp
        self.student_temp = student_temp
        self.center_momentum = center_momentum
        self.early_stopping = early_stopping
        self.warm_start = warm_start
        self.device = device
        self.precision = precision
        self.pin_memory = pin_memory
        self.accelerator = accelerator
        self.verbose = verbose
        self.random_state = random_state

    @fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Pretrain the encoder on ``X``; labels are not used.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_leads, n_freqs, n_frames)
            Signals (``modality="time"``) or spectrograms; 2-D input is one
            lead per record.
        y : None
            Ignored.

        Returns
        -------
        self : SelfKDPretrainer
        """
        continuing = self.warm_start and hasattr(self, "net_")
        if not continuing:
            self.encoder_kind_ = self._encoder_kind()
            self.window_ = self.window or _DEFAULT_WINDOW[self.modality]
        X = self._check_X(X, reset=not continuing)
        # Records shorter than the window are zero-padded by random_crops
        # (fit) and record_windows (transform).
        if continuing:
            # The callbacks again, so that this fit's verbose (progress bar) and early stopping apply
            # (skorch's set_params would initialise the old ones).
            self.net_.set_params(max_epochs=self.max_epochs, verbose=self.verbose)
            self.net_.callbacks = self._callbacks()
            self.net_.initialize_callbacks()
        else:
            self.net_ = self._self_distillation_net(X)
        self._fit_net(self.net_, RecordBatches(X, repeats=self.crops_per_record), continuing=continuing)
        student = self.net_.module_.student_encoder
        self.encoder_ = copy.deepcopy(student).cpu().eval()
        self.n_features_out_ = self.encoder_.out_features
        return self

    def transform(self, X):
        """Embed each record: the mean of its sliding-window embeddings.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times) or (n_records, n_leads, n_freqs, n_frames)
            Records of any length along the last axis, with the leads seen
            in ``fit``.

        Returns
        -------
        embeddings : ndarray of shape (n_records, ``n_features_out_``), float32
        """
        check_is_fitted(self, "encoder_")
        X = self._check_X(X, reset=False)
        embeddings = np.empty((len(X), self.n_features_out_), dtype=np.float32)
        with self._inference(self.encoder_) as (encoder, device):
            # batch_size records at a time: windows cut in torch on the
            # device, never those of the whole of X in memory at once.
            for start in range(0, len(X), self.batch_size):
                records = torch.from_numpy(np.array(X[start:start + self.batch_size])).to(device)
                means = mean_window_embeddings(encoder, records, self.window_, self.batch_size)
                embeddings[start:start + len(records)] = means.cpu().numpy()
        return embeddings

    def get_feature_names_out(self, input_features=None):
        """Output feature names: ``selfkdpretrainer_<modality><i>``.

        The modality in the prefix keeps the names of a time and a
        spectrogram pretrainer apart, e.g. in a ``FeatureUnion``.

        Parameters
        ----------
        input_features : None
            Ignored: the inputs are signals, not named features.

        Returns
        -------
        feature_names_out : ndarray of str objects
        """
        check_is_fitted(self, "n_features_out_")
        prefix = f"{type(self).__name__.lower()}_{self.modality}"
        return np.asarray([f"{prefix}{i}" for i in range(self.n_features_out_)], dtype=object)

    def build_pretrained_encoder(self):
        """A fresh encoder of the fitted architecture with the pretrained weights.

        The weights are loaded strictly (every name and shape must match;
        see :func:`~sklearn_ecg.nn.load_encoder_state`), so a downstream
        model starts from the pretrained weights rather than silently from
        random ones. The copy is independent of ``encoder_``, on the CPU and
        in training mode, ready to fine-tune.

        Returns
        -------
        encoder : torch.nn.Module
        """
        check_is_fitted(self, "encoder_")
        encoder = build_encoder(self.encoder_kind_, self.size, self.n_leads_in_)
        return load_encoder_state(encoder, self.encoder_.state_dict())

    def build_untrained_encoder(self, n_leads):
        """A freshly initialised encoder of this pretrainer's architecture.

        The encoder ``fit`` would train (``encoder``, or the modality's
        default, at ``size``), with initial weights drawn from torch's global
        generator: the "without self-KD" ablation starts from it. Needs no
        fit.

        Parameters
        ----------
        n_leads : int
            Input leads.

        Returns
        -------
        encoder : torch.nn.Module
        """
        return build_encoder(self._encoder_kind(), self.size, n_leads)

    def _encoder_kind(self):
        return self.encoder or _DEFAULT_ENCODER[self.modality]

    def _check_X(self, X, *, reset):
        ndim = 3 if self.modality == "time" else 4
        given = np.asarray(X).ndim
        if self.modality == "spectrogram" and given == 3:
            raise ValueError(
                f"modality='spectrogram' expected 4-D spectrograms {_LAYOUT['spectrogram']}, got a "
                f"3-D array of shape {np.shape(X)}; put STFTSpectrogram before this step."
            )
        if self.modality == "time" and given == 4:
            raise ValueError(
                f"modality='time' expected 3-D signals {_LAYOUT['time']}, got a 4-D array of shape "
                f"{np.shape(X)}; use modality='spectrogram' for spectrograms."
            )
        X = check_signals(X, ndim=ndim, dtype=np.float32)
        self._check_n_leads(X, reset=reset)
        if self.modality == "time":  # the magnitudes (or logarithms) of spectrograms have another scale
            check_amplitude(self, X, reset=reset)
        # random_crops (fit) and sliding_windows (transform) zero-pad them.
        warn_short_records(X, self.window_)
        return X

    def _callbacks(self):
        schedule = WarmupCosineSchedule(
            self.lr, self.min_lr, self.warmup_epochs, self.weight_decay, self.weight_decay_end
        )
        extra = [
            # DINO's clipping; keeps early steps with a sharp teacher stable.
            ("clip", GradientNormClipping(3.0)),
            ("teacher_entropy", PassthroughScoring("teacher_entropy", on_train=True)),
            ("teacher_batch_entropy", PassthroughScoring("teacher_batch_entropy", on_train=True)),
        ]
        return self._default_callbacks(schedule, extra=extra, patience=self.early_stopping)

    def _self_distillation_net(self, X):
        n_freqs = X.shape[2] if self.modality == "spectrogram" else None
        return self._build_net(
            build_self_distillation,
            check_random_state(self.random_state),
            seeded_iterators=("train",),  # no validation data
            module__kind=self.encoder_kind_,
            module__size=self.size,
            module__in_channels=X.shape[1],
            module__n_prototypes=self.n_prototypes,
            criterion=DINOLoss,
            criterion__n_prototypes=self.n_prototypes,
            criterion__teacher_temp=self.teacher_temp,
            criterion__student_temp=self.student_temp,
            criterion__center_momentum=self.center_momentum,
            optimizer=torch.optim.AdamW,
            train_split=None,
            callbacks=self._callbacks(),
            window=self.window_,
            multicrop=make_multicrop(self.modality, self.n_local_crops, self.lead_mask_proba, n_freqs),
            momentum_teacher=self.momentum_teacher,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
