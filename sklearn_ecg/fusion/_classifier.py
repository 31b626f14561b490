"""GatedFusionClassifier: multi-label classification by gated fusion of ECG modalities."""

import math
import re
from numbers import Integral, Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from skorch.callbacks import EarlyStopping, LRScheduler, ProgressBar
from skorch.helper import predefined_split

from .._multilabel import check_thresholds
from .._random import torch_generator
from .._sklearn_compat import BaseComposition, Interval, Options, StrOptions, fit_context, num_samples
from .._skorch_utils import TorchPickleMixin, resolve_device, seeded_torch, silent
from .._validation import check_indicator, check_signals
from ..augmentation import RandomLeadMasking
from ..classes import column_codes
from ..metrics._scorers import LABEL_METRICS, stacked_label_metric
from ..model_selection import MultilabelStratifiedKFold, apply_thresholds
from ..model_selection._thresholds import _coordinate_ascent
from ..nn import GatedFusionHead, MultiBranchNetwork, SelectColumns
from ._branches import branch_modules, branch_parts, check_pretrained, fit_branches
from ._modalities import resolve_modalities
from ._net import FusionNet, Records, predict_records

_BRANCH_ALIAS = re.compile(r"^branches__(?=.)")  # branches__time__lr -> time__lr
_PROBA_EPS = 1e-7  # predict_proba stays strictly inside (0, 1)
_THRESHOLD_GRID = np.linspace(0.05, 0.95, 19)
# Fitted attributes of one mode only, removed when a refit uses another.
_MODE_ATTRIBUTES = ("named_branches_", "modality_columns_", "n_leads_in_", "n_features_in_", "feature_names_in_")



class GatedFusionClassifier(TorchPickleMixin, ClassifierMixin, BaseComposition):
    """Multi-label ECG classifier fusing modalities with a per-sample gate.

    The fusion model of the multimodal self-KD paper (Phan et al., IEEE BHI
    2022). Each modality gives an embedding ``h_i``; a softmax gate
    ``g = softmax(W_g [h_1; ...; h_B] + b_g)`` weighs them per sample, and a
    linear head maps ``z = [g_1 h_1; ...; g_B h_B]`` to one logit per class:
    ``W_2 (W_1 z + b_1) + b_2``. Training minimises binary cross-entropy
    with logits (Adam, cosine learning-rate decay, early stopping on a
    held-out validation split).

    Two ways to compose it, both first-class:

    **Frozen features** (``branches=None``). ``X`` is a feature matrix, e.g.
    the embeddings of pretrained encoders joined by a ``FeatureUnion``;
    only the gate and head are learned. ``modalities`` says which columns
    belong to which modality: ``"auto"`` reads the ``"<name>__"`` prefixes
    that a ``FeatureUnion`` gives its output's column names when the
    pipeline outputs DataFrames (``set_output(transform="pandas")``);
    a dict gives block sizes or column lists explicitly. A numpy array
    without names is one modality: the gate then has nothing to weigh and
    the model is a linear classifier on the features. ::

        union = FeatureUnion([
            ("time", SelfKDPretrainer(modality="time")),
            ("spectrogram", make_pipeline(STFTSpectrogram(),
                                          SelfKDPretrainer(modality="spectrogram"))),
        ])
        model = make_pipeline(union, GatedFusionClassifier()).set_output(transform="pandas")
        # or, with numpy output, the embedding sizes (the pretrainers' n_features_out_):
        model = make_pipeline(union, GatedFusionClassifier(modalities={"time": 256, "spectrogram": 256}))

    **End-to-end fine-tuning** (``branches=[(name, estimator), ...]``), as
    in the paper. ``X`` holds raw signals ``(n_records, n_leads, n_times)``.
    Each branch is a :class:`~sklearn_ecg.pretraining.SelfKDPretrainer`
    (time series) or a pipeline of a
    :class:`~sklearn_ecg.preprocessing.STFTSpectrogram` and a spectrogram
    pretrainer (optionally with
    :class:`~sklearn_ecg.preprocessing.LeadStandardizer` steps, e.g. to
    normalise the spectrograms). ``fit`` pretrains clones of the branches
    on ``X`` (without labels), loads their encoders strictly, and fine-tunes
    encoders, gate and head together on random crops of the records; every
    crop goes through each branch's steps in torch (the STFT with the
    ``STFTSpectrogram``'s parameters, the standardisation with the fitted
    statistics). A branch and its parameters are nested parameters named
    after it (``time``, ``time__max_epochs``,
    ``spectrogram__selfkdpretrainer__lr``), as in ``StackingClassifier``,
    so that ``GridSearchCV`` can tune them; ``set_params`` also accepts
    them prefixed by ``branches__`` (``branches__time__lr``). ::

        model = GatedFusionClassifier(branches=[
            ("time", SelfKDPretrainer(modality="time")),
            ("spectrogram", make_pipeline(STFTSpectrogram(),
                                          SelfKDPretrainer(modality="spectrogram"))),
        ])

    One branch (or one modality) gives a single-modality model; the paper's
    ablations are ``fusion="concat"`` (no gate) and ``pretraining=None`` (no
    self-KD).

    Records are scored by sliding windows of ``window`` samples with 50 %
    overlap; a record's probability of a class is the mean of its windows'
    probabilities, so records of any length are accepted (shorter ones are
    zero-padded to one window).

    Parameters
    ----------
    branches : list of (str, estimator) or None, default=None
        None: frozen-features mode. Otherwise the named branches of
        end-to-end fine-tuning (see above): each a ``SelfKDPretrainer``, or
        a pipeline ending in one whose other steps are ``LeadStandardizer``
        and at most one ``STFTSpectrogram`` (other preprocessing belongs
        before the classifier, in an outer pipeline). Names must be unique
        and free of ``"__"``. The gate weighs the branches in this order.
    modalities : "auto" or dict, default="auto"
        Frozen-features mode only: columns of each modality. ``"auto"``
        groups columns by the prefix before the first ``"__"`` of their
        names (one modality if ``X`` has no names, or names without any
        prefix; an error if only some have one). A dict maps each modality
        to its number of columns (consecutive, in the dict's order), e.g.
        ``{"time": 256, "spectrogram": 256}``, or to a list of column names
        or positions; every column must belong to exactly one modality.
        Must be "auto" with ``branches``.
    fusion : {"gate", "concat"}, default="gate"
        ``"gate"``: the softmax gate weighs the modalities per sample.
        ``"concat"``: the embeddings are concatenated unweighted.
    pretraining : {"fit", "prefit"} or None, default="fit"
        End-to-end mode only. ``"fit"``: pretrain clones of the branches on
        ``X`` in ``fit`` (a branch ``random_state`` left as None is seeded
        from ``random_state``); the fitted clones are kept in
        ``named_branches_``. A branch wrapped in
        :class:`~sklearn.frozen.FrozenEstimator` is fitted already and is
        used as it is, also inside cross-validation and grid searches, which
        clone estimators. ``"prefit"``: every branch is already fitted (e.g.
        on more, unlabelled records) and used as it is; cloning (as
        ``cross_validate`` does) unfits them, so wrap them in
        ``FrozenEstimator`` there instead. None: no pretraining; encoders of the
        branches' architecture start from random weights (the "without
        self-KD" ablation); only the branches' preprocessing steps are fitted.
    hidden_size : int, default=512
        Output size of the head's first linear layer ``W_1``.
    window : int, default=250
        End-to-end mode only: window length in samples (250 = 2.5 s at
        100 Hz), for training crops and prediction windows.
    crops_per_record : int, default=5
        End-to-end mode only: random windows cut from each training record
        per epoch.
    lead_mask_proba : float, default=0.5
        End-to-end mode only: probability of zeroing each lead of every
        training crop (random lead masking, Oh et al. 2022); 0 disables.
    pos_weight : "balanced", array-like of shape (n_classes,) or None, default=None
        Weight of the positive examples of each class in the loss.
        ``"balanced"``: negatives / positives of the class in the training
        part (1 for a class without positive). None: 1 for every class.
    threshold : float, array-like of shape (n_classes,) or "tuned", default=0.5
        Decision threshold on ``predict_proba``, per class. ``"tuned"``:
        per-class thresholds chosen on the validation split (training data
        held out from the gradient steps, never the data being scored) by
        coordinate ascent over 0.05, 0.10, ..., 0.95 on ``tuning_scoring``
        (the procedure of
        :class:`~sklearn_ecg.model_selection.MultilabelThresholdTuner`);
        needs ``validation_fraction``. For thresholds tuned on an inner
        cross-validation instead, wrap the model (or its pipeline) in
        ``MultilabelThresholdTuner``.
    at_least_one : bool, default=True
        ``predict`` gives a record for which no class reaches its threshold
        its most probable class (see
        :func:`~sklearn_ecg.model_selection.apply_thresholds`), also when
        tuning.
    tuning_scoring : {"challenge", "f2", "g2", "macro_f1", "accuracy"}, default="challenge"
        Metric maximised by ``threshold="tuned"``.
    classes : array-like of str of shape (n_classes,), default=None
        SNOMED-CT code of each column of ``Y``. None: the ``year``'s scored
        classes if ``Y`` has as many columns, else unnamed. Tuning on the
        challenge metric needs codes including the normal class.
    year : {2020, 2021}, default=2020
        Class table of ``classes=None`` and weights of the challenge metric.
    max_epochs : int, default=30
        Training epochs (fewer with early stopping).
    batch_size : int, default=64
        Training crops (or rows) per step; also records per prediction batch.
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
        Honoured at prediction too: the fitted network moves to this device
        before each prediction, so ``set_params(device="cpu")`` moves a model
        fitted on a GPU to the CPU (with ``"auto"``, a model unpickled on a
        CPU-only machine runs on the CPU).
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
        Codes of ``Y``'s columns (``classes``, or the year's table), or
        ``0 .. n_classes - 1`` when unnamed.
    thresholds_ : ndarray of shape (n_classes,)
        Decision threshold of each class.
    modality_names_ : ndarray of str
        Names of the fused modalities (the branch names in end-to-end mode),
        in the order of the columns of :meth:`gate_weights`.
    modality_columns_ : dict of str to ndarray of int
        Frozen-features mode: the columns of each modality.
    named_branches_ : :class:`~sklearn.utils.Bunch`
        End-to-end mode with pretraining: the pretrained branches (fitted
        clones, or the given ones with ``"prefit"``), by name.
    n_features_in_ : int
        Frozen-features mode: number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Frozen-features mode: column names seen in ``fit``, if any.
    n_leads_in_ : int
        End-to-end mode: number of leads seen in ``fit``.
    net_ : skorch.NeuralNet
        The net that trained the fused network (``net_.module_``).
    history_ : skorch.callbacks.History
        Per-epoch ``train_loss`` and ``valid_loss`` (record level), per
        batch the learning rate ``event_lr``.

    See Also
    --------
    sklearn_ecg.pretraining.SelfKDPretrainer : The branches' pretraining.
    sklearn_ecg.model_selection.MultilabelThresholdTuner : Thresholds tuned by inner CV.

    Notes
    -----
    Honest protocol: pretraining sees only the records given to ``fit``
    (inside each fold of a cross-validation), and tuned thresholds come from
    the training data, unlike the paper's public code (METHODS.md).

    Pickling stores the torch state device-agnostically: a model fitted on
    a GPU unpickles on a CPU-only machine (skorch warns that the net's
    device changed) and, with ``device="auto"`` or ``"cpu"``, predicts there.

    Examples
    --------
    End-to-end, with tiny encoders so that the example runs in seconds:

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn_ecg.fusion import GatedFusionClassifier
    >>> from sklearn_ecg.preprocessing import STFTSpectrogram
    >>> from sklearn_ecg.pretraining import SelfKDPretrainer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(24, 12, 400)).astype(np.float32)
    >>> Y = rng.integers(0, 2, size=(24, 3))
    >>> pretrainer = dict(size="tiny", max_epochs=1, n_local_crops=1, n_prototypes=16)
    >>> model = GatedFusionClassifier(
    ...     branches=[
    ...         ("time", SelfKDPretrainer(modality="time", **pretrainer)),
    ...         ("spectrogram", make_pipeline(
    ...             STFTSpectrogram(), SelfKDPretrainer(modality="spectrogram", **pretrainer))),
    ...     ],
    ...     hidden_size=32, max_epochs=2, validation_fraction=None, random_state=0)
    >>> model.fit(X, Y).predict_proba(X[:2]).shape
    (2, 3)
    >>> model.gate_weights(X[:2]).sum(axis=1).round(6)
    array([1., 1.])

    Frozen features, with the modality of each column given by its name:

    >>> import pandas as pd
    >>> columns = [f"time__e{i}" for i in range(4)] + [f"spectrogram__e{i}" for i in range(4)]
    >>> features = pd.DataFrame(rng.normal(size=(24, 8)), columns=columns)
    >>> model = GatedFusionClassifier(hidden_size=16, max_epochs=2, random_state=0)
    >>> model.fit(features, Y).modality_names_
    array(['time', 'spectrogram'], dtype=object)
    >>> model.predict(features[:2]).shape
    (2, 3)
    """

    _torch_attributes = ("net_",)

    _parameter_constraints = {
        "branches": [list, None],
        "modalities": [StrOptions({"auto"}), dict],
        "fusion": [StrOptions({"gate", "concat"})],
        "pretraining": [StrOptions({"fit", "prefit"}), None],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
        "window": [Interval(Integral, 1, None, closed="left")],
        "crops_per_record": [Interval(Integral, 1, None, closed="left")],
        "lead_mask_proba": [Interval(Real, 0, 1, closed="left")],
        "pos_weight": [StrOptions({"balanced"}), "array-like", None],
        "threshold": [Interval(Real, 0, 1, closed="both"), "array-like", StrOptions({"tuned"})],
        "at_least_one": ["boolean"],
        "tuning_scoring": [StrOptions(set(LABEL_METRICS))],
        "classes": ["array-like", None],
        "year": [Options(Integral, {2020, 2021})],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "min_lr": [Interval(Real, 0, None, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither"), None],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        branches=None,
        *,
        modalities="auto",
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
        verbose=0,
        random_state=None,
    ):
        self.branches = branches
        self.modalities = modalities
        self.fusion = fusion
        self.pretraining = pretraining
        self.hidden_size = hidden_size
        self.window = window
        self.crops_per_record = crops_per_record
        self.lead_mask_proba = lead_mask_proba
        self.pos_weight = pos_weight
        self.threshold = threshold
        self.at_least_one = at_least_one
        self.tuning_scoring = tuning_scoring
        self.classes = classes
        self.year = year
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr = lr
        self.min_lr = min_lr
        self.weight_decay = weight_decay
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

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

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y):
        """Pretrain the branches if asked, then train the fused network.

        Parameters
        ----------
        X : array-like of shape (n_records, n_features) or (n_records, n_leads, n_times)
            Feature matrix (``branches=None``), or signals (2-D: one lead).
        Y : array-like of shape (n_records, n_classes)
            Binary indicator matrix (multi-hot labels).

        Returns
        -------
        self : GatedFusionClassifier
        """
        for stale in _MODE_ATTRIBUTES:
            self.__dict__.pop(stale, None)
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr={self.min_lr} must not exceed lr={self.lr}: the cosine decays from lr to it.")
        Y = self._check_targets(Y)
        X = self._check_X(X, reset=True)
        if num_samples(X) != len(Y):
            raise ValueError(f"X has {num_samples(X)} records but Y has {len(Y)}.")
        self.classes_ = column_codes(self.classes, Y.shape[1], year=self.year, target_name="Y")
        metric = self._tuning_metric(Y.shape[1])
        rng = check_random_state(self.random_state)
        if self.branches is None:
            network = self._feature_network(X, Y.shape[1], rng)
        else:
            network = self._branch_network(X, Y.shape[1], rng)
        train, valid = self._split(Y, rng)
        Y = Y.astype(np.float32)
        self.net_ = self._build_net(network, Y[train], rng, valid_data=(
            None if valid is None else Records(X, Y, valid)
        ))
        self.net_.fit(Records(X, Y, train, 1 if self.branches is None else self.crops_per_record))
        self.net_.train_split = None  # keeps the validation records out of the fitted model
        self.thresholds_ = self._fit_thresholds(X, Y, valid, metric)
        return self

    @property
    def history_(self):
        """skorch history of the training (see the class docstring)."""
        return self.net_.history

    def decision_function(self, X):
        """Record-level logits: the logit of each record's mean window probability.

        Parameters
        ----------
        X : array-like of shape (n_records, n_features) or (n_records, n_leads, n_times)
            As in ``fit``; signals may have any length.

        Returns
        -------
        logits : ndarray of shape (n_records, n_classes), float64
        """
        return self._record_outputs(X)[0]

    def predict_proba(self, X):
        """Probability of each class: the mean of the record's window probabilities.

        Parameters
        ----------
        X : array-like of shape (n_records, n_features) or (n_records, n_leads, n_times)
            As in ``fit``; signals may have any length.

        Returns
        -------
        proba : ndarray of shape (n_records, n_classes), float64
            Clipped to ``[1e-7, 1 - 1e-7]``, strictly inside (0, 1).
        """
        logits = self.decision_function(X)
        return np.clip(1.0 / (1.0 + np.exp(-logits)), _PROBA_EPS, 1.0 - _PROBA_EPS)

    def predict(self, X):
        """Multi-hot predictions with the per-class thresholds ``thresholds_``.

        Parameters
        ----------
        X : array-like of shape (n_records, n_features) or (n_records, n_leads, n_times)
            As in ``fit``.

        Returns
        -------
        Y_pred : ndarray of shape (n_records, n_classes)
            0/1 labels, of the dtype of the ``Y`` given to ``fit``.
        """
        proba = self.predict_proba(X)
        return apply_thresholds(proba, self.thresholds_, at_least_one=self.at_least_one).astype(
            self._y_dtype
        )

    @available_if(lambda self: self.fusion == "gate")
    def gate_weights(self, X):
        """Per-record gate weights of the modalities (only with ``fusion="gate"``).

        Parameters
        ----------
        X : array-like of shape (n_records, n_features) or (n_records, n_leads, n_times)
            As in ``fit``.

        Returns
        -------
        weights : ndarray of shape (n_records, n_modalities), float64
            Softmax weights, columns in the order of ``modality_names_``;
            each row sums to one. For signals, the mean over the record's
            windows.

        Notes
        -----
        In a pipeline, transform with the steps before the classifier
        first: ``pipe[-1].gate_weights(pipe[:-1].transform(X))``.
        """
        return self._record_outputs(X)[1]

    def _record_outputs(self, X):
        check_is_fitted(self, "net_")
        X = self._check_X(X, reset=False)
        device = resolve_device(self.device)
        self.net_.module_.to(device)
        self.net_.device = device
        return predict_records(self.net_, X, self.batch_size)

    def _check_targets(self, Y):
        if Y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None.")
        target_type = type_of_target(Y, input_name="Y", raise_unknown=True)
        Y = np.asarray(Y)
        if target_type not in ("binary", "multilabel-indicator") or Y.ndim != 2:
            raise ValueError(
                "Y must be a binary indicator matrix of shape (n_records, n_classes) "
                f"(a single label as one column); got a {target_type} target of shape {Y.shape}."
            )
        self._y_dtype = Y.dtype
        return check_indicator(Y, "Y")

    def _check_X(self, X, *, reset):
        if self.branches is None:
            X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True)
            if X.ndim > 2:
                raise ValueError(
                    f"X must be a 2-D feature matrix when branches is None; got shape {X.shape}. "
                    "Pass branches=[...] to classify signals end to end."
                )
            return X
        X = check_signals(X, n_leads=None if reset else self.n_leads_in_, dtype=np.float32)
        if reset:
            self.n_leads_in_ = X.shape[1]
        return X  # crops and sliding windows zero-pad records shorter than a window

    def _tuning_metric(self, n_columns):
        """The metric of threshold="tuned", built before training so that bad codes fail early."""
        if not (isinstance(self.threshold, str) and self.threshold == "tuned"):
            return None
        if self.validation_fraction is None:
            raise ValueError(
                "threshold='tuned' tunes on the validation split; set validation_fraction, or wrap "
                "the model in MultilabelThresholdTuner to tune on an inner cross-validation."
            )
        return stacked_label_metric(
            self.tuning_scoring, classes=self.classes, year=self.year, n_columns=n_columns
        )

    def _fit_thresholds(self, X, Y, valid, metric):
        n_classes = Y.shape[1]
        if metric is None:
            return check_thresholds(self.threshold, n_classes)
        logits, _ = predict_records(self.net_, X[valid], self.batch_size)
        proba = 1.0 / (1.0 + np.exp(-logits))
        thresholds, _ = _coordinate_ascent(
            Y[valid].astype(bool), proba, _THRESHOLD_GRID, metric, n_passes=2,
            at_least_one=self.at_least_one,
        )
        return thresholds

    def _feature_network(self, X, n_classes, rng):
        if self.modalities != "auto" and not isinstance(self.modalities, dict):
            raise ValueError(f"modalities must be 'auto' or a dict; got {self.modalities!r}.")
        names = getattr(self, "feature_names_in_", None)
        self.modality_columns_ = resolve_modalities(self.modalities, X.shape[1], names)
        self.modality_names_ = np.array(list(self.modality_columns_), dtype=object)
        columns = list(self.modality_columns_.values())
        with seeded_torch(rng.randint(np.iinfo(np.int32).max)):
            head = GatedFusionHead(
                [len(c) for c in columns], n_classes, self.hidden_size, gate=self.fusion == "gate"
            )
            return MultiBranchNetwork(
                [torch.nn.Identity() for _ in columns], head, [SelectColumns(c) for c in columns]
            )

    def _branch_network(self, X, n_classes, rng):
        if self.modalities != "auto":
            raise ValueError(
                "modalities applies to feature input (branches=None); with branches, the "
                "modalities are the branches."
            )
        if not self.branches:
            raise ValueError("branches must be None or a non-empty list of (name, estimator) pairs.")
        names = [name for name, _ in self.branches]
        self._validate_names(names)
        for name, estimator in self.branches:
            branch_parts(name, estimator)  # a bad branch fails before any pretraining
        if self.pretraining == "prefit":
            fitted = list(self.branches)
        else:
            fitted = fit_branches(self.branches, X, rng, pretrain=self.pretraining == "fit")
        parts = [branch_parts(name, estimator) for name, estimator in fitted]
        if self.pretraining is not None:
            for part in parts:
                check_pretrained(part, X.shape[1])
            self.named_branches_ = Bunch(**dict(fitted))
        self.modality_names_ = np.array(names, dtype=object)
        with seeded_torch(rng.randint(np.iinfo(np.int32).max)):
            modules = [
                branch_modules(part, X.shape[1], pretrained=self.pretraining is not None)
                for part in parts
            ]
            front_ends, encoders = zip(*modules)
            head = GatedFusionHead(
                [encoder.out_features for encoder in encoders], n_classes, self.hidden_size,
                gate=self.fusion == "gate",
            )
            return MultiBranchNetwork(encoders, head, front_ends)

    def _split(self, Y, rng):
        """Training and validation record indices (validation None without a split)."""
        everything = np.arange(len(Y))
        if self.validation_fraction is None:
            return everything, None
        if len(Y) < 2:
            raise ValueError(
                f"validation_fraction={self.validation_fraction} needs at least 2 records; got "
                f"{len(Y)}. Set validation_fraction=None."
            )
        n_splits = min(len(Y), max(2, round(1 / self.validation_fraction)))
        cv = MultilabelStratifiedKFold(n_splits, shuffle=True, random_state=rng.randint(np.iinfo(np.int32).max))
        train, valid = next(cv.split(np.zeros((len(Y), 1)), Y))
        return train, valid

    def _pos_weight(self, Y):
        if self.pos_weight is None:
            return None
        if isinstance(self.pos_weight, str):
            positives = Y.sum(axis=0)
            weight = np.where(positives > 0, (len(Y) - positives) / np.maximum(positives, 1), 1.0)
        else:
            weight = np.asarray(self.pos_weight, dtype=np.float64)
            if weight.shape != (Y.shape[1],) or not (np.isfinite(weight) & (weight > 0)).all():
                raise ValueError(
                    f"pos_weight must hold one positive finite weight per class ({Y.shape[1]}); "
                    f"got {self.pos_weight!r}."
                )
        return torch.as_tensor(weight, dtype=torch.float32)

    def _build_net(self, network, Y_train, rng, valid_data):
        end_to_end = self.branches is not None
        items = len(Y_train) * (self.crops_per_record if end_to_end else 1)
        if end_to_end and items < 2:
            raise ValueError(
                f"Training on {len(Y_train)} record(s) with crops_per_record={self.crops_per_record} "
                "gives 1 sample per epoch (n_samples = 1); the encoders' batch normalisation needs "
                "at least 2."
            )
        # Batch normalisation cannot train on a last batch of one crop; drop it
        # (another random crop is dropped each epoch).
        drop_last = end_to_end and items % self.batch_size == 1
        steps = self.max_epochs * (items // self.batch_size if drop_last else math.ceil(items / self.batch_size))
        callbacks = [(
            "lr_schedule",
            LRScheduler(policy="CosineAnnealingLR", T_max=steps, eta_min=self.min_lr, step_every="batch"),
        )]
        if self.n_iter_no_change is not None:
            callbacks.append(("early_stopping", EarlyStopping(
                monitor="train_loss" if valid_data is None else "valid_loss",
                patience=self.n_iter_no_change, load_best=valid_data is not None,
                sink=print if self.verbose else silent,
            )))
        if self.verbose:
            callbacks.append(("progress", ProgressBar()))
        return FusionNet(
            module=network,
            criterion=torch.nn.BCEWithLogitsLoss,
            criterion__pos_weight=self._pos_weight(Y_train),
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            lr=self.lr,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            iterator_train__shuffle=True,
            iterator_train__drop_last=drop_last,
            iterator_train__generator=torch_generator(rng),
            # A generator, so that the loader draws no seed from torch's global one.
            iterator_valid__generator=torch_generator(rng),
            train_split=None if valid_data is None else predefined_split(valid_data),
            callbacks=callbacks,
            verbose=self.verbose,
            device=resolve_device(self.device),
            window=self.window if end_to_end else None,
            augment=RandomLeadMasking(self.lead_mask_proba) if end_to_end and self.lead_mask_proba > 0 else None,
            generator=torch_generator(rng),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = self.branches is not None
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
