import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import GridSearchCV, KFold, cross_validate

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.ensemble import MultilabelVotingClassifier
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.linear_model import MiniRocketRidgeClassifier
from sklearn_ecg.metrics import make_cinc_scorers
from sklearn_ecg.model_selection import MultilabelThresholdTuner
from sklearn_ecg.pipelines import make_default_pipeline, pretrain_encoders
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import ContrastivePretrainer, SelfKDPretrainer, save_encoders

# One fused model, thresholds on its validation split: with pretrained encoders,
# or, as the paper, self-KD pretraining inside fit.
SINGLE = dict(ensemble=None, blend=None)
PAPER = dict(pretrained=None, pretraining="fit", **SINGLE)


def _branch_names(pipeline):
    return [name for name, _ in pipeline[-1].branches]


def test_default_pipeline_blends_gated_fusion_and_minirocket_in_a_cross_fitted_ensemble():
    pipeline = make_default_pipeline(classes=["426783006"], random_state=3)
    tuner = pipeline[-1]
    assert isinstance(pipeline[0], LeadStandardizer) and isinstance(tuner, MultilabelThresholdTuner)
    assert (tuner.cv, tuner.ensemble, tuner.random_state, list(tuner.classes)) == (5, True, 3, ["426783006"])
    blend = tuner.estimator
    assert isinstance(blend, MultilabelVotingClassifier) and blend.weights is None
    (fusion_name, fusion), (rocket_name, rocket) = blend.estimators
    assert (fusion_name, rocket_name) == ("fusion", "minirocket")
    assert isinstance(rocket, MiniRocketRidgeClassifier) and rocket.random_state == 3
    # Both branches from random weights: no pretraining measured better once fine-tuned.
    assert isinstance(fusion, GatedFusionClassifier) and fusion.pretraining is None and fusion.fusion == "gate"
    assert (fusion.validation_fraction, fusion.n_iter_no_change, fusion.threshold) == (None, None, 0.5)
    assert _branch_names(make_default_pipeline(blend=None, ensemble=None)) == ["time", "spectrogram"]
    assert fusion.max_epochs == 50


@pytest.mark.parametrize(("options", "message"), [
    (dict(ensemble=None), "blend='minirocket' needs ensemble"),
    (dict(blend="rocket"), "blend must be None or one of \\('minirocket',\\)"),
])
def test_a_blend_needs_an_ensemble_and_a_known_member(options, message):
    with pytest.raises(ValueError, match=message):
        make_default_pipeline(**options)


def test_default_pipeline_fits_and_gives_every_record_a_label(labelled):
    pipeline = make_default_pipeline(classes=labelled.classes, finetune_epochs=2, ensemble=2, device="cpu",
                                      random_state=0)
    pipeline.set_params(classifier__estimator__minirocket__n_kernels=840)
    pipeline.fit(labelled.X, labelled.y)
    proba = pipeline.predict_proba(labelled.X)
    assert proba.shape == labelled.y.shape and ((proba >= 0) & (proba <= 1)).all()
    assert pipeline.predict(labelled.X).sum(axis=1).min() >= 1  # every record gets a label


def test_paper_pipeline_fuses_time_and_spectrogram_with_a_gate():
    pipeline = make_default_pipeline(fs=100, window=2.5, random_state=0, **PAPER)
    classifier = pipeline[-1]
    assert isinstance(pipeline[0], LeadStandardizer)
    assert isinstance(classifier, GatedFusionClassifier)
    assert _branch_names(pipeline) == ["time", "spectrogram"]
    assert (classifier.fusion, classifier.pretraining, classifier.window) == ("gate", "fit", 250)
    time_branch, spectrogram_branch = (estimator for _, estimator in classifier.branches)
    assert isinstance(time_branch, SelfKDPretrainer) and time_branch.modality == "time"
    assert isinstance(spectrogram_branch[0], STFTSpectrogram)
    assert spectrogram_branch[-1].modality == "spectrogram"
    # The spectrogram encoder's window is the number of STFT frames of one window.
    frames = STFTSpectrogram(fs=100).fit_transform(np.zeros((1, 1, 250), np.float32)).shape[-1]
    assert spectrogram_branch[-1].window == frames


@pytest.mark.parametrize("branches", [("time",), ["spectrogram"], "time", ("spectrogram", "time")])
def test_branches_choose_the_modalities_and_their_order(branches):
    pipeline = make_default_pipeline(branches=branches, fusion="concat", **{**PAPER, "pretraining": None})
    expected = [branches] if isinstance(branches, str) else list(branches)
    assert _branch_names(pipeline) == expected
    assert pipeline[-1].fusion == "concat" and pipeline[-1].pretraining is None


def test_options_reach_every_step():
    pipeline = make_default_pipeline(
        pretrain_epochs=3, finetune_epochs=4, lead_mask_proba=0.0, device="cpu", random_state=7, **PAPER
    )
    classifier = pipeline[-1]
    assert (classifier.max_epochs, classifier.lead_mask_proba, classifier.random_state) == (4, 0.0, 7)
    pretrainers = [classifier.branches[0][1], classifier.branches[1][1][-1]]
    assert [(p.max_epochs, p.lead_mask_proba, p.device) for p in pretrainers] == [(3, 0.0, "cpu")] * 2


@pytest.mark.parametrize("branches", [(), ("time", "time"), ("time", "frequency"), ["ecg"]])
def test_unknown_or_repeated_branches_are_refused(branches):
    with pytest.raises(ValueError, match="branches must be distinct modalities"):
        make_default_pipeline(branches=branches, **PAPER)


def test_ensemble_cross_fits_classifiers_trained_on_all_their_records():
    pipeline = make_default_pipeline(ensemble=3, classes=["426783006"], random_state=4, pretrained=None, blend=None)
    tuner = pipeline.named_steps["classifier"]
    assert isinstance(tuner, MultilabelThresholdTuner)
    assert (tuner.cv, tuner.ensemble, tuner.random_state, list(tuner.classes)) == (3, True, 4, ["426783006"])
    classifier = tuner.estimator
    assert isinstance(classifier, GatedFusionClassifier) and classifier.random_state == 4
    assert (classifier.validation_fraction, classifier.n_iter_no_change, classifier.threshold) == (None, None, 0.5)
    # Without ensemble, the classifier keeps its validation split for thresholds and early stopping.
    single = make_default_pipeline(**PAPER)[-1]
    assert (single.validation_fraction, single.threshold) == (0.1, "tuned")


@pytest.mark.parametrize("ensemble", [1, 0, 2.5, True, "5"])
def test_ensemble_must_be_an_int_of_at_least_two(ensemble):
    with pytest.raises(ValueError, match="ensemble must be None or an int >= 2"):
        make_default_pipeline(ensemble=ensemble)


@pytest.mark.parametrize("ensemble", [None, 2])
def test_tuning_metric_and_year_reach_the_threshold_tuning(ensemble):
    tuned = make_default_pipeline(ensemble=ensemble, blend=None, tuning_scoring="macro_f1", year=2021,
                                  classes=["NORM", "MI"])[-1]
    classifier = tuned if ensemble is None else tuned.estimator
    assert (classifier.tuning_scoring, classifier.year) == ("macro_f1", 2021)
    if ensemble is not None:
        assert (tuned.scoring, tuned.year, list(tuned.classes)) == ("macro_f1", 2021, ["NORM", "MI"])


@pytest.fixture(scope="module")
def labelled_frame():
    data = make_synthetic_ecg(24, duration=3.0, random_state=0)
    return data.X, pd.DataFrame(data.y, columns=data.classes)


def test_a_dataframe_y_names_the_classes_of_the_classifier(labelled_frame):
    X, Y = labelled_frame
    # No classes given: the column names are the codes that tune the thresholds on the challenge metric.
    pipeline = make_default_pipeline(branches=["time"], finetune_epochs=1, random_state=0,
                                     **{**PAPER, "pretraining": None})
    np.testing.assert_array_equal(pipeline.fit(X, Y)[-1].classes_, Y.columns)


@pytest.mark.parametrize("ensemble", [None, 2])
def test_dataframe_columns_in_another_order_than_classes_are_refused(labelled_frame, ensemble):
    X, Y = labelled_frame
    pipeline = make_default_pipeline(classes=list(Y.columns), ensemble=ensemble, blend=None)
    with pytest.raises(ValueError, match="disagree with classes.*another order"):
        pipeline.fit(X, Y[Y.columns[::-1]])


# Pretrained encoders: pretrain once, reuse in every fit.

@pytest.fixture(scope="module")
def pool():
    return make_synthetic_ecg(16, duration=5.0, random_state=1).X


@pytest.fixture(scope="module")
def encoders(pool):
    return pretrain_encoders(pool, epochs=1, random_state=0, sources=["synthetic"])


@pytest.fixture(scope="module")
def labelled():
    return make_synthetic_ecg(24, duration=5.0, random_state=2)


def _quick(pipeline):
    return pipeline.set_params(classifier__hidden_size=16, classifier__validation_fraction=None,
                               classifier__threshold=0.5, classifier__device="cpu")


def test_pretrain_encoders_builds_each_methods_branches(encoders, pool):
    assert encoders.modalities == ("time", "spectrogram") and encoders.method == "selfkd"
    assert (encoders.size, encoders.fs, encoders.window, encoders.n_records) == ("tiny", 100, 2.5, 16)
    time_branch, spectrogram_branch = (branch for _, branch in encoders.branches)
    assert isinstance(time_branch, SelfKDPretrainer) and time_branch.window == 250
    assert spectrogram_branch[-1].window == STFTSpectrogram(fs=100).n_frames(250)
    contrastive = pretrain_encoders(pool, method="contrastive", epochs=1, random_state=0)
    assert contrastive.modalities == ("time",)
    pretrainer = contrastive.branches[0][1]
    assert isinstance(pretrainer, ContrastivePretrainer) and pretrainer.segment_length == 250
    assert (pretrainer.objective, pretrainer.encoder, pretrainer.standardize) == ("cmsc", "xresnet1d", False)


def test_pretrain_encoders_defaults_to_the_methods_epochs(pool, monkeypatch):
    asked, fit = [], SelfKDPretrainer.fit

    def one_epoch(self, X, y=None):
        asked.append(self.max_epochs)
        return fit(self.set_params(max_epochs=1), X)

    monkeypatch.setattr(SelfKDPretrainer, "fit", one_epoch)
    assert pretrain_encoders(pool, size="small").epochs == {"time": 1, "spectrogram": 1}
    assert asked == [20, 20]


@pytest.mark.parametrize(("options", "message"), [
    (dict(method="simclr"), "method must be one of \\('selfkd', 'contrastive'\\)"),
    (dict(size="huge"), "size must be one of"),
])
def test_pretrain_encoders_refuses_unknown_options(pool, options, message):
    with pytest.raises(ValueError, match=message):
        pretrain_encoders(pool, **options)


@pytest.mark.parametrize("source", ["object", "path"])
def test_pretrained_start_freezes_the_encoders_branches(encoders, tmp_path, source):
    pretrained = encoders if source == "object" else save_encoders(encoders, tmp_path / "encoders.joblib")
    classifier = make_default_pipeline(pretrained=pretrained, random_state=0, **SINGLE)[-1]
    assert classifier.pretraining == "prefit"
    assert _branch_names(make_default_pipeline(pretrained=pretrained, **SINGLE)) == ["time", "spectrogram"]
    assert all(isinstance(branch, FrozenEstimator) for _, branch in classifier.branches)
    assert classifier.max_epochs == make_default_pipeline(size="tiny", **PAPER)[-1].max_epochs  # the encoders' size
    for (_, frozen), (_, original) in zip(classifier.branches, encoders.branches):
        state, expected = (_pretrainer(branch).encoder_.state_dict() for branch in (frozen.estimator, original))
        assert all(torch.equal(state[key], expected[key]) for key in expected)
    spectrogram_first = make_default_pipeline(pretrained=pretrained, branches=["spectrogram"], **SINGLE)
    assert _branch_names(spectrogram_first) == ["spectrogram"]


@pytest.mark.parametrize(("options", "error", "message"), [
    (dict(fs=500), ValueError, "pretrained on signals at 100 Hz, not 500 Hz"),
    (dict(window=5.0), ValueError, "their window is 2.5 s, not 5 s"),
    (dict(size="small"), ValueError, "size='small', but the pretrained encoders are 'tiny'"),
    (dict(pretrain_epochs=3), ValueError, "pretrain_epochs is for self-KD pretraining inside fit"),
    (dict(branches=["time", "time"]), ValueError, "modalities must be distinct"),
])
def test_pretrained_start_refuses_what_does_not_fit(encoders, options, error, message):
    with pytest.raises(error, match=message):
        make_default_pipeline(pretrained=encoders, **options)


@pytest.mark.parametrize("pretraining", ["fit", None])
def test_branches_the_encoders_lack_are_built_fresh(pool, pretraining):
    time_only = pretrain_encoders(pool, method="contrastive", epochs=1, random_state=0)
    classifier = make_default_pipeline(pretrained=time_only, branches=("spectrogram", "time"), pretraining=pretraining,
                                       **SINGLE)[-1]
    (first, spectrogram), (second, time_branch) = classifier.branches
    assert (first, second) == ("spectrogram", "time") and classifier.pretraining == pretraining
    assert isinstance(time_branch, FrozenEstimator) and time_branch.estimator is dict(time_only.branches)["time"]
    assert isinstance(spectrogram[0], STFTSpectrogram) and spectrogram[-1].size == time_only.size


def test_pretrained_start_refuses_other_objects(pool):
    time_only = pretrain_encoders(pool, method="contrastive", epochs=1, random_state=0)
    assert _branch_names(make_default_pipeline(pretrained=time_only, branches=["time"], **SINGLE)) == ["time"]
    with pytest.raises(TypeError, match="pretrained must be None, an encoders file or PretrainedEncoders"):
        make_default_pipeline(pretrained={"time": None})


def test_pretrained_start_checks_the_lead_count_at_fit(encoders, labelled):
    pipeline = _quick(make_default_pipeline(pretrained=encoders, classes=labelled.classes, finetune_epochs=1,
                                            **SINGLE))
    with pytest.raises(ValueError, match="pretrained on 12 leads, but X has 6"):
        pipeline.fit(labelled.X[:, :6], labelled.y)


def test_cross_validation_fine_tunes_from_the_encoders_in_every_fold(encoders, labelled, monkeypatch):
    pipeline = _quick(make_default_pipeline(pretrained=encoders, classes=labelled.classes, finetune_epochs=1,
                                            random_state=0, **SINGLE))
    pipeline.set_params(classifier__lr=1e-12, classifier__min_lr=0.0)  # the weights stay where each fold started
    monkeypatch.setattr(SelfKDPretrainer, "fit", _no_pretraining)
    result = cross_validate(pipeline, labelled.X, labelled.y, cv=KFold(3), scoring=make_cinc_scorers(
        classes=labelled.classes)["macro_auroc"], return_estimator=True, error_score="raise")
    pretrained = [_pretrainer(dict(encoders.branches)[name]) for name in ("time", "spectrogram")]
    for fitted in result["estimator"]:
        for encoder, pretrainer in zip(fitted[-1].net_.module_.encoders, pretrained):
            for (name, weight), start in zip(encoder.named_parameters(), pretrainer.encoder_.parameters()):
                torch.testing.assert_close(weight.detach(), start, atol=1e-8, rtol=0, msg=name)
    assert np.isfinite(result["test_score"]).all()


def test_grid_search_over_a_pretrained_pipeline(encoders, labelled, monkeypatch):
    pipeline = _quick(make_default_pipeline(pretrained=encoders, classes=labelled.classes, finetune_epochs=1,
                                            random_state=0, **SINGLE))
    monkeypatch.setattr(SelfKDPretrainer, "fit", _no_pretraining)
    search = GridSearchCV(pipeline, {"classifier__fusion": ["gate", "concat"]}, cv=KFold(2),
                          scoring=make_cinc_scorers(classes=labelled.classes)["macro_auroc"], error_score="raise")
    search.fit(labelled.X, labelled.y)
    assert len(search.cv_results_["params"]) == 2
    assert search.predict_proba(labelled.X[:3]).shape == (3, len(labelled.classes))
    best = search.best_estimator_[-1]
    assert all(branch.estimator is dict(encoders.branches)[name] for name, branch in best.branches)


def _pretrainer(branch):
    return branch[-1] if hasattr(branch, "steps") else branch


def _no_pretraining(self, X, y=None):
    raise AssertionError("a branch was pretrained again")
