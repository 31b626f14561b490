import os
from pathlib import Path

import pytest
import torch

# The tests' models are small and gain nothing from more threads, while
# pytest-xdist runs one worker per core: torch's own thread pool in each worker
# would oversubscribe the cores, and OpenMP's busy-waiting then makes small
# convolutions tens of times slower.
torch.set_num_threads(1)

# The real challenge records live beside the checkout, never inside it; a
# user's fresh clone has no ../shared, so tests that need them skip.
_DEFAULT_DEV_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "physionet2020-dev"
DEV_DATA_DIR = Path(os.environ.get("SKLEARN_ECG_DEV_DATA", _DEFAULT_DEV_DIR))
_DEFAULT_REFERENCE_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "reference"
REFERENCE_DIR = Path(os.environ.get("SKLEARN_ECG_REFERENCE", _DEFAULT_REFERENCE_DIR))


@pytest.fixture(scope="session")
def dev_data_dir():
    """Folder of the 247 real PhysioNet development records, or skip."""
    if not (DEV_DATA_DIR / "index.csv").is_file():
        pytest.skip(f"PhysioNet development records not found at {DEV_DATA_DIR}")
    return DEV_DATA_DIR


@pytest.fixture(scope="session")
def reference_dir():
    """Folder of the reference material (golden metric cases), or skip."""
    if not (REFERENCE_DIR / "cinc").is_dir():
        pytest.skip(f"Reference material not found at {REFERENCE_DIR}")
    return REFERENCE_DIR
