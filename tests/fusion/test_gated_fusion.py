import pickle
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import torch
from _multilabel_cases import DECISION_MULTILABEL_ONLY
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks
from skorch.exceptions import DeviceWarning

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier, make_fusion_branches
from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import MultilabelStratifiedKFold, apply_thresholds
from sklearn_ecg.preprocessing import LeadStandardizer
from sklearn_ecg.pretraining import SelfKDPretrainer

# Tiny encoders, one pretraining epoch, short signals: every fit takes seconds.
PRETRAIN = dict(size="tiny", n_local_crops=1, n_prototypes=16, batch_size=16, max_epochs=1)
FAST = dict(hidden_size=16, max_epochs=2, batch_size=16, crops_per_record=2)

_N_FEATURES_REASON = (
    "signals may have any length (sliding windows), so there is no fixed number of input "
    "features; the lead count is checked instead (n_leads_in_)"
)


_EXPECTED_FAILURES = dict(DECISION_MULTILABEL_ONLY, check_n_features_in=_N_FEATURES_REASON,
                          check_n_features_in_after_fitting=_N_FEATURES_REASON)


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    # Tiny models gain nothing from intra-op threads, and on a shared
    # 2-core machine the threads of parallel test workers fight.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@parametrize_with_checks(
    [
        # at_least_one=False: the checks expect predict to be predict_proba >= 0.5.
        GatedFusionClassifier(
            branches=[("time", SelfKDPretrainer(**PRETRAIN))], pretraining=None, window=8,
            crops_per_record=1, hidden_size=4, max_epochs=1, validation_fraction=None,
            at_least_one=False, random_state=0,
        ),
    ],
    expected_failed_checks=lambda estimator: _EXPECTED_FAILURES,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def data():
    return make_synthetic_ecg(48, duration=3.0, random_state=0)


def _branches(**pretrain):
    return make_fusion_branches(**dict(PRETRAIN, **pretrain))


def _model(**params):
    return GatedFusionClassifier(**{"branches": _branches(), "random_state": 0, **FAST, **params})


@pytest.fixture(scope="module")
def fitted(data):
    model = _model(threshold="tuned", validation_fraction=0.25, classes=data.classes)
    return make_pipeline(LeadStandardizer(), model).fit(data.X, data.y)


def test_outputs_of_the_fitted_pipeline(fitted, data):
    model = fitted[-1]
    proba = fitted.predict_proba(data.X)
    assert proba.shape == data.y.shape and ((proba > 0) & (proba < 1)).all()
    np.testing.assert_allclose(1 / (1 + np.exp(-fitted.decision_function(data.X))), proba, rtol=1e-6)
    prediction = fitted.predict(data.X)
    assert prediction.dtype == data.y.dtype and prediction.any(axis=1).all()  # at_least_one
    np.testing.assert_array_equal(model.classes_, data.classes)
    assert list(model.modality_names_) == ["time", "spectrogram"]
    assert set(model.named_branches_) == {"time", "spectrogram"}
    assert model.n_leads_in_ == 12
    assert model.thresholds_.shape == (12,) and np.isin(model.thresholds_.round(2), np.arange(5, 100, 5) / 100).all()
    assert np.isfinite(model.history_[:, "valid_loss"]).all()


def test_gate_weights_are_per_record_and_sum_to_one(fitted, data):
    weights = fitted[-1].gate_weights(fitted[:-1].transform(data.X))
    assert weights.shape == (len(data.X), 2)
    np.testing.assert_allclose(weights.sum(axis=1), 1.0, rtol=1e-6)
    assert weights[:, 0].std() > 0


def test_records_of_any_length_are_scored(fitted, data):
    with pytest.warns(UserWarning, match="3 of 3 records are shorter than half a window"):
        short = fitted.predict_proba(data.X[:3, :, :120])  # zero-padded to one window
    long = fitted.predict_proba(np.concatenate([data.X[:3], data.X[:3]], axis=-1))
    assert short.shape == long.shape == (3, 12)


def test_records_shorter_than_half_a_window_warn_naming_how_many(data, recwarn):
    X = data.X[:5].copy()
    X[:2, :, 100:] = 0  # two records of 1 s, zero-padded to the length of the array
    with pytest.warns(UserWarning, match=r"2 of 5 records are shorter than half a window \(fewer than 125 of 250"):
        _model(branches=_branches()[:1], pretraining=None, max_epochs=1, validation_fraction=None).fit(
            X, data.y[:5])
    recwarn.clear()
    _model(branches=_branches()[:1], pretraining=None, max_epochs=1, validation_fraction=None).fit(
        data.X[:5, :, :125], data.y[:5])  # half a window: no warning
    assert not [w for w in recwarn.list if "half a window" in str(w.message)]


# Through the pipeline's LeadStandardizer, whose offsets blur the factor of 1000 somewhat.
@pytest.mark.parametrize("scale, cause", [(1000.0, "larger.*ADC counts instead of mV"), (1e-3, "smaller.*V instead")])
def test_signals_in_another_unit_warn_at_prediction(fitted, data, scale, cause, recwarn):
    fitted.predict_proba(data.X[:4] * 2)  # the same unit, another gain: quiet
    assert not recwarn.list
    with pytest.warns(UserWarning, match=f"GatedFusionClassifier are [0-9]+ times {cause}"):
        fitted.predict(data.X[:4] * scale)
    assert fitted[-1].amplitude_ == pytest.approx(3.0, rel=0.5)  # standardised signals


def test_prediction_is_the_mean_of_the_window_probabilities(fitted, data):
    model, X = fitted[-1], fitted[0].transform(data.X[:2])
    # 300 samples, window 250, step 125: windows at 0 and 50 (flush with the end).
    windows = np.concatenate([X[:, :, :250], X[:, :, 50:300]])
    window_proba = model.predict_proba(windows)
    np.testing.assert_allclose(model.predict_proba(X), (window_proba[:2] + window_proba[2:]) / 2, rtol=1e-5)


def test_predict_runs_the_network_once_per_window(fitted, data):
    model, X = fitted[-1], fitted[0].transform(data.X[:20])
    seen = []
    hook = model.net_.module_.register_forward_hook(lambda module, args, out: seen.append(len(args[0])))
    try:
        proba = model.predict_proba(X)
        labels = model.predict(X)
    finally:
        hook.remove()
    # 300 samples: 2 windows per record, in batches of batch_size=16 windows
    # (the last zero-padded): 40 windows -> 3 batches, per call.
    assert seen == [16, 16, 16] * 2
    # predict thresholds the probabilities of its one pass.
    np.testing.assert_array_equal(labels, apply_thresholds(proba, model.thresholds_, at_least_one=True))


def test_same_seed_same_predictions_and_global_random_state_untouched(fitted, data):
    np_state, torch_state = np.random.get_state(), torch.get_rng_state()
    again = clone(fitted).fit(data.X, data.y)
    assert torch.equal(torch.get_rng_state(), torch_state)
    after = np.random.get_state()
    assert np.array_equal(after[1], np_state[1]) and after[2] == np_state[2]
    np.testing.assert_array_equal(again.predict_proba(data.X), fitted.predict_proba(data.X))
    other = clone(fitted).set_params(gatedfusionclassifier__random_state=1).fit(data.X, data.y)
    assert not np.allclose(other.predict_proba(data.X), fitted.predict_proba(data.X))


def test_pickled_pipeline_predicts_identically(fitted, data):
    loaded = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(loaded.predict_proba(data.X), fitted.predict_proba(data.X))
    np.testing.assert_array_equal(loaded.predict(data.X), fitted.predict(data.X))
    assert loaded[-1].net_.train_split is None  # no validation records inside the model


def test_model_fitted_on_gpu_unpickles_and_predicts_on_cpu_only_machine(fitted, data):
    expected = fitted.predict_proba(data.X)
    model = pickle.loads(pickle.dumps(fitted))
    # Without a GPU, simulate one: the nets claim CUDA, and every tensor is
    # saved with a CUDA location tag, as tensors trained on a GPU are.
    model[-1].net_.device = "cuda"
    for branch in model[-1].named_branches_.values():
        (branch[-1] if hasattr(branch, "steps") else branch).net_.device = "cuda"
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data_bytes = pickle.dumps(model)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.warns(DeviceWarning):
            loaded = pickle.loads(data_bytes)
        proba = loaded.predict_proba(data.X)  # device="auto" resolves to the CPU
    assert all(p.device.type == "cpu" for p in loaded[-1].net_.module_.parameters())
    np.testing.assert_allclose(proba, expected, rtol=1e-6)


def test_pipeline_fitted_with_device_cuda_predicts_on_cpu_only_machine(fitted, data):
    expected = fitted.predict_proba(data.X)
    model = pickle.loads(pickle.dumps(fitted))
    # As if fitted with device="cuda" on a GPU: every estimator and net names CUDA.
    model.set_params(gatedfusionclassifier__device="cuda")
    model[-1].net_.device = "cuda"
    for branch in model[-1].named_branches_.values():
        pretrainer = branch[-1] if hasattr(branch, "steps") else branch
        pretrainer.device = pretrainer.net_.device = "cuda"
    with mock.patch.object(torch.serialization, "location_tag", lambda storage: "cuda:0"):
        data_bytes = pickle.dumps(model)
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        with pytest.warns(DeviceWarning) as record:
            loaded = pickle.loads(data_bytes)
        proba = loaded.predict_proba(data.X)
    assert len({str(w.message) for w in record}) == 1 and "runs there" in str(record[0].message)
    assert loaded[-1].device == "cpu" and str(loaded[-1].net_.device) == "cpu"
    np.testing.assert_allclose(proba, expected, rtol=1e-6)


def test_device_parameter_is_honoured_at_prediction(fitted, data):
    model = pickle.loads(pickle.dumps(fitted))
    expected = model.predict_proba(data.X[:4])
    with mock.patch.object(torch.cuda, "is_available", lambda: False):
        model.set_params(gatedfusionclassifier__device="cuda")
        with pytest.raises(ValueError, match="CUDA is not available"):
            model.predict_proba(data.X[:4])
    model.set_params(gatedfusionclassifier__device="cpu")
    np.testing.assert_array_equal(model.predict_proba(data.X[:4]), expected)


def test_nested_branch_parameters(data):
    model = _model()
    params = model.get_params()
    # Named as in StackingClassifier: <branch>__<parameter>.
    assert params["time__max_epochs"] == 1 and params["time"] is model.branches[0][1]
    model.set_params(time__max_epochs=3, spectrogram__stftspectrogram__nperseg=20)
    assert model.branches[0][1].max_epochs == 3
    assert model.get_params()["spectrogram__stftspectrogram__nperseg"] == 20
    # The spelling of a parameter path through the ``branches`` list also works.
    model.set_params(branches__time__max_epochs=5, branches__spectrogram__stftspectrogram__nperseg=16)
    assert model.branches[0][1].max_epochs == 5
    assert model.get_params()["spectrogram__stftspectrogram__nperseg"] == 16


def test_prefit_branches_are_used_as_they_are(fitted, data):
    branches = list(fitted[-1].named_branches_.items())
    X = fitted[0].transform(data.X)
    epochs = len(branches[0][1].history_)
    # A vanishing learning rate keeps the encoders where they started.
    model = _model(branches=branches, pretraining="prefit", lr=1e-10, min_lr=0.0, max_epochs=1).fit(X, data.y)
    assert model.named_branches_["time"] is branches[0][1] and len(branches[0][1].history_) == epochs
    start = branches[0][1].encoder_.stem[0][0].weight
    tuned = model.net_.module_.encoders[0].stem[0][0].weight.detach().cpu()
    torch.testing.assert_close(tuned, start, atol=1e-7, rtol=0)


def test_frozen_branches_survive_cloning(fitted, data):
    pretrained = fitted[-1].named_branches_["time"]
    epochs = len(pretrained.history_)
    model = _model(branches=[("time", FrozenEstimator(pretrained))], max_epochs=1)
    fitted_clone = clone(model).fit(fitted[0].transform(data.X), data.y)  # as cross_validate does
    assert fitted_clone.named_branches_["time"].estimator is pretrained
    assert len(pretrained.history_) == epochs


def test_a_last_batch_of_one_crop_is_dropped(data):
    # 17 crops in batches of 16 would leave one crop, which batch normalisation refuses.
    model = _model(branches=_branches()[:1], pretraining=None, max_epochs=1, batch_size=16,
                   crops_per_record=1, validation_fraction=None).fit(data.X[:17], data.y[:17])
    assert model.predict(data.X[:2]).shape == (2, 12)
    with pytest.raises(ValueError, match="n_samples = 1"):
        clone(model).fit(data.X[:1], data.y[:1])


def test_without_pretraining_encoders_start_at_random(data):
    model = _model(pretraining=None, max_epochs=1).fit(data.X, data.y)
    assert not hasattr(model, "named_branches_")
    assert model.predict_proba(data.X).shape == data.y.shape


@pytest.mark.parametrize("params, names", [
    (dict(branches=_branches()[:1]), ["time"]),
    (dict(branches=_branches()[1:]), ["spectrogram"]),
    (dict(fusion="concat"), ["time", "spectrogram"]),
])
def test_ablations_single_modality_and_plain_concatenation(params, names, data):
    model = _model(max_epochs=1, **params).fit(data.X, data.y)
    assert list(model.modality_names_) == names
    assert model.predict_proba(data.X).shape == data.y.shape
    assert hasattr(model, "gate_weights") == (model.fusion == "gate")


def test_a_dataframe_y_names_the_classes_and_a_class_without_positives_is_never_predicted(data):
    Y = pd.DataFrame(data.y, columns=data.classes)
    Y.iloc[:, 3] = 0
    model = _model(max_epochs=1, pos_weight="balanced", threshold="tuned", validation_fraction=0.25)
    with pytest.warns(UserWarning, match=f"1 of 12 classes have no positive record.*{data.classes[3]}"):
        model.fit(data.X, Y)
    np.testing.assert_array_equal(model.classes_, data.classes)  # also the codes the tuning metric used
    assert np.isfinite(model.predict_proba(data.X)).all()
    assert model.net_.criterion_.pos_weight[3] == 1.0
    assert model.thresholds_[3] == 1.0 and not model.predict(data.X)[:, 3].any()


def test_dataframe_columns_in_another_order_than_classes_are_refused(data):
    Y = pd.DataFrame(data.y, columns=data.classes)
    with pytest.raises(ValueError, match="columns of the DataFrame Y .* disagree with classes.*another order"):
        _model(classes=data.classes).fit(data.X, Y[data.classes[::-1]])


def test_a_y_without_any_positive_is_refused(data):
    with pytest.raises(ValueError, match="no positive label at all"):
        _model().fit(data.X, np.zeros_like(data.y))


def test_cross_validate_with_challenge_scorers(data):
    # The scorers read the challenge codes off the model's classes_.
    pipe = make_pipeline(LeadStandardizer(), _model(max_epochs=1, classes=data.classes))
    scores = cross_validate(pipe, data.X, data.y, cv=MultilabelStratifiedKFold(3, random_state=0),
                            scoring=make_cinc_scorers())
    for name in ("challenge", "macro_auroc", "macro_auprc", "f2", "g2", "macro_f1", "accuracy"):
        assert np.isfinite(scores[f"test_{name}"]).all()


def test_grid_search_over_several_steps(data):
    pipe = make_pipeline(LeadStandardizer(), _model(branches=_branches()[:1], max_epochs=1))
    grid = {"leadstandardizer__common_scale": [False, True],
            "gatedfusionclassifier__time__max_epochs": [1, 2]}
    search = GridSearchCV(pipe, grid, cv=MultilabelStratifiedKFold(2, random_state=0),
                          scoring=make_cinc_scorers()["macro_auroc"]).fit(data.X, data.y)
    assert len(search.cv_results_["params"]) == 4
    best = search.best_estimator_[-1]
    assert len(best.named_branches_["time"].history_) == search.best_params_[
        "gatedfusionclassifier__time__max_epochs"]


@pytest.mark.parametrize("X_change, match", [
    (lambda X: X[:, :6], "6 leads"),
    (lambda X: np.where(np.arange(X.shape[-1]) == 5, np.nan, X), "NaN"),
])
def test_bad_signals_at_prediction_are_named(fitted, data, X_change, match):
    with pytest.raises(ValueError, match=match):
        fitted.predict(X_change(data.X))


@pytest.mark.parametrize("Y_change, params, match", [
    (lambda Y: Y[:, 0], {}, "2-D indicator|binary indicator matrix"),
    (lambda Y: Y[:-1], {}, "48 records but Y has 47"),
    (lambda Y: Y * 2, {}, "binary indicator"),
    (lambda Y: Y, dict(threshold=[0.5, 0.5]), "one per class"),
    (lambda Y: Y, dict(threshold="tuned", validation_fraction=None), "validation_fraction"),
    (lambda Y: Y, dict(pos_weight=[1.0]), "pos_weight"),
    (lambda Y: Y, dict(lr=1e-6), "min_lr"),
    (lambda Y: Y, dict(branches=[]), "non-empty list"),
])
def test_bad_targets_and_options_are_named(data, Y_change, params, match):
    with pytest.raises(ValueError, match=match):
        _model(pretraining=None, max_epochs=1, **params).fit(data.X, Y_change(data.y))


def test_prefit_needs_given_branches(data):
    with pytest.raises(ValueError, match="unfitted"):
        GatedFusionClassifier(pretraining="prefit").fit(data.X, data.y)


def test_duplicate_branch_names_are_refused(data):
    branches = [_branches()[0], _branches()[0]]
    with pytest.raises(ValueError, match="not unique"):
        _model(branches=branches).fit(data.X, data.y)


@pytest.mark.slow
def test_defaults_build_and_train_the_papers_two_branches():
    # As a new user would: 12-lead signals of 1,000 samples, no branches given.
    signals = make_synthetic_ecg(16, duration=10.0, random_state=0)
    model = GatedFusionClassifier(random_state=0, max_epochs=1).fit(signals.X, signals.y)
    assert list(model.modality_names_) == ["time", "spectrogram"]
    assert model.predict_proba(signals.X).shape == signals.y.shape
    # The branches are make_fusion_branches' with the classifier's window and options, seeded from it.
    def settings(branch):
        return {key: value for key, value in branch.get_params().items()
                if "random_state" not in key and key != "steps" and not hasattr(value, "get_params")}

    for (name, expected), fitted in zip(make_fusion_branches(window=250), model.named_branches_.values()):
        assert settings(fitted) == settings(expected), name
    assert model.named_branches_["spectrogram"][-1].window == 21
    assert model.get_params(deep=True).keys() == model.get_params(deep=False).keys()  # no nested branches


def test_prediction_leaves_the_fitted_model_unchanged(fitted, data):
    model = fitted[-1]

    def state():
        module = model.net_.module_
        weights = {key: value.clone() for key, value in module.state_dict().items()}
        return sorted(vars(model)), weights, [m.training for m in module.modules()], model.net_.device

    names, weights, modes, device = state()
    fitted.predict_proba(data.X[:5])
    with mock.patch("sklearn_ecg.base._is_on", lambda module, device: False):  # as if fitted on another device
        model.gate_weights(fitted[:-1].transform(data.X[:5]))
    after_names, after_weights, after_modes, after_device = state()
    assert (after_names, after_modes, after_device) == (names, modes, device)
    for key, value in weights.items():
        assert torch.equal(after_weights[key], value), key
