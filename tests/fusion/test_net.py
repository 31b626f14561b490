import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_ecg.fusion._net import Records, mean_probability_logit


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


def test_records_follow_the_index_repeat_and_copy_read_only_input():
    X = np.arange(12, dtype=np.float32).reshape(3, 1, 4)
    X.flags.writeable = False
    Y = np.eye(3, dtype=np.float32)
    data = Records(X, Y, np.array([2, 0]), repeats=2)
    assert len(data) == 4
    record, labels = data[3]  # second repeat of the second record of the index
    np.testing.assert_array_equal(record.numpy(), X[0])
    np.testing.assert_array_equal(labels.numpy(), Y[0])
    record += 1  # a copy: the input is untouched
    assert X[0, 0, 0] == 0
