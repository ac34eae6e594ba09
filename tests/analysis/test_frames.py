"""Frame bounds, condition numbers and the LP sum, checked against mathematical properties."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fbinit import Filterbank, ParameterError
from fbinit.analysis import (
    analysis_matrix,
    condition_number,
    energy_response,
    frame_bounds,
    frequency_response,
    littlewood_paley,
)
from fbinit.banks import gaussian


def dense_bounds(weights, n_fft, stride, real_input=True):
    """Extreme eigenvalues of the dense frame operator (real part for real signals)."""
    phi = analysis_matrix(weights, n_fft=n_fft, stride=stride)
    s = phi.conj().T @ phi
    s = s.real if real_input else s
    eig = torch.linalg.eigvalsh(s)
    return eig[0].real.item(), eig[-1].real.item()


def test_parseval(generator):
    w = torch.randn(3, 7, 20, dtype=torch.float64, generator=generator)
    spec = frequency_response(w, n_fft=32)
    assert torch.allclose(spec.abs().square().sum(-1), 32 * w.square().sum(-1), rtol=1e-12)
    lp = littlewood_paley(w, n_fft=32)
    assert torch.allclose(lp.sum(-1), 32 * w.square().sum((-1, -2)), rtol=1e-12)


def test_dirac_and_dft_banks_are_tight():
    n = 16
    dirac = torch.zeros(1, 5)
    dirac[0, 0] = 1.0
    A, B = frame_bounds(dirac, n_fft=n)
    assert A.item() == pytest.approx(1.0, abs=1e-15) and B.item() == pytest.approx(1.0, abs=1e-15)
    # full DFT bank: filter j is the j-th complex exponential, stride n (critically sampled)
    t = torch.arange(n, dtype=torch.float64)
    dft = torch.exp(2j * torch.pi * t[None, :] * t[:, None] / n)
    for stride in (1, n):
        A, B = frame_bounds(dft, n_fft=n, stride=stride, real_input=False)
        expected = n * n / stride
        assert A.item() == pytest.approx(expected, rel=1e-12)
        assert B.item() == pytest.approx(expected, rel=1e-12)
        assert condition_number(dft, n_fft=n, stride=stride, real_input=False).item() == (
            pytest.approx(1.0, abs=1e-12)
        )


@pytest.mark.parametrize("stride", [1, 2, 3, 4, 6, 12])
@pytest.mark.parametrize("complex_filters", [False, True])
def test_stride_bounds_equal_dense_frame_operator(stride, complex_filters, generator):
    n = 24
    dtype = torch.complex128 if complex_filters else torch.float64
    w = torch.randn(5, 9, dtype=dtype, generator=generator)
    for real_input in (True, False):
        A, B = frame_bounds(w, n_fft=n, stride=stride, real_input=real_input)
        a_ref, b_ref = dense_bounds(w, n, stride, real_input=real_input)
        assert A.item() == pytest.approx(a_ref, rel=1e-9, abs=1e-12)
        assert B.item() == pytest.approx(b_ref, rel=1e-9)


def test_stride_one_block_formula_equals_lp(generator):
    w = torch.randn(4, 6, 8, dtype=torch.float64, generator=generator)
    lp = littlewood_paley(w, n_fft=32)
    A, B = frame_bounds(w, n_fft=32)
    # frame_bounds takes real FFTs, littlewood_paley full ones: equal up to rounding
    torch.testing.assert_close(A, lp.amin(-1), rtol=1e-12, atol=0)
    torch.testing.assert_close(B, lp.amax(-1), rtol=1e-12, atol=0)


def test_complex_real_input_convention(generator):
    w = torch.randn(3, 8, dtype=torch.complex128, generator=generator)
    lp = littlewood_paley(w, n_fft=16, real_input=False)
    lp_sym = littlewood_paley(w, n_fft=16)
    k = torch.arange(16)
    assert torch.allclose(lp_sym, (lp + lp[(-k) % 16]) / 2, rtol=1e-13)
    A, B = frame_bounds(w, n_fft=16)
    assert A.item() == pytest.approx(lp_sym.min().item()) and B.item() == pytest.approx(
        lp_sym.max().item()
    )


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    n_filters=st.integers(1, 6),
    kernel_size=st.integers(1, 12),
    stride=st.sampled_from([1, 2, 4]),
)
def test_frame_inequality_holds_on_random_signals(seed, n_filters, kernel_size, stride):
    gen = torch.Generator().manual_seed(seed)
    bank = gaussian(n_filters, kernel_size, stride=stride, generator=gen)
    x = torch.randn(8, 16, dtype=torch.float64, generator=gen)
    energy = energy_response(bank, x)
    A, B = frame_bounds(bank, n_fft=16)
    norm2 = x.square().sum(-1)
    assert bool((energy >= A * norm2 - 1e-10).all())
    assert bool((energy <= B * norm2 + 1e-10).all())


def test_random_bank_expected_lp_is_one():
    J, T, N, M = 10, 32, 64, 4000
    lp = littlewood_paley(gaussian(J, T, n_draws=M, seed=3), n_fft=N)
    # LP(k) for k off 0, N/2 is about chi2_{2J}/(2J): sd 1/sqrt(J); DC/Nyquist chi2_J/J
    se = (2.0 / J) ** 0.5 / M**0.5
    assert torch.all((lp.mean(0) - 1).abs() < 5 * se)


def test_reference_frame_bounds_j40():
    # reference: J = 40, N = 1024: mean A about 0.76 (T = 8) falling to about 0.59 (T = 1024),
    # mean B about 1.27 rising to about 1.56.
    for T, a_ref, b_ref in ((8, 0.76, 1.27), (1024, 0.59, 1.56)):
        A, B = frame_bounds(gaussian(40, T, n_draws=300, seed=T), n_fft=1024)
        assert A.mean().item() == pytest.approx(a_ref, abs=0.02)
        assert B.mean().item() == pytest.approx(b_ref, abs=0.02)


def test_singular_frame_gives_inf_with_warning():
    with pytest.warns(RuntimeWarning, match="singular"):
        kappa = condition_number(torch.tensor([[1.0, 1.0]]), n_fft=4)
    assert kappa.item() == float("inf")
    # fewer filters than the stride: the frame cannot span R^N
    with pytest.warns(RuntimeWarning, match="singular"):
        kappa = condition_number(gaussian(2, 8, seed=0), n_fft=16, stride=4)
    assert kappa.item() == float("inf")


def test_band_restricted_bounds():
    bank = Filterbank(gaussian(8, 16, seed=1).weights, sample_rate=16000.0)
    lp = littlewood_paley(bank, n_fft=64)
    freqs = np.abs(np.fft.fftfreq(64, 1 / 16000))
    mask = (freqs >= 1000) & (freqs <= 4000)
    A, B = frame_bounds(bank, n_fft=64, band=(1000, 4000))
    assert A.item() == pytest.approx(lp[mask].min().item())
    assert B.item() == pytest.approx(lp[mask].max().item())


def test_errors():
    w = torch.randn(3, 8, dtype=torch.float64)
    with pytest.raises(ParameterError, match=r"n_fft=4 must be >= kernel_size=8"):
        frame_bounds(w, n_fft=4)
    with pytest.raises(ParameterError, match=r"stride=3 must divide n_fft=16"):
        frame_bounds(w, n_fft=16, stride=3)
    with pytest.raises(TypeError, match=r"n_fft=16.0 must be an integer"):
        littlewood_paley(w, n_fft=16.0)
    with pytest.raises(ParameterError, match=r"band=.* is only defined for stride=1"):
        frame_bounds(Filterbank(w, sample_rate=8000.0), n_fft=16, stride=2, band=(0, 100))
    with pytest.raises(ParameterError, match="needs the bank's sample_rate"):
        frame_bounds(w, n_fft=16, band=(0, 100))
    with pytest.raises(ParameterError, match=r"band=\(10, 20\) must contain at least one"):
        frame_bounds(Filterbank(w, sample_rate=8000.0), n_fft=16, band=(10, 20))
    with pytest.raises(ParameterError, match="must be empty"):
        analysis_matrix(torch.zeros(2, 3, 4), n_fft=8)
