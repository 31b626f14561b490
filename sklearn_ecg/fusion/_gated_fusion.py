"""GatedFusionClassifier: the multimodal self-KD model, trained end to end on ECG signals."""

import re
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch

from .._random import SKLEARN_SEED_BITS, draw_seed, seeded_torch
from .._sklearn_compat import BaseComposition, Interval, StrOptions
from .._validation import check_amplitude, check_signals, warn_short_records
from ..augmentation import RandomLeadMasking
from ..nn import GatedFusionHead, MultiBranchNetwork
from ._base import BaseFusionClassifier
from ._branches import (
    branch_modules,
    branch_parts,
    check_pretrained,
    fit_branches,
    is_frozen,
    make_fusion_branches,
)
from ._net import SignalFusionNet

_BRANCH_ALIAS = re.compile(r"^branches__(?=.)")  # branches__time__lr -> time__lr


class GatedFusionClassifier(BaseFusionClassifier, BaseComposition):
    """Multi-label ECG classifier fusing modalities with a per-sample gate, trained end to end.

    The fusion model of the multimodal self-KD paper (Phan et al., IEEE BHI
    2022), on raw signals ``X`` of shape ``(n_records, n_leads, n_times)``.
    Each branch turns a signal into an embedding ``h_i`` (the time series
    through an XResNet1d, its STFT spectrogram through an SE-ResNet); a
    softmax gate ``g = softmax(W_g [h_1; ...; h_B] + b_g)`` weighs them per
    sample, and a linear head maps ``z = [g_1 h_1; ...; g_B h_B]`` to one
    logit per class: ``W_2 (W_1 z + b_1) + b_2``. Training minimises binary
    cross-entropy with logits (Adam, cosine learning-rate decay, early
    stopping on a held-out validation split).

    ``fit`` pretrains clones of the branches on ``X`` (without labels, by
    self-knowledge distillation), loads their encoders strictly, and
    fine-tunes encoders, gate and head together on random crops of the
    records; every crop goes through each branch's steps in torch (their
    ``to_torch`` modules: the STFT with the ``STFTSpectrogram``'s
    parameters, the standardisation with the fitted statistics). The
    defaults give the paper's model: ``branches=None`` builds its two
    branches with :func:`make_fusion_branches`. Standardise the signals
    first, e.g. ``make_pipeline(LeadStandardizer(), GatedFusionClassifier())``
    (what :func:`~sklearn_ecg.pipelines.make_default_pipeline` builds).

    A branch and its parameters are nested parameters named after it
    (``time``, ``time__max_epochs``, ``spectrogram__selfkdpretrainer__lr``),
    as in ``StackingClassifier``, so that ``GridSearchCV`` can tune them;
    ``set_params`` also accepts them prefixed by ``branches__``
    (``branches__time__lr``). One branch gives a single-modality model; the
    paper's ablations are ``fusion="concat"`` (no gate) and
    ``pretraining=None`` (no self-KD).

    Records are scored by sliding windows of ``window`` samples with 50 %
    overlap; a record's probability of a class is the mean of its windows'
    probabilities, so records of any length are accepted (shorter ones are
    zero-padded to one window).

    For embeddings computed beforehand (frozen encoders), use
    :class:`FeatureFusionClassifier`.

    Parameters
    ----------
    branches : list of (str, estimator) or None, default=None
        The named branches, in the gate's order: each a
        :class:`~sklearn_ecg.pretraining.SelfKDPretrainer` or a
        :class:`~sklearn_ecg.pretraining.ContrastivePretrainer` (time
        series), or a pipeline ending in one whose other steps are
        :class:`~sklearn_ecg.preprocessing.LeadStandardizer` and at most one
        :class:`~sklearn_ecg.preprocessing.STFTSpectrogram` (then a
        spectrogram pretrainer). Other preprocessing belongs before the
        classifier, in an outer pipeline. Names must be unique and free of
        ``"__"``. None: the paper's time and spectrogram branches,
        ``make_fusion_branches(window=window, lead_mask_proba=lead_mask_proba,
        device=device, precision=precision, pin_memory=pin_memory,
        accelerator=accelerator, verbose=verbose)``.
    fusion : {"gate", "concat"}, default="gate"
        ``"gate"``: the softmax gate weighs the modalities per sample.
        ``"concat"``: the embeddings are concatenated unweighted.
    pretraining : {"fit", "prefit"} or None, default="fit"
        ``"fit"``: pretrain clones of the branches on ``X`` in ``fit`` (a
        branch ``random_state`` left as None is seeded from
        ``random_state``); the fitted clones are kept in
        ``named_branches_``. A branch wrapped in
        :class:`~sklearn.frozen.FrozenEstimator` is fitted already and is
        used as it is, also inside cross-validation and grid searches, which
        clone estimators. ``"prefit"``: every branch is already fitted (e.g.
        on more, unlabelled records) and used as it is; cloning (as
        ``cross_validate`` does) unfits them, so wrap them in
        ``FrozenEstimator`` there instead. None: no pretraining; encoders of
        the branches' architecture start from random weights (the "without
        self-KD" ablation), except those of branches wrapped in
        ``FrozenEstimator``, pretrained beforehand, which start from their
        weights; only the branches' preprocessing steps are fitted.
    hidden_size : int, default=512
        Output size of the head's first linear layer ``W_1``.
    window : int, default=250
        Window length in samples (250 = 2.5 s at 100 Hz), for training
        crops and prediction windows. Records shorter than a window are
        zero-padded to one; those shorter than half a window (trailing
        zeros not counted) give a warning.
    crops_per_record : int, default=5
        Random windows cut from each training record per epoch.
    lead_mask_proba : float, default=0.5
        Probability of zeroing each lead of every training crop (random
        lead masking, Oh et al. 2022); 0 disables.
    pos_weight : "balanced", array-like of shape (n_classes,) or None, default=None
        Weight of the positive examples of each class in the loss.
        ``"balanced"``: negatives / positives of the class in the training
        part (1 for a class without positive). None: 1 for every class.
    threshold : float, array-like of shape (n_classes,) or "tuned", default=0.5
        Decision threshold on ``predict_proba``, per class. ``"tuned"``:
        per-class thresholds chosen on the validation split (training data
        held out from the gradient steps, never the data being scored) by
        :func:`~sklearn_ecg.model_selection.tune_thresholds` (coordinate
        ascent over 0.05, 0.10, ..., 0.95 on ``tuning_scoring``, two
        passes); needs ``validation_fraction``. For thresholds tuned on an
        inner cross-validation instead, wrap the model (or its pipeline) in
        :class:`~sklearn_ecg.model_selection.MultilabelThresholdTuner`.
    at_least_one : bool, default=True
        ``predict`` gives a record for which no class reaches its threshold
        its most probable class (see
        :func:`~sklearn_ecg.model_selection.apply_thresholds`), also when
        tuning.
    tuning_scoring : {"challenge", "f2", "g2", "macro_f1", "accuracy"}, default="challenge"
        Metric maximised by ``threshold="tuned"``.
    classes : array-like of str of shape (n_classes,), default=None
        SNOMED-CT code of each column of ``Y``. None: the column names of a
        DataFrame ``Y``, else the ``year``'s scored classes if ``Y`` has as
        many columns, else unnamed. A DataFrame's column names must equal
        ``classes`` when both are given. Tuning on the challenge metric
        needs codes including the normal class.
    year : {2020, 2021}, default=2020
        Class table of ``classes=None`` and weights of the challenge metric.
    max_epochs : int, default=30
        Training epochs (fewer with early stopping).
    batch_size : int, default=64
        Training crops per step; also records per prediction batch.
    lr : float, default=3e-3
        Initial learning rate of Adam (METHODS: 5e-3 for the full data; on
        the 247 development records 3e-3 did better than 1e-3).
    min_lr : float, default=1e-5
        Learning rate at the end of the cosine decay, reached at
        ``max_epochs``.
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    validation_fraction : float or None, default=0.1
        Share of the training records held out (stratified on every label
        by :class:`~sklearn_ecg.model_selection.MultilabelStratifiedKFold`)
        to monitor the record-level validation loss, restore the weights of
        its best epoch, and tune thresholds. None: train on every record.
    n_iter_no_change : int or None, default=10
        Stop when the validation loss (the training loss without a
        validation split) has not improved for this many epochs; None
        trains all ``max_epochs``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``.
        Honoured at prediction too, without changing the fitted model:
        ``set_params(device="cpu")`` predicts on the CPU with a model fitted
        on a GPU (a model unpickled on a machine without CUDA runs on the
        CPU).
    precision : {"32", "bf16", "16"}, default="32"
        Arithmetic of the forward passes, in training and prediction:
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
        pickles and predicts without it. None: one process, on ``device``.
    verbose : int, default=0
        0 prints nothing; 1 prints a table per epoch and a progress bar.
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the initial weights, the order of the crops, the
        crops, the lead masks and the pretraining of branches whose own
        ``random_state`` is None. The caller's global numpy and torch random
        states are left untouched (None draws from numpy's global generator,
        as in scikit-learn). On a CPU, the same integer gives the same
        predictions.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Codes of ``Y``'s columns (``classes``, a DataFrame's column names,
        or the year's table), or ``0 .. n_classes - 1`` when unnamed.
    thresholds_ : ndarray of shape (n_classes,)
        Decision threshold of each class; 1 for the classes without a
        positive record in ``fit`` (they are never predicted, see
        :func:`~sklearn_ecg.model_selection.apply_thresholds`).
    modality_names_ : ndarray of str
        The branch names, in the order of the columns of
        :meth:`gate_weights`.
    named_branches_ : :class:`~sklearn.utils.Bunch`
        With pretraining: the pretrained branches (fitted clones, or the
        given ones with ``"prefit"``), by name.
    n_leads_in_ : int
        Number of leads seen in ``fit``.
    amplitude_ : float or None
        Typical amplitude of the signals given to ``fit`` (median over
        records and present leads of the 99th percentile of ``|x|``):
        prediction warns for signals more than 10 times larger or smaller,
        e.g. in another unit.
    net_ : skorch.NeuralNet
        The net that trained the fused network (``net_.module_``).
    history_ : skorch.callbacks.History
        Per-epoch ``train_loss`` and ``valid_loss`` (record level), per
        batch the learning rate ``event_lr``.

    See Also
    --------
    FeatureFusionClassifier : The same fusion on embeddings computed beforehand.
    make_fusion_branches : The paper's branches.
    sklearn_ecg.pretraining.SelfKDPretrainer : The branches' pretraining.
    sklearn_ecg.model_selection.MultilabelThresholdTuner : Thresholds tuned by inner CV.

    Notes
    -----
    Honest protocol: pretraining sees only the records given to ``fit``
    (inside each fold of a cross-validation), and tuned thresholds come from
    the training data, unlike the paper's public code (METHODS.md).

    Pickling stores the torch state device-agnostically: a model fitted on
    a GPU unpickles on a CPU-only machine and predicts there, a ``device``
    of ``"cuda"`` becoming ``"cpu"``, with one
    :class:`skorch.exceptions.DeviceWarning`.

    Examples
    --------
    With tiny encoders, so that the example runs in seconds:

    >>> import numpy as np
    >>> from sklearn_ecg.fusion import GatedFusionClassifier, make_fusion_branches
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(24, 12, 400)).astype(np.float32)
    >>> Y = rng.integers(0, 2, size=(24, 3))
    >>> branches = make_fusion_branches(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=16)
    >>> model = GatedFusionClassifier(branches=branches, hidden_size=32, max_epochs=2,
    ...                               validation_fraction=None, random_state=0)
    >>> model.fit(X, Y).predict_proba(X[:2]).shape
    (2, 3)
    >>> model.gate_weights(X[:2]).sum(axis=1).round(6)
    array([1., 1.])
    >>> list(model.named_branches_)
    ['time', 'spectrogram']
    """

    _net_class = SignalFusionNet

    _parameter_constraints = {
        **BaseFusionClassifier._parameter_constraints,
        "branches": [list, None],
        "pretraining": [StrOptions({"fit", "prefit"}), None],
        "window": [Interval(Integral, 1, None, closed="left")],
        "crops_per_record": [Interval(Integral, 1, None, closed="left")],
        "lead_mask_proba": [Interval(Real, 0, 1, closed="left")],
    }

    def __init__(
        self,
        *,
        branches=None,
        fusion="gate",
        pretraining="fit",
        hidden_size=512,
        window=250,
        crops_per_record=5,
        lead_mask_proba=0.5,
        pos_weight=None,
        threshold=0.5,
        at_least_one=True,
        tuning_scoring="challenge",
        classes=None,
        year=2020,
        max_epochs=30,
        batch_size=64,
        lr=3e-3,
        min_lr=1e-5,
        weight_decay=0.0,
        validation_fraction=0.1,
        n_iter_no_change=10,
        device="auto",
        precision="32",
        pin_memory=False,
        accelerator=None,
        verbose=0,
        random_state=None,
    ):
        super().__init__(
            fusion=fusion,
            hidden_size=hidden_size,
            pos_weight=pos_weight,
            threshold=threshold,
            at_least_one=at_least_one,
            tuning_scoring=tuning_scoring,
            classes=classes,
            year=year,
            max_epochs=max_epochs,
            batch_size=batch_size,
            lr=lr,
            min_lr=min_lr,
            weight_decay=weight_decay,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            device=device,
            precision=precision,
            pin_memory=pin_memory,
            accelerator=accelerator,
            verbose=verbose,
            random_state=random_state,
        )
        self.branches = branches
        self.pretraining = pretraining
        self.window = window
        self.crops_per_record = crops_per_record
        self.lead_mask_proba = lead_mask_proba

    def get_params(self, deep=True):
        """Get parameters of this estimator, and of its branches when ``deep``.

        Parameters
        ----------
        deep : bool, default=True
            Also return the branches (by name) and their parameters
            (``<name>__<parameter>``).

        Returns
        -------
        params : dict
        """
        return self._get_params("branches", deep=deep)

    def set_params(self, **params):
        """Set parameters of this estimator and of its branches.

        Parameters
        ----------
        **params : keyword arguments
            ``branches``, a branch by name, ``<name>__<parameter>``, or a
            parameter of this estimator. ``branches__<name>`` and
            ``branches__<name>__<parameter>`` are accepted as aliases of
            ``<name>`` and ``<name>__<parameter>``.

        Returns
        -------
        self : GatedFusionClassifier
        """
        params = {_BRANCH_ALIAS.sub("", key): value for key, value in params.items()}
        self._set_params("branches", **params)
        return self

    def fit(self, X, Y):
        """Pretrain the branches if asked, then train the fused network end to end.

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)
            Signals (2-D: one lead).
        Y : array-like of shape (n_records, n_classes)
            Binary indicator matrix (multi-hot labels), with a positive
            record for every class (a class without one warns and is never
            predicted). A DataFrame's column names are the classes when
            ``classes`` is None.

        Returns
        -------
        self : GatedFusionClassifier
        """
        return super().fit(X, Y)

    def _check_X(self, X, *, reset):
        X = check_signals(X, n_leads=None if reset else self.n_leads_in_, dtype=np.float32)
        if reset:
            self.n_leads_in_ = X.shape[1]
        check_amplitude(self, X, reset=reset)
        warn_short_records(X, self.window)  # crops and sliding windows zero-pad them
        return X

    def _build_network(self, X, n_classes, rng):
        branches = self._branches()
        names = [name for name, _ in branches]
        self._validate_names(names)
        for name, estimator in branches:
            branch_parts(name, estimator)  # a bad branch fails before any pretraining
        if self.pretraining == "prefit":
            fitted = list(branches)
        else:
            fitted = fit_branches(branches, X, rng, pretrain=self.pretraining == "fit")
        parts = [branch_parts(name, estimator) for name, estimator in fitted]
        # A frozen branch was pretrained beforehand: it starts from its weights even without pretraining here.
        pretrained = [self.pretraining is not None or is_frozen(estimator) for _, estimator in branches]
        self.__dict__.pop("named_branches_", None)  # from an earlier fit with pretraining
        if any(pretrained):
            for part, start in zip(parts, pretrained):
                if start:
                    check_pretrained(part, X.shape[1])
            self.named_branches_ = Bunch(**dict(fitted))
        self.modality_names_ = np.array(names, dtype=object)
        with seeded_torch(draw_seed(rng, bits=SKLEARN_SEED_BITS)):
            modules = [branch_modules(part, X.shape[1], pretrained=start) for part, start in zip(parts, pretrained)]
            front_ends, encoders = zip(*modules)
            head = GatedFusionHead(
                [encoder.out_features for encoder in encoders], n_classes, self.hidden_size,
                gate=self.fusion == "gate",
            )
            return MultiBranchNetwork(encoders, head, front_ends)

    def _branches(self):
        """The given branches, or the paper's."""
        if self.branches is not None:
            if not self.branches:
                raise ValueError("branches must be None or a non-empty list of (name, estimator) pairs.")
            return self.branches
        if self.pretraining == "prefit":
            raise ValueError(
                "pretraining='prefit' uses the given branches as they are; branches=None builds "
                "unfitted ones. Pass fitted branches, or use pretraining='fit'."
            )
        return make_fusion_branches(
            window=self.window, lead_mask_proba=self.lead_mask_proba, device=self.device, precision=self.precision,
            pin_memory=self.pin_memory, accelerator=self.accelerator, verbose=self.verbose,
        )

    def _crops_per_record(self):
        return self.crops_per_record

    def _drop_last_batch(self, n_items):
        if n_items < 2:
            raise ValueError(
                f"Training on {n_items // self.crops_per_record} record(s) with crops_per_record="
                f"{self.crops_per_record} gives 1 sample per epoch (n_samples = 1); the encoders' batch "
                "normalisation needs at least 2."
            )
        # Batch normalisation cannot train on a last batch of one crop; drop it
        # (another random crop is dropped each epoch).
        return n_items % self.batch_size == 1

    def _net_options(self):
        augment = RandomLeadMasking(self.lead_mask_proba) if self.lead_mask_proba > 0 else None
        return {"window": self.window, "augment": augment}

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags
