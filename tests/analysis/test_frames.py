"""Frame bounds, condition numbers and the LP sum, checked against mathematical properties.

The comparison with the dense frame operator, uniform and multirate, is in test_multirate.py.
"""

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


# --- numbers and degenerate input (issue 9) ---------------------------------------------


def test_singular_strided_frame_never_reports_negative_A():
    # 5 filters at stride 16: rank <= 5 per 16 x 16 block, so A = 0 exactly; eigenvalue
    # round-off used to come out as about -1e-16
    bank = gaussian(5, 8, n_draws=50, seed=0)
    A, B = frame_bounds(bank, n_fft=64, stride=16)
    assert bool((A >= 0).all()) and bool((B > 0).all())
    with pytest.warns(RuntimeWarning, match="50 of 50 filterbank.*singular"):
        kappa = condition_number(bank, n_fft=64, stride=16)
    assert bool(torch.isinf(kappa).all())


@pytest.mark.parametrize("stride", [1, 3])
def test_kappa_is_scale_invariant_at_extreme_scales(stride):
    w = gaussian(8, 32, seed=1).weights
    kappa = condition_number(w, n_fft=48, stride=stride).item()
    for scale in (1e160, 1e-170, 1e154):
        assert condition_number(w * scale, n_fft=48, stride=stride).item() == pytest.approx(
            kappa, rel=1e-10
        )


def test_bounds_keep_the_original_scale_when_representable():
    w = gaussian(8, 32, seed=1).weights
    A, B = frame_bounds(w, n_fft=45, stride=3)
    A1, B1 = frame_bounds(w * 1e154, n_fft=45, stride=3)  # raised LinAlgError before
    assert A1.item() == pytest.approx(A.item() * 1e308, rel=1e-10)
    assert B1.item() == pytest.approx(B.item() * 1e308, rel=1e-10)
    with pytest.warns(RuntimeWarning, match=r"overflow.*1 of 1.*inf"):
        A2, B2 = frame_bounds(w * 1e160, n_fft=48)
    assert A2.item() == B2.item() == float("inf")
    with pytest.warns(RuntimeWarning, match=r"underflow.*1 of 1.*0"):
        A3, B3 = frame_bounds(w * 1e-170, n_fft=48)
    assert A3.item() == B3.item() == 0.0


def test_zero_bank_is_singular_without_nan():
    A, B = frame_bounds(torch.zeros(2, 3, 4), n_fft=8, stride=2)
    assert torch.equal(A, torch.zeros(2, dtype=torch.float64)) and torch.equal(B, A)
    with pytest.warns(RuntimeWarning, match="singular"):
        assert bool(torch.isinf(condition_number(torch.zeros(3, 4), n_fft=8)))


@pytest.mark.parametrize("stride", [1, 2, (1, 2, 2, 4, 4, 4, 4, 4)])
def test_empty_batch_gives_empty_results(stride):
    A, B = frame_bounds(np.zeros((0, 8, 32)), n_fft=64, stride=stride)
    assert A.shape == B.shape == (0,) and A.dtype == torch.float64
    assert condition_number(np.zeros((2, 0, 8, 32)), n_fft=64, stride=stride).shape == (2, 0)
    assert littlewood_paley(np.zeros((0, 8, 32)), n_fft=64).shape == (0, 64)


def test_input_types_get_fbinit_messages():
    with pytest.raises(TypeError, match=r"bank must hold real or complex numbers, got dtype"):
        frame_bounds(np.array([["a", "b"]]), n_fft=4)
    with pytest.raises(TypeError, match=r"bank must hold real or complex numbers, got dtype"):
        frame_bounds(np.array([[object(), 1.0]]), n_fft=4)
    with pytest.raises(ParameterError, match=r"bank.device=meta must be a device that holds"):
        frame_bounds(torch.zeros(3, 4, device="meta"), n_fft=8)
    with pytest.raises(TypeError, match=r"real_input='yes' must be a bool"):
        frame_bounds(torch.eye(3), n_fft=4, real_input="yes")
    with pytest.raises(TypeError, match=r"real_input=1 must be a bool"):
        littlewood_paley(torch.eye(3), n_fft=4, real_input=1)


def test_numpy_integers_are_accepted_as_n_fft():
    A, B = frame_bounds(torch.eye(4), n_fft=np.int64(8), stride=np.int32(4))
    assert A.item() == pytest.approx(1.0) and B.item() == pytest.approx(1.0)
    lp = littlewood_paley(torch.eye(4), n_fft=np.int64(4))
    assert lp.shape == (4,)


@pytest.mark.parametrize("stride", [1, 4, (1, 2, 4, 4)])
def test_chunks_are_sized_by_the_working_set(stride, monkeypatch):
    from fbinit.analysis import _spectral

    seen = []
    original = _spectral.frame_eigenvalues

    def record(weights, strides, n_fft, **kwargs):
        seen.append(weights.shape[0])
        return original(weights, strides, n_fft, **kwargs)

    monkeypatch.setattr(_spectral, "frame_eigenvalues", record)
    monkeypatch.setattr(_spectral, "CHUNK_BYTES", 2**20)
    bank = gaussian(4, 16, n_draws=300, seed=0)
    A, B = frame_bounds(bank, n_fft=256, stride=stride)
    assert A.shape == (300,) and sum(seen) == 300
    # per bank: the spectrum (4 x 256 complex), and for stride > 1 the 256 / P blocks of
    # P x P with their eigen-decomposition
    period = 4 if stride != 1 else 1
    per_bank = 16 * (4 * 129 if period == 1 else 4 * 256 + 3 * 256 * period)
    assert max(seen) == 2**20 // per_bank  # 127 banks at stride 1, 16 otherwise
