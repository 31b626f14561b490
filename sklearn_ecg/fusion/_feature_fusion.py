"""FeatureFusionClassifier: gated fusion of modality embeddings computed beforehand."""

import numpy as np
import torch
from sklearn.utils.validation import validate_data

from .._random import SKLEARN_SEED_BITS, draw_seed, seeded_torch
from .._sklearn_compat import StrOptions
from ..nn import GatedFusionHead, MultiBranchNetwork, SelectColumns
from ._base import BaseFusionClassifier
from ._modalities import resolve_modalities
from ._net import FusionNet


class FeatureFusionClassifier(BaseFusionClassifier):
    """Multi-label classifier fusing the modality blocks of a feature matrix with a per-sample gate.

    The gate and head of the multimodal self-KD paper (Phan et al., IEEE BHI
    2022) on frozen features: ``X`` is a feature matrix, e.g. the
    embeddings of pretrained encoders joined by a ``FeatureUnion``, and
    only the gate and head are learned. The columns of modality ``i`` form
    ``h_i``; a softmax gate ``g = softmax(W_g [h_1; ...; h_B] + b_g)``
    weighs them per sample, and a linear head maps ``z = [g_1 h_1; ...;
    g_B h_B]`` to one logit per class: ``W_2 (W_1 z + b_1) + b_2``.
    Training minimises binary cross-entropy with logits (Adam, cosine
    learning-rate decay, early stopping on a held-out validation split).

    ``modalities`` says which columns belong to which modality: ``"auto"``
    reads the ``"<name>__"`` prefixes that a ``FeatureUnion`` gives its
    output's column names when the pipeline outputs DataFrames
    (``set_output(transform="pandas")``); a dict gives block sizes or column
    lists explicitly. A numpy array without names is one modality: the gate
    then has nothing to weigh and the model is a linear classifier on the
    features. ::

        union = FeatureUnion([
            ("time", SelfKDPretrainer(modality="time")),
            ("spectrogram", make_pipeline(STFTSpectrogram(),
                                          SelfKDPretrainer(modality="spectrogram"))),
        ])
        # with numpy output, the embedding sizes (the pretrainers' n_features_out_):
        model = make_pipeline(union, FeatureFusionClassifier(modalities={"time": 256, "spectrogram": 256}))

    To fine-tune the encoders with the gate (the paper's model), use
    :class:`GatedFusionClassifier` on the signals instead.

    Parameters
    ----------
    modalities : "auto" or dict, default="auto"
        Columns of each modality. ``"auto"`` groups columns by the prefix
        before the first ``"__"`` of their names (one modality if ``X`` has
        no names, or names without any prefix; an error if only some have
        one). A dict maps each modality to its number of columns
        (consecutive, in the dict's order), e.g. ``{"time": 256,
        "spectrogram": 256}``, or to a list of column names or positions;
        every column must belong to exactly one modality.
    fusion : {"gate", "concat"}, default="gate"
        ``"gate"``: the softmax gate weighs the modalities per sample.
        ``"concat"``: the embeddings are concatenated unweighted.
    hidden_size : int, default=512
        Output size of the head's first linear layer ``W_1``.
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
        Rows per training step and per prediction batch.
    lr : float, default=3e-3
        Initial learning rate of Adam.
    min_lr : float, default=1e-5
        Learning rate at the end of the cosine decay, reached at
        ``max_epochs``.
    weight_decay : float, default=0.0
        L2 penalty of Adam.
    validation_fraction : float or None, default=0.1
        Share of the training rows held out (stratified on every label by
        :class:`~sklearn_ecg.model_selection.MultilabelStratifiedKFold`) to
        monitor the validation loss, restore the weights of its best epoch,
        and tune thresholds. None: train on every row.
    n_iter_no_change : int or None, default=10
        Stop when the validation loss (the training loss without a
        validation split) has not improved for this many epochs; None
        trains all ``max_epochs``.
    device : str, default="auto"
        ``"auto"`` (CUDA when available, else CPU), ``"cpu"`` or ``"cuda"``;
        honoured at prediction too, without changing the fitted model.
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
        Seeds the split, the initial weights and the order of the rows. The
        caller's global numpy and torch random states are left untouched
        (None draws from numpy's global generator, as in scikit-learn). On a
        CPU, the same integer gives the same predictions.

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
        Names of the fused modalities, in the order of the columns of
        :meth:`gate_weights`.
    modality_columns_ : dict of str to ndarray of int
        The columns of each modality.
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, if any.
    net_ : skorch.NeuralNet
        The net that trained the fused network (``net_.module_``).
    history_ : skorch.callbacks.History
        Per-epoch ``train_loss`` and ``valid_loss``, per batch the learning
        rate ``event_lr``.

    See Also
    --------
    GatedFusionClassifier : The same fusion trained end to end on signals.
    sklearn_ecg.pretraining.SelfKDPretrainer : Embeddings of one modality.

    Examples
    --------
    The modality of each column given by its name:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from sklearn_ecg.fusion import FeatureFusionClassifier
    >>> rng = np.random.default_rng(0)
    >>> columns = [f"time__e{i}" for i in range(4)] + [f"spectrogram__e{i}" for i in range(4)]
    >>> features = pd.DataFrame(rng.normal(size=(24, 8)), columns=columns)
    >>> Y = rng.integers(0, 2, size=(24, 3))
    >>> model = FeatureFusionClassifier(hidden_size=16, max_epochs=2, random_state=0)
    >>> model.fit(features, Y).modality_names_
    array(['time', 'spectrogram'], dtype=object)
    >>> model.predict(features[:2]).shape
    (2, 3)
    """

    _net_class = FusionNet

    _parameter_constraints = {
        **BaseFusionClassifier._parameter_constraints,
        "modalities": [StrOptions({"auto"}), dict],
    }

    def __init__(
        self,
        *,
        modalities="auto",
        fusion="gate",
        hidden_size=512,
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
        self.modalities = modalities

    def fit(self, X, Y):
        """Train the gate and head on the features.

        Parameters
        ----------
        X : array-like of shape (n_records, n_features)
            Feature matrix; a DataFrame's column names can name the
            modalities.
        Y : array-like of shape (n_records, n_classes)
            Binary indicator matrix (multi-hot labels), with a positive
            record for every class (a class without one warns and is never
            predicted). A DataFrame's column names are the classes when
            ``classes`` is None.

        Returns
        -------
        self : FeatureFusionClassifier
        """
        return super().fit(X, Y)

    def _check_X(self, X, *, reset):
        X = validate_data(self, X, reset=reset, dtype=np.float32, allow_nd=True)
        if X.ndim > 2:
            raise ValueError(
                f"X must be a 2-D feature matrix; got shape {X.shape}. GatedFusionClassifier "
                "classifies signals end to end."
            )
        return X

    def _build_network(self, X, n_classes, rng):
        names = getattr(self, "feature_names_in_", None)
        self.modality_columns_ = resolve_modalities(self.modalities, X.shape[1], names)
        self.modality_names_ = np.array(list(self.modality_columns_), dtype=object)
        columns = list(self.modality_columns_.values())
        with seeded_torch(draw_seed(rng, bits=SKLEARN_SEED_BITS)):
            head = GatedFusionHead(
                [len(c) for c in columns], n_classes, self.hidden_size, gate=self.fusion == "gate"
            )
            return MultiBranchNetwork(
                [torch.nn.Identity() for _ in columns], head, [SelectColumns(c) for c in columns]
            )
