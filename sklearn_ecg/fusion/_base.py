"""Base class of the fusion classifiers: training, thresholds and prediction.

:class:`GatedFusionClassifier` (signals, end to end) and
:class:`FeatureFusionClassifier` (feature vectors) differ in their input,
their network and how a training item reaches it; everything else, from
the target checks to the thresholds, lives here once.
"""

from abc import ABCMeta, abstractmethod
from numbers import Integral, Real

import numpy as np
import torch
from scipy.special import expit
from sklearn.base import ClassifierMixin
from sklearn.utils import check_random_state
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted
from skorch.callbacks import LRScheduler
from skorch.helper import predefined_split

from .._multilabel import classes_without_positives, fixed_thresholds, target_classes
from .._random import SKLEARN_SEED_BITS, draw_seed
from .._sklearn_compat import Interval, Options, StrOptions, fit_context, num_samples
from .._validation import check_indicator
from ..base import BaseTorchEstimator, RecordBatches
from ..classes import column_codes
from ..metrics import LABEL_METRICS, stacked_label_metric
from ..model_selection import MultilabelStratifiedKFold, apply_thresholds, tune_thresholds

_PROBA_EPS = 1e-7  # predict_proba stays strictly inside (0, 1)


class BaseFusionClassifier(ClassifierMixin, BaseTorchEstimator, metaclass=ABCMeta):
    """Base class of the fusion classifiers.

    Warning: this class should not be used directly. Use the derived
    classes instead. A subclass validates its input (``_check_X``), builds
    its network (``_build_network``), sets ``_net_class`` and, for signals,
    says how many crops a record gives per epoch and which net options
    (window, augmentation) apply.
    """

    _parameter_constraints = {
        "fusion": [StrOptions({"gate", "concat"})],
        "hidden_size": [Interval(Integral, 1, None, closed="left")],
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
        **BaseTorchEstimator._torch_parameter_constraints,
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    @abstractmethod
    def __init__(
        self,
        *,
        fusion,
        hidden_size,
        pos_weight,
        threshold,
        at_least_one,
        tuning_scoring,
        classes,
        year,
        max_epochs,
        batch_size,
        lr,
        min_lr,
        weight_decay,
        validation_fraction,
        n_iter_no_change,
        device,
        precision,
        pin_memory,
        accelerator,
        verbose,
        random_state,
    ):
        self.fusion = fusion
        self.hidden_size = hidden_size
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
        self.precision = precision
        self.pin_memory = pin_memory
        self.accelerator = accelerator
        self.verbose = verbose
        self.random_state = random_state

    @abstractmethod
    def _check_X(self, X, *, reset):
        """``X`` validated; with ``reset``, its shape is recorded."""

    @abstractmethod
    def _build_network(self, X, n_classes, rng):
        """The :class:`~sklearn_ecg.nn.MultiBranchNetwork` to train, its weights drawn from ``rng``."""

    def _crops_per_record(self):
        """Training items per record and epoch."""
        return 1

    def _drop_last_batch(self, n_items):
        """Whether training drops a last batch of a single item."""
        return False

    def _net_options(self):
        """Options of ``_net_class`` beyond those of :class:`~sklearn_ecg.base.SeededNet`."""
        return {}

    @fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, Y):
        """Train the fused network, then set the thresholds.

        Parameters
        ----------
        X : array-like
            The input of the subclass: signals or a feature matrix.
        Y : array-like of shape (n_records, n_classes)
            Binary indicator matrix (multi-hot labels). A DataFrame's
            column names are the classes when ``classes`` is None, and must
            equal ``classes`` (in order) when it is given.

        Returns
        -------
        self : object
            Fitted classifier.
        """
        if self.min_lr > self.lr:
            raise ValueError(f"min_lr={self.min_lr} must not exceed lr={self.lr}: the cosine decays from lr to it.")
        Y_given, Y = Y, self._check_targets(Y)
        classes = target_classes(Y_given, self.classes)
        X = self._check_X(X, reset=True)
        if num_samples(X) != len(Y):
            raise ValueError(f"X has {num_samples(X)} records but Y has {len(Y)}.")
        self.classes_ = column_codes(classes, Y.shape[1], year=self.year, target_name="Y")
        absent = classes_without_positives(Y, self.classes_)
        metric = self._tuning_metric(Y.shape[1], classes)
        rng = check_random_state(self.random_state)
        network = self._build_network(X, Y.shape[1], rng)
        train, valid = self._split(Y, rng)
        Y = Y.astype(np.float32)
        valid_data = None if valid is None else RecordBatches(X, Y, valid)
        self.net_ = self._fit_net(
            self._fusion_net(network, Y[train], rng, valid_data), RecordBatches(X, Y, train, self._crops_per_record())
        )
        self.net_.train_split = None  # keeps the validation records out of the fitted model
        self.thresholds_ = self._fit_thresholds(X, Y, valid, metric, absent)
        return self

    def decision_function(self, X):
        """Record-level logits: the logit of each record's probability.

        Parameters
        ----------
        X : array-like
            As in ``fit``.

        Returns
        -------
        logits : ndarray of shape (n_records, n_classes), float64
        """
        return self._record_outputs(X)[0]

    def predict_proba(self, X):
        """Probability of each class.

        Parameters
        ----------
        X : array-like
            As in ``fit``.

        Returns
        -------
        proba : ndarray of shape (n_records, n_classes), float64
            Clipped to ``[1e-7, 1 - 1e-7]``, strictly inside (0, 1).
        """
        return np.clip(expit(self.decision_function(X)), _PROBA_EPS, 1.0 - _PROBA_EPS)

    def predict(self, X):
        """Multi-hot predictions with the per-class thresholds ``thresholds_``.

        Parameters
        ----------
        X : array-like
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
        X : array-like
            As in ``fit``.

        Returns
        -------
        weights : ndarray of shape (n_records, n_modalities), float64
            Softmax weights, columns in the order of ``modality_names_``;
            each row sums to one.

        Notes
        -----
        In a pipeline, transform with the steps before the classifier
        first: ``pipe[-1].gate_weights(pipe[:-1].transform(X))``.
        """
        return self._record_outputs(X)[1]

    def _record_outputs(self, X):
        check_is_fitted(self, "net_")
        return self._score(self._check_X(X, reset=False))

    def _score(self, X):
        """Record-level logits and gate weights of validated ``X``, as float64 arrays."""
        logits, weights = [], []
        with self._inference(self.net_.module_) as (module, device):
            for start in range(0, len(X), self.batch_size):
                batch = torch.from_numpy(np.array(X[start:start + self.batch_size])).to(device)
                batch_logits, batch_weights = self.net_.score_records(module, batch)
                logits.append(batch_logits.double().cpu().numpy())
                weights.append(batch_weights.double().cpu().numpy())
        return np.concatenate(logits), np.concatenate(weights)

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

    def _tuning_metric(self, n_columns, classes):
        """The metric of threshold="tuned", built before training so that bad codes fail early."""
        if not (isinstance(self.threshold, str) and self.threshold == "tuned"):
            return None
        if self.validation_fraction is None:
            raise ValueError(
                "threshold='tuned' tunes on the validation split; set validation_fraction, or wrap "
                "the model in MultilabelThresholdTuner to tune on an inner cross-validation."
            )
        return stacked_label_metric(self.tuning_scoring, n_columns=n_columns, classes=classes, year=self.year)

    def _fit_thresholds(self, X, Y, valid, metric, absent):
        """The thresholds: given or tuned, and ``OFF_THRESHOLD`` for the ``absent`` classes."""
        if metric is None:
            return fixed_thresholds(self.threshold, absent)
        logits, _ = self._score(X[valid])
        thresholds, _ = tune_thresholds(
            Y[valid], expit(logits), scoring=metric, n_passes=2, at_least_one=self.at_least_one, disabled=absent
        )
        return thresholds

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
        cv = MultilabelStratifiedKFold(n_splits, shuffle=True, random_state=draw_seed(rng, bits=SKLEARN_SEED_BITS))
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

    def _fusion_net(self, network, Y_train, rng, valid_data):
        n_items = len(Y_train) * self._crops_per_record()
        drop_last, steps = self._training_batches(n_items, drop_last=self._drop_last_batch(n_items))
        schedule = LRScheduler(policy="CosineAnnealingLR", T_max=steps, eta_min=self.min_lr, step_every="batch")
        callbacks = self._default_callbacks(
            schedule, patience=self.n_iter_no_change, monitor="train_loss" if valid_data is None else "valid_loss",
            load_best=valid_data is not None,
        )
        return self._build_net(
            network,
            rng,
            criterion=torch.nn.BCEWithLogitsLoss,
            criterion__pos_weight=self._pos_weight(Y_train),
            optimizer=torch.optim.Adam,
            optimizer__weight_decay=self.weight_decay,
            iterator_train__drop_last=drop_last,
            train_split=None if valid_data is None else predefined_split(valid_data),
            callbacks=callbacks,
            **self._net_options(),
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        tags.classifier_tags.multi_class = False
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return tags
