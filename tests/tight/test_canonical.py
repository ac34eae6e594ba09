"""canonical_tight and uniform_expansion: tight to round-off, under both conventions."""

import pytest
import torch

from fbinit import Filterbank, ParameterError, condition_number, frame_bounds
from fbinit.banks import gabor, gaussian
from fbinit.frontends.engine import analysis_conv
from fbinit.tight import canonical_tight, uniform_expansion


@pytest.mark.parametrize("stride", [1, 2, 4])
def test_canonical_tight_has_kappa_one(stride):
    bank = gaussian(6, 24, n_draws=3, seed=stride)
    tight = canonical_tight(bank, n_fft=96, stride=stride)
    assert tight.weights.shape == (3, 6, 96) and tight.stride == stride
    A, B = frame_bounds(tight, n_fft=96)
    assert torch.allclose(A, torch.ones(3, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(B, torch.ones(3, dtype=torch.float64), atol=1e-9)
    assert bool(((condition_number(tight, n_fft=96) - 1).abs() < 1e-9).all())


@pytest.mark.parametrize("stride", [1, 4])
def test_canonical_tight_is_tight_for_the_frontend_engine(stride, generator):
    # energy of analysis_conv's circular correlation: ||c||^2 = ||x||^2 for every x
    tight = canonical_tight(gaussian(6, 24, seed=0), n_fft=96, stride=stride)
    x = torch.randn(5, 96, dtype=torch.float64, generator=generator)
    c = analysis_conv(x, tight.weights, stride=stride, padding="circular")
    energy = c.square().sum(dim=(-2, -1))
    assert torch.allclose(energy, x.square().sum(-1), rtol=1e-9)


def test_canonical_tight_of_complex_banks():
    bank = gabor(8, 128, sample_rate=16000.0, stride=2)
    assert bank.is_complex
    tight = canonical_tight(bank, n_fft=256)  # tight for real signals, complex again
    assert tight.is_complex and tight.weights.shape == (8, 256)
    assert condition_number(tight, n_fft=256).item() == pytest.approx(1.0, abs=1e-9)
    tight_c = canonical_tight(bank, n_fft=256, real_input=False)
    assert condition_number(tight_c, n_fft=256, real_input=False).item() == pytest.approx(
        1.0, abs=1e-9
    )


def test_canonical_tight_of_multirate_banks(generator):
    w = torch.randn(3, 8, dtype=torch.float64, generator=generator)
    bank = Filterbank(w, stride=(1, 2, 4))
    tight = canonical_tight(bank, n_fft=32)
    assert tight.stride == 4 and tight.n_filters == 4 + 2 + 1
    A, B = frame_bounds(tight, n_fft=32)
    assert A.item() == pytest.approx(1.0, abs=1e-9) and B.item() == pytest.approx(1.0, abs=1e-9)


def test_uniform_expansion_has_the_bounds_of_the_multirate_bank(generator):
    w = torch.randn(2, 3, 5, dtype=torch.float64, generator=generator)
    bank = Filterbank(w, stride=(2, 3, 6))
    uniform = uniform_expansion(bank)
    assert uniform.stride == 6 and uniform.weights.shape == (2, 3 + 2 + 1, 5 + 4)
    A, B = frame_bounds(bank, n_fft=36)
    A_u, B_u = frame_bounds(uniform, n_fft=36)
    assert torch.allclose(A, A_u, rtol=1e-10) and torch.allclose(B, B_u, rtol=1e-10)
    assert uniform_expansion(w, stride=2).stride == 2  # uniform banks pass through


def test_canonical_tight_is_differentiable(generator):
    w = torch.randn(3, 5, dtype=torch.float64, generator=generator).requires_grad_()
    assert torch.autograd.gradcheck(lambda w: canonical_tight(w, n_fft=12, stride=3).weights, (w,))


def test_canonical_tight_errors():
    with pytest.raises(ParameterError, match=r"must be a frame \(A > 0\).*1 of 1 bank"):
        canonical_tight(gaussian(2, 8, seed=0), n_fft=16, stride=4)
    with pytest.raises(ParameterError, match=r"stride=3 must divide n_fft=16"):
        canonical_tight(gaussian(4, 8, seed=0), n_fft=16, stride=3)
    with pytest.raises(TypeError, match=r"real_input=1 must be a bool"):
        canonical_tight(gaussian(4, 8, seed=0), n_fft=16, real_input=1)
