import pytest
import torch

from sklearn_ecg.nn import ENCODER_PRESETS, SEResNet, XResNet1d, build_encoder, load_encoder_state


@pytest.mark.parametrize("kind, cls", [("xresnet1d", XResNet1d), ("se_resnet", SEResNet)])
def test_build_encoder_kinds_and_sizes(kind, cls):
    sizes = {size: build_encoder(kind, size, in_channels=5) for size in ENCODER_PRESETS[kind]}
    assert set(sizes) == {"tiny", "small", "paper"}
    assert all(isinstance(e, cls) and e.in_channels == 5 for e in sizes.values())
    n_params = {size: sum(p.numel() for p in e.parameters()) for size, e in sizes.items()}
    assert n_params["tiny"] < n_params["small"] < n_params["paper"]
    assert sizes["paper"].out_features == 512


@pytest.mark.parametrize("kwargs, match", [
    (dict(kind="resnet"), "Unknown encoder kind"),
    (dict(size="huge"), "Unknown encoder size"),
])
def test_build_encoder_rejects_unknown_names(kwargs, match):
    with pytest.raises(ValueError, match=match):
        build_encoder(**kwargs)


def test_strict_load_copies_every_weight():
    source = build_encoder("xresnet1d", "tiny", in_channels=3)
    with torch.no_grad():
        for p in source.parameters():
            p.normal_()
    target = load_encoder_state(build_encoder("xresnet1d", "tiny", in_channels=3), source.state_dict())
    x = torch.randn(2, 3, 60)
    torch.testing.assert_close(source.eval()(x), target.eval()(x))


@pytest.mark.parametrize("target_kwargs, match", [
    (dict(kind="xresnet1d", size="tiny", in_channels=12), "another shape"),
    (dict(kind="xresnet1d", size="small", in_channels=3), "missing"),
    (dict(kind="se_resnet", size="tiny", in_channels=3), "unexpected"),
])
def test_strict_load_refuses_mismatched_architecture(target_kwargs, match):
    source = build_encoder("xresnet1d", "tiny", in_channels=3)
    with pytest.raises(ValueError, match=match):
        load_encoder_state(build_encoder(**target_kwargs), source.state_dict())


def test_strict_load_refuses_prefixed_names():
    # The paper's fused model loaded weights saved under other names
    # non-strictly, so nothing was loaded; here that is an error.
    source = build_encoder("se_resnet", "tiny", in_channels=2)
    prefixed = {f"encoder.{k}": v for k, v in source.state_dict().items()}
    with pytest.raises(ValueError, match="missing"):
        load_encoder_state(build_encoder("se_resnet", "tiny", in_channels=2), prefixed)
