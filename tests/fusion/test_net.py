import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.fusion._net import mean_probability_logit


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-15, 15), min_size=1, max_size=8))
def test_record_logit_is_the_logit_of_the_mean_window_probability(values):
    logits = torch.tensor(values, dtype=torch.float64)[:, None]
    mean = torch.sigmoid(logits).mean()
    expected = torch.log(mean) - torch.log1p(-mean)
    torch.testing.assert_close(mean_probability_logit(logits, dim=0)[0], expected, rtol=1e-7, atol=1e-7)


def test_record_logit_stays_finite_where_sigmoid_saturates():
    logits = torch.tensor([[200.0], [300.0]])
    assert mean_probability_logit(logits, dim=0).item() > 199
    assert mean_probability_logit(-logits, dim=0).item() < -199
    # One window keeps its own logit.
    torch.testing.assert_close(mean_probability_logit(torch.tensor([[-3.0]]), dim=0), torch.tensor([-3.0]))
