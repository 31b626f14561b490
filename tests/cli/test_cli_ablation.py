import csv
import json

from sklearn_ecg.cli import main

TINY = ["--n-records", "24", "--folds", "2", "--duration", "5", "--pretrain-epochs", "1",
        "--epochs", "1", "--quiet"]
METRICS = ["challenge", "macro_auroc", "macro_auprc", "accuracy", "macro_f1", "f2", "g2"]


def _read(path):
    with open(path, newline="") as stream:
        return list(csv.DictReader(stream))


def test_ablation_writes_both_tables(tmp_path, capsys):
    assert main(["ablation", *TINY, "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "ablation" in printed and "lead_sets" in printed

    ablation = _read(tmp_path / "ablation.csv")
    assert [(row["model"], row["pretraining"]) for row in ablation] == [
        (model, pretraining)
        for model in ("time only", "spectrogram only", "concatenation", "gate")
        for pretraining in ("self-KD", "none")
    ]
    assert list(ablation[0]) == ["model", "pretraining", *METRICS, "challenge_fold_std"]
    for row in ablation:
        assert 0 <= float(row["macro_auroc"]) <= 1

    leads = _read(tmp_path / "lead_sets.csv")
    assert [(row["lead masking"], row["leads"]) for row in leads] == [
        (masking, str(k)) for masking in ("random", "none") for k in (12, 6, 4, 3, 2, 1)
    ]
    # The gated, pretrained model with the default masking is in both tables,
    # and its 12-lead row is the unmasked test records: the same figures.
    gate = next(row for row in ablation if row["model"] == "gate" and row["pretraining"] == "self-KD")
    assert all(leads[0][metric] == gate[metric] for metric in METRICS)
    # A model scored on fewer leads sees other inputs: its scores change.
    assert len({leads[i]["macro_auroc"] for i in range(6)}) > 1

    report = json.loads((tmp_path / "ablation.json").read_text())
    assert len(report["runs"]) == 9  # 8 ablation models + the unmasked one, the shared one once
    assert all(len(run["folds"]) == 2 for run in report["runs"])
    assert report["tables"]["ablation"][0]["model"] == "time only"


def test_one_table_only(tmp_path, capsys):
    assert main(["ablation", *TINY, "--tables", "leads", "-o", str(tmp_path)]) == 0
    assert "lead_sets" in capsys.readouterr().out
    assert not (tmp_path / "ablation.csv").exists()
    assert len(_read(tmp_path / "lead_sets.csv")) == 12
    assert len(json.loads((tmp_path / "ablation.json").read_text())["runs"]) == 2
