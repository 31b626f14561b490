"""Parse WFDB headers (``.hea``): challenge records and native WFDB records.

The challenge files are WFDB headers with a few dialects that
``wfdb.rdheader`` does not all accept: diagnosis lines written ``#Dx:`` or
``# Dx:``, a record line that names the signal file (``E00018.mat 12 500
5000``), and gains spelled ``1000/mV``, ``1000.0(0)/mV`` or ``1000.0(0)/mv``.
The format is a few whitespace-separated fields per line, so a small parser
that accepts all of them is simpler and faster than wfdb plus a fallback.
Native WFDB headers (PTB-XL, LUDB) parse the same way; LUDB writes its
comments ``#<age>: 51``.
"""

import math
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["RecordHeader", "parse_header", "read_header"]

# WFDB's DEFGAIN: a gain written as 0 (or not at all) means 200 ADC units per unit.
_DEFAULT_GAIN = 200.0

# gain[(baseline)][/units], e.g. "1000", "1000.0(0)/mV", "4880/mv", "200(-12)/uV".
_GAIN_FIELD = re.compile(
    r"^(?P<gain>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)"
    r"(?:\((?P<baseline>[+-]?\d+)\))?"
    r"(?:/(?P<units>\S+))?$"
)
# "Age: 61", "Dx: 1,2", and LUDB's "<age>: 61".
_COMMENT_FIELD = re.compile(r"^\s*<?(?P<key>[A-Za-z]+)>?\s*:(?P<value>.*)$")


@dataclass(frozen=True)
class RecordHeader:
    """What a WFDB header (challenge dialects included) says about its record.

    Attributes
    ----------
    name : str
        Record name from the record line (a ``.mat`` suffix removed).
    n_leads : int
        Number of signals.
    fs : float
        Sampling frequency in Hz.
    n_samples : int
        Samples per signal.
    signal_file : str
        File holding the samples, relative to the header's folder.
    lead_names : tuple of str
        Lead of each signal, as written in the header.
    gains : tuple of float
        ADC units per physical unit of each signal (0 read as WFDB's 200).
    baselines : tuple of float
        ADC value of 0 physical units: the number in parentheses after the
        gain, else the ADC zero field, as WFDB defines it.
    units : tuple of str
        Physical unit of each signal as written (``"mV"`` when absent).
    age : float
        Age in years, NaN when absent or not a number.
    sex : str
        Sex as written, ``""`` when absent.
    codes : tuple of str or None
        SNOMED-CT codes of the ``Dx`` line in file order (duplicates kept),
        ``()`` for an empty line, None without a ``Dx`` line.
    comments : tuple of str
        Every comment line, without its ``#``.
    formats : tuple of str
        WFDB storage format of each signal as written (``"16"``, ``"212"``,
        ``"16+24"``: format 16 from byte 24).
    """

    name: str
    n_leads: int
    fs: float
    n_samples: int
    signal_file: str
    lead_names: tuple
    gains: tuple
    baselines: tuple
    units: tuple
    age: float
    sex: str
    codes: tuple
    comments: tuple
    formats: tuple = ()

    @property
    def duration(self):
        """Length of the record in seconds."""
        return self.n_samples / self.fs


def read_header(path):
    """Read a challenge header file.

    Parameters
    ----------
    path : str or path-like
        The ``.hea`` file.

    Returns
    -------
    header : RecordHeader
        Parsed fields.

    Raises
    ------
    ValueError
        If the file cannot be read or is not a valid header; the message
        names the file.

    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ValueError(f"Cannot read header file {path}: {exc}") from exc
    # Headers are ASCII; a stray byte must give a parse error, not a UnicodeDecodeError.
    return parse_header(raw.decode("utf-8", errors="replace"), source=str(path))


def parse_header(text, *, source="<header>"):
    """Parse the text of a challenge header.

    Parameters
    ----------
    text : str
        Content of a ``.hea`` file.
    source : str, default="<header>"
        Name used in error messages (the file path).

    Returns
    -------
    header : RecordHeader
        Parsed fields.

    Raises
    ------
    ValueError
        If a record or signal line is malformed, or the number of signal
        lines differs from the record line's signal count.

    """
    lines = [line.strip() for line in text.splitlines()]
    comments = tuple(line[1:].strip() for line in lines if line.startswith("#"))
    fields = [line for line in lines if line and not line.startswith("#")]
    if not fields:
        raise ValueError(f"Unparsable header {source}: it has no record line.")
    name, n_leads, fs, n_samples = _parse_record_line(fields[0], source)
    signal_lines = fields[1:]
    if len(signal_lines) != n_leads:
        raise ValueError(
            f"Unparsable header {source}: the record line declares {n_leads} signals "
            f"but {len(signal_lines)} signal lines follow."
        )
    signals = [_parse_signal_line(line, i + 1, source) for i, line in enumerate(signal_lines)]
    files = sorted({signal["file"] for signal in signals})
    if len(files) != 1:
        raise ValueError(
            f"Unsupported header {source}: signals are spread over several files {files}."
        )
    age, sex, codes = _parse_comments(comments, source)
    return RecordHeader(
        name=name,
        n_leads=n_leads,
        fs=fs,
        n_samples=n_samples,
        signal_file=files[0],
        lead_names=tuple(s["lead"] for s in signals),
        gains=tuple(s["gain"] for s in signals),
        baselines=tuple(s["baseline"] for s in signals),
        units=tuple(s["units"] for s in signals),
        age=age,
        sex=sex,
        codes=codes,
        comments=comments,
        formats=tuple(s["format"] for s in signals),
    )


def _parse_record_line(line, source):
    """Return name, signal count, sampling frequency and length."""
    tokens = line.split()
    if len(tokens) < 4:
        raise ValueError(
            f"Unparsable header {source}: the record line {line!r} needs at least "
            "a name, a signal count, a sampling frequency and a length."
        )
    name = tokens[0]
    if "/" in name:
        raise ValueError(f"Unsupported header {source}: multi-segment record {name!r}.")
    # Some Georgia headers name the signal file here instead of the record.
    name = name[: -len(".mat")] if name.lower().endswith(".mat") else name
    # fs may carry a counter frequency, "500/1000(0)": the rate is before the slash.
    fs_text = tokens[2].split("/")[0]
    try:
        n_leads, fs, n_samples = int(tokens[1]), float(fs_text), int(tokens[3])
    except ValueError:
        raise ValueError(
            f"Unparsable header {source}: cannot read the signal count, sampling "
            f"frequency and length from the record line {line!r}."
        ) from None
    if n_leads < 1 or not (math.isfinite(fs) and fs > 0) or n_samples < 1:
        raise ValueError(
            f"Unparsable header {source}: the record line {line!r} declares "
            f"{n_leads} signals at {fs} Hz with {n_samples} samples."
        )
    return name, n_leads, fs, n_samples


def _parse_signal_line(line, number, source):
    """Return a signal line's file, gain, baseline, units and lead name."""
    tokens = line.split()
    if len(tokens) < 9:
        raise ValueError(
            f"Unparsable header {source}: signal line {number} ({line!r}) has "
            f"{len(tokens)} fields; 9 are needed to reach the lead name."
        )
    match = _GAIN_FIELD.match(tokens[2])
    if match is None:
        raise ValueError(
            f"Unparsable header {source}: cannot read the gain {tokens[2]!r} "
            f"of signal line {number}."
        )
    try:
        adc_zero = int(tokens[4])
    except ValueError:
        raise ValueError(
            f"Unparsable header {source}: the ADC zero {tokens[4]!r} of signal "
            f"line {number} is not an integer."
        ) from None
    gain = float(match["gain"]) or _DEFAULT_GAIN
    baseline = adc_zero if match["baseline"] is None else int(match["baseline"])
    return {
        "file": tokens[0],
        "format": tokens[1],
        "gain": gain,
        "baseline": float(baseline),
        "units": match["units"] or "mV",
        # The description field is the rest of the line and may hold spaces.
        "lead": " ".join(tokens[8:]),
    }


def _parse_comments(comments, source):
    """Return age, sex and diagnosis codes from ``Key: value`` comments."""
    values = {}
    for comment in comments:
        match = _COMMENT_FIELD.match(comment)
        if match is None:
            continue
        key = match["key"].lower()
        if key in ("age", "sex", "dx"):
            if key in values:
                raise ValueError(f"Unparsable header {source}: several {match['key']} lines.")
            values[key] = match["value"].strip()
    age = _parse_age(values.get("age", ""))
    codes = values.get("dx")
    if codes is not None:
        codes = tuple(code.strip() for code in codes.split(",") if code.strip())
    return age, values.get("sex", ""), codes


def _parse_age(text):
    # "NaN", "Unknown" and blanks all mean the age is not known.
    try:
        age = float(text)
    except ValueError:
        return math.nan
    return age if math.isfinite(age) else math.nan
