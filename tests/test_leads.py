import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.leads import LEAD_NAMES, LEAD_SETS, lead_indices


@pytest.mark.parametrize("size", sorted(LEAD_SETS))
def test_presets_have_their_size_and_standard_order(size):
    indices = lead_indices(size)
    assert len(indices) == size
    assert [LEAD_NAMES[i] for i in indices] == list(LEAD_SETS[size])


@given(st.lists(st.sampled_from(LEAD_NAMES), min_size=1, max_size=12, unique=True))
@settings(max_examples=50, deadline=None)
def test_names_in_any_order_and_case_give_sorted_indices(names):
    shuffled_case = [n.swapcase() for n in reversed(names)]
    indices = lead_indices(shuffled_case)
    assert indices == sorted(indices)
    assert {LEAD_NAMES[i] for i in indices} == set(names)


@pytest.mark.parametrize(
    "leads, message",
    [(5, "Unknown lead set"), (["I", "V7"], "Unknown lead name 'V7'"), ([], "At least one"),
     (["I", "i"], "unique")],
)
def test_bad_lead_sets_are_named(leads, message):
    with pytest.raises(ValueError, match=message):
        lead_indices(leads)
