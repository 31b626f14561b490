import numpy as np
import pandas as pd
import pytest

from sklearn_ecg.datasets import make_synthetic_ecg
from sklearn_ecg.fusion import GatedFusionClassifier
from sklearn_ecg.model_selection import MultilabelThresholdTuner
from sklearn_ecg.pipelines import make_default_pipeline
from sklearn_ecg.preprocessing import LeadStandardizer, STFTSpectrogram
from sklearn_ecg.pretraining import SelfKDPretrainer


def _branch_names(pipeline):
    return [name for name, _ in pipeline[-1].branches]


def test_default_pipeline_fuses_time_and_spectrogram_with_a_gate():
    pipeline = make_default_pipeline(fs=100, window=2.5, random_state=0)
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
    pipeline = make_default_pipeline(branches=branches, fusion="concat", pretraining=None)
    expected = [branches] if isinstance(branches, str) else list(branches)
    assert _branch_names(pipeline) == expected
    assert pipeline[-1].fusion == "concat" and pipeline[-1].pretraining is None


def test_options_reach_every_step():
    pipeline = make_default_pipeline(
        pretrain_epochs=3, finetune_epochs=4, lead_mask_proba=0.0, device="cpu", random_state=7
    )
    classifier = pipeline[-1]
    assert (classifier.max_epochs, classifier.lead_mask_proba, classifier.random_state) == (4, 0.0, 7)
    pretrainers = [classifier.branches[0][1], classifier.branches[1][1][-1]]
    assert [(p.max_epochs, p.lead_mask_proba, p.device) for p in pretrainers] == [(3, 0.0, "cpu")] * 2


@pytest.mark.parametrize("branches", [(), ("time", "time"), ("time", "frequency"), ["ecg"]])
def test_unknown_or_repeated_branches_are_refused(branches):
    with pytest.raises(ValueError, match="branches must be distinct modalities"):
        make_default_pipeline(branches=branches)


def test_ensemble_cross_fits_classifiers_trained_on_all_their_records():
    pipeline = make_default_pipeline(ensemble=3, classes=["426783006"], random_state=4)
    tuner = pipeline.named_steps["classifier"]
    assert isinstance(tuner, MultilabelThresholdTuner)
    assert (tuner.cv, tuner.ensemble, tuner.random_state, list(tuner.classes)) == (3, True, 4, ["426783006"])
    classifier = tuner.estimator
    assert isinstance(classifier, GatedFusionClassifier) and classifier.random_state == 4
    assert (classifier.validation_fraction, classifier.n_iter_no_change, classifier.threshold) == (None, None, 0.5)
    # Without ensemble, the classifier keeps its validation split for thresholds and early stopping.
    single = make_default_pipeline()[-1]
    assert (single.validation_fraction, single.threshold) == (0.1, "tuned")


@pytest.mark.parametrize("ensemble", [1, 0, 2.5, True, "5"])
def test_ensemble_must_be_an_int_of_at_least_two(ensemble):
    with pytest.raises(ValueError, match="ensemble must be None or an int >= 2"):
        make_default_pipeline(ensemble=ensemble)


@pytest.mark.parametrize("ensemble", [None, 2])
def test_tuning_metric_and_year_reach_the_threshold_tuning(ensemble):
    tuned = make_default_pipeline(ensemble=ensemble, tuning_scoring="macro_f1", year=2021,
                                  classes=["NORM", "MI"])[-1]
    classifier = tuned if ensemble is None else tuned.estimator
    assert (classifier.tuning_scoring, classifier.year) == ("macro_f1", 2021)
    if ensemble is not None:
        assert (tuned.scoring, tuned.year, list(tuned.classes)) == ("macro_f1", 2021, ["NORM", "MI"])


@pytest.fixture(scope="module")
def labelled():
    data = make_synthetic_ecg(24, duration=3.0, random_state=0)
    return data.X, pd.DataFrame(data.y, columns=data.classes)


def test_a_dataframe_y_names_the_classes_of_the_classifier(labelled):
    X, Y = labelled
    # No classes given: the column names are the codes that tune the thresholds on the challenge metric.
    pipeline = make_default_pipeline(branches=["time"], pretraining=None, finetune_epochs=1, random_state=0)
    np.testing.assert_array_equal(pipeline.fit(X, Y)[-1].classes_, Y.columns)


@pytest.mark.parametrize("ensemble", [None, 2])
def test_dataframe_columns_in_another_order_than_classes_are_refused(labelled, ensemble):
    X, Y = labelled
    pipeline = make_default_pipeline(classes=list(Y.columns), ensemble=ensemble)
    with pytest.raises(ValueError, match="disagree with classes.*another order"):
        pipeline.fit(X, Y[Y.columns[::-1]])
