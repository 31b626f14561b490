"""PretrainedEncoders: branches pretrained once without labels, and the file that holds them.

An encoders file starts with a marker line and one line of JSON (format,
library version, method, size preset, sampling rate, window, leads,
modalities, records and folders pretrained on, epochs), then the pickled
:class:`PretrainedEncoders`. :func:`load_encoders` reads and checks the
header before it opens the pickle, as the command line does for model
files.
"""

import copy
import dataclasses
import math
import warnings
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state

from .. import __version__
from .._header_file import read_header, read_payload, write_with_header
from .._random import SKLEARN_SEED_BITS, draw_seed
from .._validation import check_signals
from ..preprocessing import LeadStandardizer

__all__ = ["PretrainedEncoders", "load_encoders", "read_encoders_header", "save_encoders"]

ENCODERS_MARKER = b"sklearn-ecg encoders\n"
FORMAT = 1
_WHAT = "an encoders file (of `sklearn-ecg pretrain` or save_encoders)"
_REQUIRED = ("version", "method", "size", "fs", "window", "leads", "modalities", "n_records", "sources",
             "epochs", "runs")


@dataclasses.dataclass(frozen=True, repr=False)
class PretrainedEncoders:
    """Branches pretrained once without labels, with what they were pretrained on.

    The start of :func:`~sklearn_ecg.pipelines.make_default_pipeline`'s
    ``pretrained`` option: its branches begin from these encoders and are
    fine-tuned with the labels of every fit (every fold of a
    cross-validation), without pretraining again. Made by
    :func:`~sklearn_ecg.pipelines.pretrain_encoders` (or ``sklearn-ecg
    pretrain``), kept with :func:`save_encoders` and :func:`load_encoders`.

    Parameters
    ----------
    branches : tuple of (str, estimator)
        Fitted branches named by their modality (``"time"``,
        ``"spectrogram"``), as :class:`~sklearn_ecg.fusion.GatedFusionClassifier`
        takes them: a pretrainer, or a pipeline ending in one.
    method : str
        The pretraining method (``"selfkd"``, ``"contrastive"``).
    size : str
        Encoder size preset.
    fs : float
        Sampling rate of the signals pretrained on, in Hz.
    window : float
        Window length of the pretraining crops, in seconds.
    leads : tuple of str
        Names of the input leads, in order.
    runs : tuple of dict
        One per pretraining run (the first, then each continuation):
        ``n_records``, ``sources`` (folders or other names of the data) and
        ``epochs`` (per branch).
    version : str, default=sklearn_ecg.__version__
        Library version that made them.

    Attributes
    ----------
    modalities : tuple of str
        The branch names.
    n_records, sources
        Records and sources of the latest run.
    epochs : dict
        Epochs trained per branch, over every run.
    header : dict
        What the file's header holds (JSON values), except its format.

    See Also
    --------
    sklearn_ecg.pipelines.pretrain_encoders : Pretrain them.
    save_encoders, load_encoders : Their file.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_ecg.pipelines import pretrain_encoders
    >>> pool = np.random.default_rng(0).normal(size=(16, 12, 300)).astype(np.float32)
    >>> encoders = pretrain_encoders(pool, size="tiny", epochs=1, random_state=0)
    >>> encoders.modalities, encoders.n_records, encoders.epochs
    (('time', 'spectrogram'), 16, {'time': 1, 'spectrogram': 1})
    >>> more = encoders.continue_pretraining(pool, epochs=1)
    >>> more.epochs, len(more.runs)
    ({'time': 2, 'spectrogram': 2}, 2)
    """

    branches: tuple
    method: str
    size: str
    fs: float
    window: float
    leads: tuple
    runs: tuple
    version: str = __version__

    @property
    def modalities(self):
        return tuple(name for name, _ in self.branches)

    @property
    def n_records(self):
        return self.runs[-1]["n_records"]

    @property
    def sources(self):
        return list(self.runs[-1]["sources"])

    @property
    def epochs(self):
        return {name: len(_pretrainer_of(branch).history_) for name, branch in self.branches}

    @property
    def header(self):
        return {
            "version": self.version, "method": self.method, "size": self.size, "fs": self.fs,
            "window": self.window, "leads": list(self.leads), "modalities": list(self.modalities),
            "n_records": self.n_records, "sources": self.sources, "epochs": self.epochs,
            "runs": [dict(run) for run in self.runs],
        }

    @classmethod
    def pretrain(cls, branches, X, *, method, size, fs, window, leads, sources=(), random_state=None):
        """Fit clones of ``branches`` on the unlabelled records ``X``.

        The signals are standardised per lead with their own statistics
        first, as the default pipeline standardises its training records
        before its branches.
        :func:`~sklearn_ecg.pipelines.pretrain_encoders` builds the branches
        of a method and calls this.

        Parameters
        ----------
        branches : list of (str, estimator)
            Unfitted branches named by modality.
        X : array-like of shape (n_records, n_leads, n_times)
            Unlabelled signals at ``fs``.
        method, size, fs, window, leads
            As the class's parameters.
        sources : sequence of str, default=()
            Names of the data, e.g. its folders.
        random_state : int, RandomState instance or None, default=None
            Seeds each ``random_state`` left as None in a branch.

        Returns
        -------
        encoders : PretrainedEncoders
        """
        X = _standardized_pool(X, leads)
        rng = check_random_state(random_state)
        fitted = []
        for name, estimator in branches:
            estimator = clone(estimator)
            params = estimator.get_params(deep=True)
            unset = [key for key, value in params.items()
                     if (key == "random_state" or key.endswith("__random_state")) and value is None]
            estimator.set_params(**{key: draw_seed(rng, bits=SKLEARN_SEED_BITS) for key in unset})
            fitted.append((name, estimator.fit(X)))
        encoders = cls(tuple(fitted), method, size, fs, window, tuple(leads), runs=())
        return dataclasses.replace(encoders, runs=(_run(X, sources, encoders.epochs),))

    def continue_pretraining(self, X, *, epochs=None, sources=(), device=None, verbose=None):
        """Pretrain ``epochs`` more epochs on ``X`` (warm start); returns new PretrainedEncoders.

        Each pretrainer continues from its state (weights, optimiser,
        schedule restarted for the new epochs); ``self`` is left as it was.
        ``X`` may be other records than before, with the same leads. Needs
        pretrainers with a ``warm_start`` parameter (self-KD; not the
        contrastive one).

        Parameters
        ----------
        X : array-like of shape (n_records, n_leads, n_times)
            Unlabelled signals at ``fs``.
        epochs : int, default=None
            Epochs of this run; None: as many as the first run.
        sources : sequence of str, default=()
            Names of the data, for the header.
        device, verbose : default=None
            The pretrainers' ``device`` and ``verbose`` for this run; None
            keeps theirs.

        Returns
        -------
        encoders : PretrainedEncoders
        """
        self.check_continuable()
        X = _standardized_pool(X, self.leads)
        epochs = epochs or max(self.runs[0]["epochs"].values())
        options = {"warm_start": True, "max_epochs": epochs, "device": device, "verbose": verbose}
        before = self.epochs
        branches = []
        for name, estimator in self.branches:
            estimator = copy.deepcopy(estimator)
            _pretrainer_of(estimator).set_params(**{key: value for key, value in options.items() if value is not None})
            branches.append((name, estimator.fit(X)))
        continued = dataclasses.replace(self, branches=tuple(branches), version=__version__)
        trained = {name: continued.epochs[name] - before[name] for name in before}
        return dataclasses.replace(continued, runs=(*self.runs, _run(X, sources, trained)))

    def check_continuable(self):
        """Raise a ValueError unless :meth:`continue_pretraining` can continue every branch (a warm start)."""
        cannot = sorted({type(_pretrainer_of(branch)).__name__ for _, branch in self.branches
                         if "warm_start" not in _pretrainer_of(branch).get_params()})
        if cannot:
            raise ValueError(f"The {self.method!r} encoders cannot be pretrained further: {', '.join(cannot)} has "
                             "no warm start. Pretrain them again with more epochs.")

    def frozen_branches(self, modalities=None):
        """The branches wrapped in ``FrozenEstimator``, for ``GatedFusionClassifier(pretraining="prefit")``.

        Frozen branches are used as they are, also by clones (as
        cross-validation and grid searches make), so that every fit
        fine-tunes from these encoders without pretraining again.

        Parameters
        ----------
        modalities : sequence of str or None, default=None
            Which branches, in this order (the gate's); None: all.

        Returns
        -------
        branches : list of (str, FrozenEstimator)
        """
        modalities = self.modalities if modalities is None else tuple(modalities)
        if not modalities or len(set(modalities)) != len(modalities):
            raise ValueError(f"modalities must be distinct branches, at least one; got {modalities!r}.")
        self.check_compatible(modalities=modalities)
        named = dict(self.branches)
        return [(name, FrozenEstimator(named[name])) for name in modalities]

    def check_compatible(self, *, fs=None, window=None, n_leads=None, modalities=None):
        """Raise a ValueError naming every way the data or model do not fit these encoders.

        Parameters
        ----------
        fs : float, optional
            Sampling rate of the signals in Hz.
        window : float, optional
            Window of the model in seconds.
        n_leads : int, optional
            Leads of the signals.
        modalities : sequence of str, optional
            Branches of the model.
        """
        problems = []
        if fs is not None and not math.isclose(fs, self.fs):
            problems.append(f"they were pretrained on signals at {self.fs:g} Hz, not {fs:g} Hz (load the records "
                            f"at {self.fs:g} Hz)")
        if window is not None and round(window * self.fs) != round(self.window * self.fs):
            problems.append(f"their window is {self.window:g} s, not {window:g} s")
        if n_leads is not None and n_leads != len(self.leads):
            problems.append(f"they take {len(self.leads)} leads ({', '.join(self.leads)}), not {n_leads} (give "
                            "absent leads as zero channels)")
        missing = [name for name in modalities or () if name not in self.modalities]
        if missing:
            problems.append(f"they have no {' or '.join(map(repr, missing))} branch (method {self.method!r} "
                            f"pretrains {', '.join(map(repr, self.modalities))})")
        if problems:
            raise ValueError(f"The pretrained encoders do not fit: {'; '.join(problems)}.")

    def __repr__(self):
        return (f"{type(self).__name__}(method={self.method!r}, size={self.size!r}, modalities={self.modalities!r}, "
                f"fs={self.fs!r}, window={self.window!r}, n_records={self.n_records!r})")


def save_encoders(encoders, path):
    """Write pretrained encoders to a file, atomically.

    The file starts with a plain-text header (a marker line, then one line
    of JSON: :attr:`PretrainedEncoders.header` and the format number) that
    :func:`load_encoders` checks before it unpickles anything.

    Parameters
    ----------
    encoders : PretrainedEncoders
    path : str or path-like

    Returns
    -------
    path : pathlib.Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> import numpy as np
    >>> from sklearn_ecg.pipelines import pretrain_encoders
    >>> from sklearn_ecg.pretraining import load_encoders, save_encoders
    >>> pool = np.random.default_rng(0).normal(size=(16, 12, 300)).astype(np.float32)
    >>> encoders = pretrain_encoders(pool, size="tiny", epochs=1, random_state=0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = save_encoders(encoders, pathlib.Path(folder, "encoders.joblib"))
    ...     loaded = load_encoders(path)
    >>> loaded.header == encoders.header
    True
    >>> loaded
    PretrainedEncoders(method='selfkd', size='tiny', modalities=('time', 'spectrogram'), fs=100, ...)
    """
    if not isinstance(encoders, PretrainedEncoders):
        raise TypeError(f"encoders must be PretrainedEncoders, got {type(encoders).__name__}.")
    return write_with_header(path, ENCODERS_MARKER, {"format": FORMAT, **encoders.header}, encoders)


def read_encoders_header(path):
    """The header of an encoders file, checked, without unpickling anything.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    header : dict
        ``format`` and the fields of :attr:`PretrainedEncoders.header`.

    Raises
    ------
    ValueError
        If the file does not exist, is not an encoders file, is of a newer
        format or has a damaged header.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"encoders file {str(path)!r} does not exist")
    header = read_header(path, ENCODERS_MARKER, _WHAT)
    if not isinstance(header.get("format"), int) or header["format"] > FORMAT:
        raise ValueError(f"{str(path)!r} has encoders format {header.get('format')!r}, which this sklearn-ecg "
                         f"({__version__}) cannot read; upgrade sklearn-ecg")
    missing = [key for key in _REQUIRED if key not in header]
    if missing:
        raise ValueError(f"encoders file {str(path)!r} is damaged: its header lacks {', '.join(missing)}")
    if not (_positive(header["fs"]) and _positive(header["window"]) and _strings(header["leads"])
            and _strings(header["modalities"])):
        raise ValueError(f"encoders file {str(path)!r} is damaged: fs={header['fs']!r}, window={header['window']!r}, "
                         f"leads={header['leads']!r}, modalities={header['modalities']!r}")
    return header


def load_encoders(path):
    """Read pretrained encoders written by :func:`save_encoders` or ``sklearn-ecg pretrain``.

    The header is read and checked first; the pickle is opened only if it
    is an encoders file of a format this version reads. Unpickling runs
    code: load only files from a trusted source. A file made by another
    library version loads with a warning.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    encoders : PretrainedEncoders

    Raises
    ------
    ValueError
        If the file does not exist, is not an encoders file, is of a newer
        format, or is damaged (its header and its contents disagree).
    """
    header = read_encoders_header(path)
    encoders = read_payload(path)
    stored = {key: value for key, value in header.items() if key != "format"}
    if not isinstance(encoders, PretrainedEncoders) or encoders.header != stored:
        raise ValueError(f"encoders file {str(path)!r} is damaged: its contents do not match its header")
    if encoders.version != __version__:
        warnings.warn(f"{path} was made by sklearn-ecg {encoders.version}, this is {__version__}",
                      UserWarning, stacklevel=2)
    return encoders


def _pretrainer_of(branch):
    """The pretrainer of a branch: the branch, or the last step of its pipeline."""
    return branch[-1] if isinstance(branch, Pipeline) else branch


def _standardized_pool(X, leads):
    """``X`` checked to have ``leads``, standardised per lead with its own statistics."""
    X = check_signals(X, ndim=3, dtype=np.float32)
    if X.shape[1] != len(leads):
        raise ValueError(f"X has {X.shape[1]} leads (shape {X.shape}), but the encoders take {len(leads)} "
                         f"({', '.join(leads)}); give absent leads as zero channels.")
    return LeadStandardizer().fit_transform(X)


def _run(X, sources, epochs):
    return {"n_records": int(len(X)), "sources": [str(source) for source in sources], "epochs": dict(epochs)}


def _positive(value):
    return isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def _strings(value):
    return isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)
