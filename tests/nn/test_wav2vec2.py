import math

import pytest
import torch

from sklearn_ecg.nn import (
    ECGTransformer,
    Wav2Vec2Objective,
    sample_negative_indices,
    span_mask,
)


def _runs(row):
    """Lengths of the runs of True in a boolean row."""
    padded = torch.cat([torch.tensor([False]), row, torch.tensor([False])]).int()
    edges = torch.diff(padded)
    return (torch.nonzero(edges == -1).flatten() - torch.nonzero(edges == 1).flatten()).tolist()


def test_span_mask_statistics_at_the_papers_settings():
    generator = torch.Generator().manual_seed(0)
    # int(0.65 * 156 / 10 + u) = 10 or 11 spans of 10 frames, overlapping:
    # about half the frames of a row (wav2vec 2.0 reports 49 %).
    single = torch.cat([span_mask((1, 156), generator) for _ in range(300)])
    assert 0.45 < single.float().mean() < 0.53
    # Spans start before n_frames - span (as in fairseq): every frame but
    # the last can be masked, the middle ones most often.
    assert single[:, :-1].any(dim=0).all()
    assert single[:, 40:120].float().mean() > 0.5
    # Rows of a batch are trimmed to the least-masked one's count.
    batch = span_mask((32, 156), generator)
    counts = batch.sum(dim=1)
    assert (counts == counts[0]).all() and counts[0] <= single.sum(dim=1).max()


def test_span_mask_masks_whole_spans_and_at_least_min_spans():
    mask = span_mask((500, 100), torch.Generator().manual_seed(1), mask_prob=0.0, span=7, min_spans=1)
    assert all(_runs(row) == [7] for row in mask)
    mask = span_mask((500, 31), torch.Generator().manual_seed(2), mask_prob=0.0, span=10, min_spans=2)
    assert int(mask[0].sum()) >= 10


def test_span_mask_is_seeded_and_rejects_too_few_frames():
    def draw(seed):
        return span_mask((8, 60), torch.Generator().manual_seed(seed))

    assert torch.equal(draw(0), draw(0)) and not torch.equal(draw(0), draw(1))
    with pytest.raises(ValueError, match="2 frames are too few for 2 masked spans"):
        span_mask((2, 2), torch.Generator())


def test_negatives_are_never_the_positive_and_cover_the_other_targets():
    indices = sample_negative_indices(3, 6, 2000, torch.Generator().manual_seed(0))
    assert indices.shape == (3, 6, 2000)
    own = torch.arange(6)[None, :, None]
    assert (indices != own).all() and indices.min() >= 0 and indices.max() <= 5
    for target in range(6):
        counts = torch.bincount(indices[:, target].flatten(), minlength=6)
        assert counts[target] == 0 and (counts[torch.arange(6) != target] > 900).all()
    with pytest.raises(ValueError, match="at least 2 masked frames"):
        sample_negative_indices(2, 1, 5, torch.Generator())


def _encoder(dropout=0.1):
    return ECGTransformer(conv_channels=16, width=16, n_layers=1, n_heads=2, ffn_width=32, dropout=dropout,
                          pos_conv_kernel=8, pos_conv_groups=4)


def _objective(**params):
    return Wav2Vec2Objective(16, 16, codebook_entries=8, code_dim=8, final_dim=8, **params)


def test_outputs_and_diversity_definition():
    encoder, objective = _encoder(), _objective(n_negatives=10)
    with torch.no_grad():
        out = objective(encoder, torch.randn(3, 12, 800), torch.Generator().manual_seed(0))
    assert out["context"].shape == (3, encoder.n_frames(800), 16)
    assert all(torch.isfinite(out[key]) for key in ("w2v", "diversity", "feature_penalty"))
    # Chance level of picking the target among 11 candidates is log(11).
    assert 0.3 * math.log(11) < float(out["w2v"]) < 3 * math.log(11)
    assert 0 <= float(out["diversity"]) < 1
    assert float(out["temperature"]) == 2.0


def test_logits_are_cosines_over_temperature_and_ignore_negatives_with_the_targets_code():
    objective = _objective(n_negatives=50)
    generator = torch.Generator().manual_seed(0)
    predictions, targets = torch.randn(2, 4, 8, generator=generator), torch.randn(2, 4, 8, generator=generator)
    codes = torch.tensor([[[0, 1], [0, 1], [2, 1], [3, 3]]] * 2)  # targets 0 and 1 share their code
    logits = objective._logits(predictions, targets, codes, torch.Generator().manual_seed(1))
    indices = sample_negative_indices(2, 4, 50, torch.Generator().manual_seed(1))
    assert logits.shape == (2, 4, 51)
    expected = torch.cosine_similarity(predictions, targets, dim=-1) / 0.1
    torch.testing.assert_close(logits[..., 0], expected)
    for b, i, k in [(0, 2, 0), (1, 3, 5), (1, 0, 7)]:
        j = indices[b, i, k]
        same_code = {int(i), int(j)} == {0, 1}
        value = torch.cosine_similarity(predictions[b, i], targets[b, j], dim=0) / 0.1
        assert torch.isinf(logits[b, i, 1 + k]) if same_code else torch.isclose(logits[b, i, 1 + k], value)
    assert torch.isinf(logits[:, :2, 1:]).any() and torch.isfinite(logits[:, 2:]).all()


def test_feature_grad_scale_scales_only_the_extractors_gradient():
    x = torch.randn(2, 12, 800)

    def gradients(scale):
        torch.manual_seed(0)
        encoder, objective = _encoder(dropout=0.0), _objective(
            feature_grad_scale=scale, input_dropout=0.0, target_dropout=0.0)
        out = objective(encoder, x, torch.Generator().manual_seed(1))
        (out["w2v"] + out["feature_penalty"]).backward()
        return encoder.feature_extractor[0][0].weight.grad, encoder.layers.layers[0].linear1.weight.grad

    extractor_full, transformer_full = gradients(1.0)
    extractor_scaled, transformer_scaled = gradients(0.1)
    torch.testing.assert_close(extractor_scaled, 0.1 * extractor_full)
    torch.testing.assert_close(transformer_scaled, transformer_full)
