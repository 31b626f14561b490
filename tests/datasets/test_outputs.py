import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.classes import scored_classes
from sklearn_ecg.datasets import read_challenge_output, write_challenge_outputs

CODES = ["164889003", "164890007", "426783006"]


def test_file_has_the_four_lines_of_the_challenge_format(tmp_path):
    (path,) = write_challenge_outputs(tmp_path / "out", ["A0001"], CODES, [[1, 0, 1]], [[0.75, 0.125, 0.5]])
    assert path == tmp_path / "out" / "A0001.csv"
    assert path.read_text().splitlines() == [
        "#A0001",
        "164889003,164890007,426783006",
        "1,0,1",
        "0.75,0.125,0.5",
    ]


@settings(max_examples=25, deadline=None)
@given(
    n_records=st.integers(1, 4),
    n_classes=st.integers(1, 24),
    seed=st.integers(0, 2**32 - 1),
)
def test_written_outputs_read_back_exactly(tmp_path_factory, n_records, n_classes, seed):
    rng = np.random.default_rng(seed)
    codes = rng.choice(scored_classes(2020).classes, n_classes, replace=False)
    labels = rng.integers(0, 2, (n_records, n_classes))
    # Any float64, tiny and huge magnitudes included: the text must round-trip.
    scores = rng.uniform(0, 1, (n_records, n_classes)) * 10.0 ** rng.integers(-300, 300, (n_records, 1))
    names = [f"R{i:04d}" for i in range(n_records)]
    folder = tmp_path_factory.mktemp("outputs")
    paths = write_challenge_outputs(folder, names, codes, labels, scores)
    for i, path in enumerate(paths):
        output = read_challenge_output(path)
        assert output.record == names[i]
        assert output.classes.tolist() == codes.tolist()
        np.testing.assert_array_equal(output.labels, labels[i])
        np.testing.assert_array_equal(output.scores, scores[i])


def test_boolean_labels_are_written_as_0_1(tmp_path):
    (path,) = write_challenge_outputs(tmp_path, ["E1"], CODES[:2], np.array([[True, False]]), [[0.6, 0.1]])
    assert path.read_text().splitlines()[2] == "1,0"


def test_reader_follows_the_official_parsing_rules(tmp_path):
    # Blank and comment lines skipped, fields stripped, True/T/t positive,
    # other tokens negative, scores that are not numbers or are NaN read as 0.
    path = tmp_path / "Q0001.csv"
    path.write_text(
        "# Q0001 \n\n# another comment\n 164889003 , 164890007,426783006, 713427006,59118001\n"
        "True, t, 0, yes, T\n 0.5, nan, abc, 1e-3, -2\n"
    )
    output = read_challenge_output(path)
    assert output.record == "Q0001"
    assert output.classes.tolist() == ["164889003", "164890007", "426783006", "713427006", "59118001"]
    assert output.labels.tolist() == [1, 1, 0, 0, 1]
    assert output.scores.tolist() == [0.5, 0.0, 0.0, 0.001, -2.0]


def test_file_without_record_line_has_no_record_name(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("164889003\n1\n0.9\n")
    assert read_challenge_output(path).record is None


@pytest.mark.parametrize(
    "text",
    [
        "#A1\n164889003,426783006\n1,0\n",  # no score line
        "#A1\n164889003,426783006\n1,0\n0.5\n",  # score line shorter than the codes
        "",
    ],
)
def test_malformed_file_is_refused_with_the_reason(tmp_path, text):
    path = tmp_path / "A1.csv"
    path.write_text(text)
    with pytest.raises(ValueError, match="not a challenge output file.*same number"):
        read_challenge_output(path)


def test_missing_or_binary_file_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="cannot read challenge output file"):
        read_challenge_output(tmp_path / "absent.csv")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="cannot read challenge output file"):
        read_challenge_output(binary)


@pytest.mark.parametrize(
    "names, codes, labels, scores, match",
    [
        (["A1", "A1"], CODES, [[1, 0, 0]] * 2, [[0.1] * 3] * 2, "record_names must be distinct"),
        (["../A1"], CODES, [[1, 0, 0]], [[0.1] * 3], "path separators"),
        ([""], CODES, [[1, 0, 0]], [[0.1] * 3], "non-empty"),
        (["A1"], ["164889003", "164889003", "1"], [[1, 0, 0]], [[0.1] * 3], "classes must be distinct"),
        (["A1"], ["1648,89003", "2", "3"], [[1, 0, 0]], [[0.1] * 3], "commas"),
        (["A1"], ["#1", "2", "3"], [[1, 0, 0]], [[0.1] * 3], "leading '#'"),
        (["A1"], [], np.zeros((1, 0)), np.zeros((1, 0)), "at least one code"),
        (["A1"], CODES, [[1, 0]], [[0.1] * 3], r"labels must have shape .*\(1, 3\)"),
        (["A1", "A2"], CODES, [[1, 0, 0]] * 2, [[0.1] * 3], r"scores must have shape .*\(2, 3\)"),
        (["A1"], CODES, [[2, 0, 0]], [[0.1] * 3], "labels must be 0/1"),
        (["A1"], CODES, [[1, 0, 0]], [[0.1, np.nan, 0.2]], "finite"),
        (["A1"], CODES, [[1, 0, 0]], [["a", "b", "c"]], "scores must be numbers"),
    ],
)
def test_bad_outputs_are_refused_before_writing(tmp_path, names, codes, labels, scores, match):
    with pytest.raises(ValueError, match=match):
        write_challenge_outputs(tmp_path / "out", names, codes, labels, scores)
    assert not (tmp_path / "out").exists()
