"""Frame bounds for any strides (uniform, and one per filter) against the dense operator."""

import math

import pytest
import torch

from fbinit import Filterbank, ParameterError
from fbinit.analysis import analysis_matrix, condition_number, energy_response, frame_bounds

# one stride for all 5 filters, or one per filter (multirate)
STRIDES = [1, 2, 3, 4, 6, 12, (1, 2), (2, 3), (1, 2, 4, 4), (2, 4, 8, 8, 8), (3, 1, 2)]


def dense_bounds(weights, n_fft, stride, real_input=True):
    """Extreme eigenvalues of the dense frame operator (real part for real signals)."""
    phi = analysis_matrix(weights, n_fft=n_fft, stride=stride)
    s = phi.conj().T @ phi
    s = s.real if real_input else s
    eig = torch.linalg.eigvalsh(s)
    return eig[0].item(), eig[-1].item()


@pytest.mark.parametrize("strides", STRIDES)
@pytest.mark.parametrize("complex_filters", [False, True])
def test_bounds_equal_dense_frame_operator(strides, complex_filters, generator):
    n = 24
    dtype = torch.complex128 if complex_filters else torch.float64
    n_filters = len(strides) if isinstance(strides, tuple) else 5
    w = torch.randn(n_filters, 9, dtype=dtype, generator=generator)
    for real_input in (True, False):
        A, B = frame_bounds(w, n_fft=n, stride=strides, real_input=real_input)
        a_ref, b_ref = dense_bounds(w, n, strides, real_input=real_input)
        assert A.item() == pytest.approx(a_ref, rel=1e-9, abs=1e-12)
        assert B.item() == pytest.approx(b_ref, rel=1e-9)


def test_multirate_bank_equals_its_uniform_expansion(generator):
    # filter j at stride d_j is the P/d_j filters w_j delayed by r d_j, all at stride P
    strides, n = (1, 2, 4), 32
    w = torch.randn(3, 5, dtype=torch.float64, generator=generator)
    period = math.lcm(*strides)
    expanded = []
    for j, d in enumerate(strides):
        for r in range(period // d):
            expanded.append(torch.nn.functional.pad(w[j], (r * d, period - r * d)))
    uniform = torch.stack(expanded)
    A, B = frame_bounds(Filterbank(w, stride=strides), n_fft=n)
    A_u, B_u = frame_bounds(uniform, n_fft=n, stride=period)
    assert A.item() == pytest.approx(A_u.item(), rel=1e-10)
    assert B.item() == pytest.approx(B_u.item(), rel=1e-10)


def test_multirate_frame_inequality_on_signals(generator):
    # energy_response computes the strided outputs by convolution (an independent path)
    bank = Filterbank(torch.randn(4, 6, dtype=torch.float64, generator=generator), (1, 2, 4, 4))
    x = torch.randn(20, 16, dtype=torch.float64, generator=generator)
    energy = energy_response(bank, x)
    A, B = frame_bounds(bank, n_fft=16)
    norm2 = x.square().sum(-1)
    assert bool((energy >= A * norm2 * (1 - 1e-12)).all())
    assert bool((energy <= B * norm2 * (1 + 1e-12)).all())


def test_multirate_batches_and_singular_frames(generator):
    w = torch.randn(5, 3, 6, dtype=torch.float64, generator=generator)
    A, B = frame_bounds(w, n_fft=24, stride=(1, 2, 4))
    for i in range(5):
        a, b = dense_bounds(w[i], 24, (1, 2, 4))
        assert A[i].item() == pytest.approx(a, rel=1e-9) and B[i].item() == pytest.approx(b)
    # two filters at strides 4 and 8 cannot span: 1/4 + 1/8 < 1 output per sample
    with pytest.warns(RuntimeWarning, match="singular"):
        kappa = condition_number(w[:, :2], n_fft=24, stride=(4, 8))
    assert bool(torch.isinf(kappa).all())
    A, _ = frame_bounds(w[:, :2], n_fft=24, stride=(4, 8))
    assert bool((A == 0).all())


def test_multirate_errors():
    w = torch.randn(2, 4, dtype=torch.float64)
    with pytest.raises(ParameterError, match=r"stride\[1\]=5 must divide n_fft=16"):
        frame_bounds(w, n_fft=16, stride=(2, 5))
    with pytest.raises(ParameterError, match=r"len\(stride\)=3 must be 1 or n_filters=2"):
        frame_bounds(w, n_fft=16, stride=(1, 2, 4))
    with pytest.raises(ParameterError, match=r"stride\[0\]=0 must be an integer >= 1"):
        analysis_matrix(w, n_fft=16, stride=(0, 2))
