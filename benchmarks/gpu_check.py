"""GPU check: fit the default pipeline on a GPU, serve it on a CPU-only process.

On a machine with CUDA, in one run:

1. load the development records (``load_physionet``, 100 Hz, first 10 s);
2. fit ``make_default_pipeline`` on them on the GPU and, with the same seed,
   on the CPU; time both fits and the predictions (records per second, the
   records tiled to ``--n-predict``);
3. save the GPU-fitted pipeline with ``joblib.dump``, load it in a child
   process whose CUDA is hidden (``CUDA_VISIBLE_DEVICES=""``), predict there,
   and compare those probabilities with the GPU process's.

It prints the CPU-vs-GPU throughput table and the largest probability
difference, and exits non-zero when the CPU-only process cannot load or
predict, or when the probabilities differ by more than ``--atol``
(convolutions on the GPU may use TF32, so the tolerance is not 1e-6; with
mixed precision the tolerance is that of its dtype, see ``MIXED_ATOL``).

``--precision`` sets ``precision`` of every torch step (``32``, ``bf16``,
``16``); several values give one GPU fit and one row each, so that
``--precision 32 bf16`` times bfloat16 against float32 in one run (the CPU
row uses the first). ``--pin-memory`` sets ``pin_memory=True``.

Usage::

    python benchmarks/gpu_check.py ../shared/data/physionet2020-dev
    python benchmarks/gpu_check.py DATA --precision 32 bf16 --pin-memory
    python benchmarks/gpu_check.py DATA --ensemble 5   # the cross-fitted ensemble
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import joblib
import numpy as np

# Largest accepted probability difference between the GPU and the CPU-only
# process for mixed precision: a bfloat16 logit carries 8 significant bits.
MIXED_ATOL = {"bf16": 5e-2, "16": 1e-2}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path, help="folder of PhysioNet/CinC records")
    parser.add_argument("--paper", action="store_true",
                        help="the paper's model (self-KD inside fit, one model, no blend) instead of the default "
                             "pipeline")
    parser.add_argument("--size", default=None, help="encoder size preset of the paper's model")
    parser.add_argument("--n-predict", type=int, default=2000, help="records per prediction timing")
    parser.add_argument("--atol", type=float, default=1e-3, help="largest accepted probability difference")
    parser.add_argument("--skip-cpu-fit", action="store_true", help="time the GPU fit only")
    parser.add_argument("--device", default="cuda", help="device under test (cpu: a dry run of the script)")
    parser.add_argument("--precision", nargs="+", default=["32"], choices=["32", "bf16", "16"],
                        help="precision of the torch steps; one GPU fit per value")
    parser.add_argument("--pin-memory", action="store_true", help="pin_memory=True in every torch step")
    parser.add_argument("--serve", nargs=2, metavar=("MODEL", "OUT"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def load(data_dir):
    from sklearn_ecg.datasets import load_physionet

    return load_physionet(data_dir, fs=100, duration=10.0, on_error="skip")


def timed(function, *args):
    start = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - start


def fit_on(device, data, args, precision):
    from sklearn_ecg.pipelines import make_default_pipeline

    paper = dict(pretrained=None, pretraining="fit", size=args.size, ensemble=None, blend=None) if args.paper else {}
    pipeline = make_default_pipeline(classes=data.classes, device=device, random_state=0, **paper)
    torch_options = {"precision": precision, "pin_memory": args.pin_memory}
    pipeline.set_params(**{name: torch_options[name.rsplit("__", 1)[-1]] for name in pipeline.get_params()
                           if name.rsplit("__", 1)[-1] in torch_options})
    _, fit_s = timed(pipeline.fit, data.X, data.y)
    tiled = np.resize(data.X, (args.n_predict, *data.X.shape[1:]))
    pipeline.predict_proba(tiled[:8])  # warm-up: CUDA context, cuDNN autotuning
    _, predict_s = timed(pipeline.predict_proba, tiled)
    return pipeline, fit_s, predict_s


def serve(model_path, out_path, data_dir):
    """Child process: CUDA is hidden; load the GPU-fitted model and predict."""
    import torch

    assert not torch.cuda.is_available(), "the serving process must not see CUDA"
    pipeline = joblib.load(model_path)
    np.save(out_path, pipeline.predict_proba(load(data_dir).X))


def main(argv=None):
    args = parse_args(argv)
    if args.serve:
        serve(*args.serve, args.data_dir)
        return 0
    import torch

    if args.device.startswith("cuda") and not torch.cuda.is_available():
        print("gpu_check: CUDA is not available on this machine; nothing to check.", file=sys.stderr)
        return 2
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    data = load(args.data_dir)
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    print(f"{len(data.X)} records, {data.X.shape[1]} leads x {data.X.shape[2]} samples; GPU: {gpu}; "
          f"torch {torch.__version__}; {torch.get_num_threads()} CPU threads", flush=True)

    rows, models = [], {}
    for precision in args.precision:
        models[precision], fit_s, predict_s = fit_on(args.device, data, args, precision)
        rows.append((args.device, precision, fit_s, predict_s))
    if not args.skip_cpu_fit:
        _, cpu_fit_s, cpu_predict_s = fit_on("cpu", data, args, args.precision[0])
        rows.append(("cpu", args.precision[0], cpu_fit_s, cpu_predict_s))

    print(f"\n| device | precision | fit s ({len(data.X)} records) | train records/s | predict records/s "
          f"({args.n_predict} records) |")
    print("|---|---|---|---|---|")
    for device, precision, fit_s, predict_s in rows:
        print(f"| {device} | {precision} | {fit_s:.1f} | {len(data.X) / fit_s:.1f} "
              f"| {args.n_predict / predict_s:.0f} |")

    failed = False
    for precision, gpu_model in models.items():
        failed |= not serve_on_cpu(gpu_model, args, precision)
    return 1 if failed else 0


def serve_on_cpu(gpu_model, args, precision):
    """Pickle the GPU-fitted model, predict in a CUDA-hidden child process, compare; True if within tolerance."""
    gpu_proba = gpu_model.predict_proba(load(args.data_dir).X)
    with tempfile.TemporaryDirectory() as folder:
        model_path, out_path = Path(folder, "model.joblib"), Path(folder, "proba.npy")
        joblib.dump(gpu_model, model_path)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
        child = subprocess.run(
            [sys.executable, __file__, str(args.data_dir), "--serve", str(model_path), str(out_path)],
            env=env, capture_output=True, text=True,
        )
        if child.returncode != 0:
            print(child.stderr[-4000:], file=sys.stderr)
            print(f"gpu_check: FAILED: the CPU-only process could not load or predict (precision {precision})",
                  file=sys.stderr)
            return False
        cpu_proba = np.load(out_path)

    atol = max(args.atol, MIXED_ATOL.get(precision, 0.0))
    difference = float(np.abs(gpu_proba - cpu_proba).max())
    print(f"\nprecision {precision}: GPU-fitted model served on a CPU-only process: max |proba difference| = "
          f"{difference:.2e} (atol {atol:g}); same decisions on "
          f"{np.mean((gpu_proba > 0.5) == (cpu_proba > 0.5)):.4f} of the entries")
    return difference <= atol


if __name__ == "__main__":
    sys.exit(main())
