import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.datasets._header import parse_header, read_header

LEADS = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")


def _header_text(record_line, gain_fields, comments, lead_names=LEADS, signal_file="R1.mat"):
    lines = [record_line]
    lines += [
        f"{signal_file} 16+24 {gain} 16 0 {i} 0 0 {lead}"
        for i, (gain, lead) in enumerate(zip(gain_fields, lead_names))
    ]
    return "\n".join(lines + list(comments)) + "\n"


@pytest.mark.parametrize(
    "prefix", ["#", "# ", "#  "], ids=["no-space-2020", "space-2021", "two-spaces"]
)
def test_comment_dialects(prefix):
    comments = [f"{prefix}Age: 74", f"{prefix}Sex: Male", f"{prefix}Dx: 59118001,426783006"]
    header = parse_header(_header_text("R1 12 500 7500", ["1000/mV"] * 12, comments))
    assert header.age == 74.0
    assert header.sex == "Male"
    assert header.codes == ("59118001", "426783006")


def test_record_line_naming_the_mat_file():
    # Georgia's dialect, which wfdb.rdheader rejects.
    header = parse_header(
        _header_text("E00018.mat 12 500 5000 05-May-2020 14:50:55", ["4880/mV"] * 12, ["#Dx: 1"])
    )
    assert (header.name, header.n_leads, header.fs, header.n_samples) == ("E00018", 12, 500.0, 5000)
    assert header.signal_file == "R1.mat"


@pytest.mark.parametrize(
    "field, gain, baseline, units",
    [
        ("1000/mV", 1000.0, 0.0, "mV"),
        ("1000.0(0)/mV", 1000.0, 0.0, "mV"),
        ("1000.0(0)/mv", 1000.0, 0.0, "mv"),
        ("4880/mV", 4880.0, 0.0, "mV"),
        ("200(-12)/uV", 200.0, -12.0, "uV"),
        ("2.5e3", 2500.0, 0.0, "mV"),
        ("0/mV", 200.0, 0.0, "mV"),  # WFDB: a zero gain means the default 200
    ],
)
def test_gain_spellings(field, gain, baseline, units):
    header = parse_header(_header_text("R1 12 500 5000", [field] * 12, ["#Dx: 1"]))
    assert header.gains == (gain,) * 12
    assert header.baselines == (baseline,) * 12
    assert header.units == (units,) * 12


def test_baseline_defaults_to_adc_zero():
    text = "R1 1 500 10\nR1.mat 16+24 1000/mV 16 7 0 0 0 I\n"
    assert parse_header(text).baselines == (7.0,)
    text = "R1 1 500 10\nR1.mat 16+24 1000(3)/mV 16 7 0 0 0 I\n"
    assert parse_header(text).baselines == (3.0,)


def test_record_line_with_counter_frequency_and_non_integer_rate():
    text = "R1 1 257.5/1000(0) 12345\nR1.mat 16x1+24 1000.0(0)/mV 16 0 0 0 0 I\n"
    header = parse_header(text)
    assert header.fs == 257.5
    assert header.duration == pytest.approx(12345 / 257.5)


def test_lead_name_with_spaces_and_missing_comments():
    header = parse_header("R1 1 500 10\nR1.mat 16 1000 16 0 0 0 0 lead I (limb)\n")
    assert header.lead_names == ("lead I (limb)",)
    assert header.codes is None
    assert math.isnan(header.age)
    assert header.sex == ""
    assert header.comments == ()


@pytest.mark.parametrize(
    "line, codes",
    [
        ("#Dx:", ()),
        ("# Dx:   ", ()),
        ("#Dx: 164889003,", ("164889003",)),
        ("#Dx: 164889003 , 59118001", ("164889003", "59118001")),
        ("#Dx: 284470004,284470004", ("284470004", "284470004")),
    ],
)
def test_dx_line(line, codes):
    assert parse_header(_header_text("R1 12 500 10", ["1000/mV"] * 12, [line])).codes == codes


@pytest.mark.parametrize("age", ["NaN", "Unknown", "", "nan", "inf"])
def test_unknown_age_is_nan(age):
    header = parse_header(_header_text("R1 12 500 10", ["1000/mV"] * 12, [f"#Age: {age}"]))
    assert math.isnan(header.age)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "no record line"),
        ("# only a comment\n", "no record line"),
        ("R1 12 500\n", "needs at least"),
        ("R1 12 abc 5000\n", "cannot read"),
        ("R1 twelve 500 5000\n", "cannot read"),
        ("R1 1 500 0\nR1.mat 16 1000 16 0 0 0 0 I\n", "declares 1 signals at 500.0 Hz with 0"),
        ("R1 1 -500 10\nR1.mat 16 1000 16 0 0 0 0 I\n", "declares"),
        ("R1/2 1 500 10\nR1.mat 16 1000 16 0 0 0 0 I\n", "multi-segment"),
        ("R1 2 500 10\nR1.mat 16 1000 16 0 0 0 0 I\n", "declares 2 signals but 1 signal lines"),
        (
            "R1 1 500 10\nR1.mat 16 1000 16 0 0 0 0 I\nR1.mat 16 1000 16 0 0 0 0 II\n",
            "2 signal lines",
        ),
        ("R1 1 500 10\nR1.mat 16 1000/mV 16 0 0 0\n", "9 are needed"),
        ("R1 1 500 10\nR1.mat 16 abc/mV 16 0 0 0 0 I\n", "cannot read the gain 'abc/mV'"),
        ("R1 1 500 10\nR1.mat 16 1000(x)/mV 16 0 0 0 0 I\n", "cannot read the gain"),
        ("R1 1 500 10\nR1.mat 16 1000/mV 16 zero 0 0 0 I\n", "ADC zero 'zero'"),
        (
            "R1 2 500 10\nR1.mat 16 1000 16 0 0 0 0 I\nR2.mat 16 1000 16 0 0 0 0 II\n",
            "several files",
        ),
        ("R1 1 500 10\nR1.mat 16 1000 16 0 0 0 0 I\n#Dx: 1\n# Dx: 2\n", "several Dx lines"),
    ],
)
def test_malformed_headers_raise_naming_the_source(text, message):
    with pytest.raises(ValueError, match="my.hea") as info:
        parse_header(text, source="my.hea")
    assert message in str(info.value)


def test_read_header_errors_name_the_file(tmp_path):
    with pytest.raises(ValueError, match="Cannot read header file .*missing.hea"):
        read_header(tmp_path / "missing.hea")
    garbage = tmp_path / "garbage.hea"
    garbage.write_bytes(b"\xff\xfe\x00binary \x80 junk\n")
    with pytest.raises(ValueError, match="garbage.hea"):
        read_header(garbage)


def test_read_header_reads_a_file(tmp_path):
    path = tmp_path / "A1.hea"
    path.write_text(_header_text("A1 12 1000 10500", ["1000.0(0)/mv"] * 12, ["# Dx: 426783006"]))
    header = read_header(path)
    assert header.fs == 1000.0 and header.n_samples == 10500 and header.duration == 10.5
    assert header.lead_names == LEADS


# --- property test: any header in any dialect round-trips through the parser ---

_OTHER_COMMENTS = ["Rx: Unknown", "Hx: Unknown", "Sx: Unknown"]
_codes = st.lists(st.integers(10_000, 10**15).map(str), min_size=1, max_size=6)
_gains = st.one_of(
    st.integers(1, 50_000).map(float),
    st.floats(0.01, 1e5, allow_nan=False, allow_infinity=False),
)


@st.composite
def _headers(draw):
    n_leads = draw(st.integers(1, 15))
    names = st.sampled_from(LEADS + ("X", "Y", "Z", "V3R"))
    leads = draw(st.lists(names, min_size=n_leads, max_size=n_leads))
    gains = draw(st.lists(_gains, min_size=n_leads, max_size=n_leads))
    baselines = draw(st.lists(st.integers(-2048, 2048), min_size=n_leads, max_size=n_leads))
    fs = draw(st.sampled_from([100.0, 250.0, 257.0, 500.0, 1000.0, 360.5]))
    n_samples = draw(st.integers(1, 10**7))
    fields = []
    for gain, baseline in zip(gains, baselines):
        number = repr(gain)
        if gain.is_integer():
            number = draw(st.sampled_from([str(int(gain)), f"{gain:.1f}", repr(gain)]))
        units = draw(st.sampled_from(["/mV", "/mv", "/uV", ""]))
        fields.append((f"{number}({baseline}){units}", units[1:] or "mV", baseline))
    return dict(
        name=draw(st.from_regex(r"[A-Z]{1,2}[0-9]{1,5}", fullmatch=True)),
        mat_suffix=draw(st.booleans()),
        date=draw(st.sampled_from(["", " 05-May-2020 14:50:55", " 14:50:55"])),
        n_leads=n_leads,
        leads=leads,
        gains=gains,
        fields=fields,
        fs=fs,
        n_samples=n_samples,
        prefix=draw(st.sampled_from(["#", "# "])),
        age=draw(st.one_of(st.none(), st.integers(0, 110), st.just("NaN"))),
        sex=draw(st.one_of(st.none(), st.sampled_from(["Male", "Female", "Unknown"]))),
        codes=draw(_codes),
        extra=draw(st.lists(st.sampled_from(_OTHER_COMMENTS), max_size=3, unique=True)),
    )


@settings(max_examples=60, deadline=None)
@given(spec=_headers())
def test_parse_round_trips_generated_headers(spec):
    name = spec["name"] + (".mat" if spec["mat_suffix"] else "")
    fs = f"{spec['fs']:g}"
    lines = [f"{name} {spec['n_leads']} {fs} {spec['n_samples']}{spec['date']}"]
    for (field, _, _), lead in zip(spec["fields"], spec["leads"]):
        lines.append(f"{spec['name']}.mat 16x1+24 {field} 16 0 0 0 0 {lead}")
    p = spec["prefix"]
    if spec["age"] is not None:
        lines.append(f"{p}Age: {spec['age']}")
    if spec["sex"] is not None:
        lines.append(f"{p}Sex: {spec['sex']}")
    lines.append(f"{p}Dx: {','.join(spec['codes'])}")
    lines += [p + extra for extra in spec["extra"]]

    header = parse_header("\n".join(lines))

    assert header.name == spec["name"]
    assert header.n_leads == spec["n_leads"]
    assert header.fs == spec["fs"]
    assert header.n_samples == spec["n_samples"]
    assert header.signal_file == f"{spec['name']}.mat"
    assert header.lead_names == tuple(spec["leads"])
    assert header.gains == tuple(spec["gains"])
    assert header.units == tuple(units for _, units, _ in spec["fields"])
    assert header.baselines == tuple(float(b) for _, _, b in spec["fields"])
    assert header.codes == tuple(spec["codes"])
    if spec["age"] in (None, "NaN"):
        assert math.isnan(header.age)
    else:
        assert header.age == spec["age"]
    assert header.sex == (spec["sex"] or "")
    assert len(header.comments) == len(lines) - 1 - spec["n_leads"]


# --- the real files: agree with wfdb wherever wfdb can read them ---


def test_dev_headers_agree_with_wfdb(dev_data_dir):
    wfdb = pytest.importorskip("wfdb")
    n_rejected = 0
    for path in sorted(dev_data_dir.glob("*.hea")):
        header = read_header(path)
        try:
            reference = wfdb.rdheader(str(path.with_suffix("")))
        except Exception:  # wfdb's HeaderSyntaxError on the ".mat" record lines
            n_rejected += 1
            assert path.read_text().split()[0].endswith(".mat")
            assert header.n_leads == 12 and header.codes
            continue
        assert header.fs == reference.fs
        assert header.n_samples == reference.sig_len
        assert header.lead_names == tuple(reference.sig_name)
        assert header.gains == tuple(reference.adc_gain)
        assert header.baselines == tuple(float(b) for b in reference.baseline)
        assert header.units == tuple(reference.units)
        assert header.comments == tuple(c.strip() for c in reference.comments)
    assert n_rejected == 11  # the dialect README.md describes
