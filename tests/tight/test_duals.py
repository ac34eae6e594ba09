"""Duals and reconstruction, round trip through the frontends' engine (circular padding)."""

import pytest
import torch

from fbinit import Filterbank, ParameterError
from fbinit.banks import gabor, gaussian
from fbinit.frontends import Frontend
from fbinit.frontends.engine import analysis_conv
from fbinit.tight import Dual, canonical_dual, canonical_tight, fir_dual, reconstruct


def relative_error(x, y):
    return ((x - y).norm() / x.norm()).item()


@pytest.mark.parametrize("stride", [1, 2, 4])
@pytest.mark.parametrize("kernel_size", [16, 17])
def test_canonical_dual_inverts_analysis_conv(stride, kernel_size, generator):
    bank = gaussian(6, kernel_size, seed=kernel_size)
    x = torch.randn(3, 64, dtype=torch.float64, generator=generator)
    c = analysis_conv(x, bank.weights, stride=stride, padding="circular")
    dual = canonical_dual(bank, n_fft=64, stride=stride)
    assert dual.filters.shape == (6, 64) and dual.error < 1e-12
    assert relative_error(x, reconstruct(c, dual)) <= 1e-10


def test_canonical_dual_of_the_target_bank(generator):
    bank = gaussian(40, 128, stride=4, seed=0)
    x = torch.randn(2, 1024, dtype=torch.float64, generator=generator)
    c = analysis_conv(x, bank.weights, stride=4, padding="circular")
    assert relative_error(x, reconstruct(c, canonical_dual(bank, n_fft=1024))) <= 1e-10


def test_complex_banks_reconstruct_from_complex_coefficients(generator):
    bank = gabor(10, 128, sample_rate=16000.0, stride=4, fmin=300.0)
    x = torch.randn(2, 256, dtype=torch.float64, generator=generator)
    c = analysis_conv(x, bank.weights, stride=4, padding="circular")
    assert c.is_complex()
    dual = canonical_dual(bank, n_fft=256)
    assert dual.complex_coefficients and dual.filters.shape == (20, 256)
    assert relative_error(x, reconstruct(c, dual)) <= 1e-10


def test_reconstruct_through_a_frontend(generator):
    class Fixed(Frontend):
        def __init__(self, weights):
            super().__init__(sample_rate=8000.0, stride=2, padding="circular")
            self.register_buffer("weights", weights)

        def impulse_responses(self):
            return self.weights

    frontend = Fixed(gaussian(5, 9, seed=3).weights.float())
    x = torch.randn(2, 32, generator=generator)
    c = frontend.analyze(x)  # float32 coefficients, promoted to float64
    dual = canonical_dual(frontend, n_fft=32)
    assert relative_error(x.double(), reconstruct(c, dual)) <= 1e-6  # float32 analysis


def test_fir_dual_error_bounds_every_reconstruction(generator):
    bank = gaussian(6, 16, stride=2, seed=0)
    x = torch.randn(20, 128, dtype=torch.float64, generator=generator)
    c = analysis_conv(x, bank.weights, stride=2, padding="circular")
    errors = []
    for length in (4, 8, 64):
        dual = fir_dual(bank, n_fft=128, kernel_size=length)
        assert dual.filters.shape == (6, length) and dual.iterations > 0
        y = reconstruct(c, dual)
        per_signal = (x - y).norm(dim=-1) / x.norm(dim=-1)
        assert bool((per_signal <= dual.error * (1 + 1e-9)).all())
        errors.append(dual.error)
    # 4 taps are too few; 8 already give an exact FIR dual (J = 6 filters at stride 2)
    assert errors[0] > 1e-3 and errors[1] < 1e-9 and errors[2] < 1e-9


def test_fir_dual_of_the_target_bank_is_exact_to_tolerance(generator):
    bank = gaussian(40, 128, stride=4, seed=0)
    dual = fir_dual(bank, n_fft=1024, kernel_size=128)
    assert dual.error < 1e-9
    x = torch.randn(2, 1024, dtype=torch.float64, generator=generator)
    c = analysis_conv(x, bank.weights, stride=4, padding="circular")
    assert relative_error(x, reconstruct(c, dual)) <= 1e-9


def test_tight_banks_are_their_own_duals():
    # S = I for a tight frame (A = B = 1): the canonical dual's filters are the frame
    # elements themselves, g_j[n] = w_j[(n + K//2) mod N]
    bank = canonical_tight(gaussian(8, 16, stride=2, seed=1), n_fft=64)  # K = N = 64
    dual = canonical_dual(bank, n_fft=64)
    g = torch.roll(bank.weights, -32, dims=-1)
    h = torch.roll(dual.filters, -dual.offset, dims=-1)
    assert torch.allclose(h, g, atol=1e-12)


def test_dual_errors():
    bank = gaussian(4, 8, stride=2, seed=0)
    dual = canonical_dual(bank, n_fft=16)
    with pytest.raises(ParameterError, match=r"coefficients.shape=\(4, 4\) must end with"):
        reconstruct(torch.zeros(4, 4), dual)
    with pytest.raises(ParameterError, match=r"coefficients must be real for this dual"):
        reconstruct(torch.zeros(4, 8, dtype=torch.complex128), dual)
    with pytest.raises(TypeError, match=r"dual must be a Dual"):
        reconstruct(torch.zeros(4, 8), bank)
    with pytest.raises(ParameterError, match=r"must be a frame \(A > 0\) to have a dual"):
        canonical_dual(gaussian(2, 8, seed=0), n_fft=16, stride=4)
    with pytest.raises(ParameterError, match=r"stride=\(1, 2\) must be one int for duals"):
        canonical_dual(Filterbank(torch.ones(2, 3), stride=(1, 2)), n_fft=8)
    with pytest.raises(ParameterError, match=r"batch shape \(2,\) must be empty"):
        fir_dual(gaussian(4, 8, n_draws=2, seed=0), n_fft=16, kernel_size=8)
    with pytest.raises(ParameterError, match=r"n_fft=18 must be >= kernel_size=8 and a multiple"):
        canonical_dual(bank, n_fft=18, stride=4)
    with pytest.raises(ParameterError, match=r"kernel_size=32 must be <= n_fft=16"):
        fir_dual(bank, n_fft=16, kernel_size=32)
    assert isinstance(dual, Dual)
