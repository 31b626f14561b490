"""Data-parallel training through Hugging Face accelerate (``accelerator="accelerate"``).

Two CPU processes (gloo, started by ``torch.distributed.run``, what
``accelerate launch`` runs) train one fit; it must follow the loss curve of
one process within a tolerance, log the same (process-averaged) losses in
every process and write one model file, which loads and predicts in a
process without accelerate. Skipped when accelerate is not installed.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap

import joblib
import numpy as np
import pytest

pytest.importorskip("accelerate", reason="accelerate is not installed (pip install 'sklearn-ecg[accelerate]')")

pytestmark = pytest.mark.slow

# One fit per estimator on records with a learnable class: the first half
# carries a sine wave.
SCRIPT = textwrap.dedent('''
    import json, os, sys
    import joblib, numpy as np, torch
    torch.set_num_threads(1)
    from sklearn_ecg.fusion import GatedFusionClassifier
    from sklearn_ecg.pretraining import SelfKDPretrainer

    out, kind = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 12, 300)).astype(np.float32)
    X[:32] += np.sin(np.arange(300) / 5.0).astype(np.float32)
    Y = np.zeros((64, 2), dtype=int)
    Y[:32, 0] = Y[32:, 1] = 1
    common = dict(max_epochs=6, batch_size=16, device="cpu", accelerator="accelerate", random_state=0)
    if kind == "pretrainer":
        model = SelfKDPretrainer(size="tiny", window=100, n_local_crops=1, n_prototypes=16, **common).fit(X)
    else:
        model = GatedFusionClassifier(
            branches=[("time", SelfKDPretrainer(size="tiny", window=100))], pretraining=None, window=100,
            hidden_size=16, crops_per_record=2, validation_fraction=0.25, n_iter_no_change=None, **common,
        ).fit(X, Y)
    rank = int(os.environ.get("RANK", "0"))
    with open(os.path.join(out, f"losses_{rank}.json"), "w") as f:
        json.dump([float(loss) for loss in model.history_[:, "train_loss"]], f)
    if rank == 0:
        joblib.dump(model, os.path.join(out, "model.joblib"))
''')


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fit(tmp_path, kind, n_processes):
    out = tmp_path / f"{kind}_{n_processes}"
    out.mkdir()
    script = tmp_path / "fit.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if n_processes == 1:
        command = [sys.executable, str(script), str(out), kind]
    else:
        command = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={n_processes}",
                   f"--master_port={_free_port()}", str(script), str(out), kind]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    losses = [json.loads((out / f"losses_{rank}.json").read_text()) for rank in range(n_processes)]
    return out, losses


@pytest.mark.parametrize("kind, tolerance", [("pretrainer", 0.1), ("classifier", 0.5)])
def test_two_processes_follow_the_loss_curve_of_one_and_write_one_model(tmp_path, kind, tolerance):
    _, (single,) = _fit(tmp_path, kind, 1)
    out, (first, second) = _fit(tmp_path, kind, 2)
    # Every process logs the loss averaged over both: the same history, so
    # that early stopping would decide alike everywhere.
    assert first == second
    # Each process draws its own crops and normalises its half batch, so the
    # curves differ by sampling noise, not in trend: within ``tolerance``
    # (relative) epoch by epoch. The classifier's 36 steps on 48 records are
    # noisy: one-process curves of random_state 0, 1 and 2 differ by up to 45 %.
    np.testing.assert_allclose(first, single, rtol=tolerance)
    if kind == "classifier":
        assert first[-1] < 0.7 * first[0] and single[-1] < 0.7 * single[0]
    assert sorted(path.name for path in out.iterdir()) == ["losses_0.json", "losses_1.json", "model.joblib"]
    # The model file loads and predicts where accelerate cannot be imported.
    check = (
        "import sys; sys.modules['accelerate'] = None\n"
        "import joblib, numpy as np\n"
        f"model = joblib.load({str(out / 'model.joblib')!r})\n"
        "X = np.zeros((3, 12, 300), np.float32)\n"
        "out = model.transform(X) if hasattr(model, 'transform') else model.predict_proba(X)\n"
        "print(len(out), bool(np.isfinite(out).all()))\n"
    )
    result = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.split()[-2:] == ["3", "True"]


def test_the_fitted_model_is_a_plain_net_without_accelerate_state(tmp_path):
    out, _ = _fit(tmp_path, "classifier", 1)
    model = joblib.load(out / "model.joblib")
    net = model.net_
    assert type(net).__name__ == "SignalFusionNet" and not hasattr(net, "accelerator")
    assert type(net.optimizer_).__module__.startswith("torch.optim")
    assert net.device == "cpu"
