"""kappa_penalty and alias_penalty: values, gradients, aliasing zero exactly where it should."""

import math

import pytest
import torch
from torch.autograd import gradcheck

from fbinit import Filterbank, ParameterError, condition_number
from fbinit.banks import gaussian
from fbinit.tight import alias_penalty, kappa_penalty


def leaf(*shape, generator, dtype=torch.float64):
    return torch.randn(*shape, dtype=dtype, generator=generator).requires_grad_()


STRIDES = [1, 2, 4, (1, 2, 4, 4)]


@pytest.mark.parametrize("stride", STRIDES, ids=["d1", "d2", "d4", "multirate"])
def test_gradcheck_every_penalty(stride, generator):
    w = leaf(4, 6, generator=generator)
    assert gradcheck(lambda w: kappa_penalty(w, n_fft=16, stride=stride), (w,))
    assert gradcheck(lambda w: kappa_penalty(w, n_fft=16, stride=stride, smooth=0.1), (w,))
    assert gradcheck(lambda w: alias_penalty(w, n_fft=16, stride=stride), (w,))


def test_gradcheck_complex_batched_and_band(generator):
    w = leaf(2, 3, 5, generator=generator, dtype=torch.complex128)
    assert gradcheck(lambda w: kappa_penalty(w, n_fft=10, stride=2, smooth=0.2), (w,))
    assert gradcheck(lambda w: alias_penalty(w, n_fft=10, stride=2, real_input=False), (w,))
    v = leaf(3, 8, generator=generator)

    def banded(v):
        bank = Filterbank(v, sample_rate=8000.0)
        return kappa_penalty(bank, n_fft=32, band=(500, 2500), smooth=0.05)

    assert gradcheck(banded, (v,))


@pytest.mark.parametrize("stride", STRIDES, ids=["d1", "d2", "d4", "multirate"])
def test_exact_penalty_is_kappa_minus_one(stride):
    bank = gaussian(4, 12, n_draws=3, seed=4).weights
    kappa = condition_number(bank, n_fft=48, stride=stride)
    assert torch.allclose(kappa_penalty(bank, n_fft=48, stride=stride), kappa - 1, rtol=1e-12)


def test_smooth_penalty_brackets_and_tends_to_kappa():
    bank = gaussian(8, 16, n_draws=4, seed=5)
    n_fft = 64
    kappa = condition_number(bank, n_fft=n_fft, stride=2)
    n_values = n_fft  # eigenvalues of S counted with multiplicity
    previous = torch.zeros_like(kappa)
    for t in (0.5, 0.1, 0.02, 0.004):
        smooth = kappa_penalty(bank, n_fft=n_fft, stride=2, smooth=t) + 1
        assert bool((smooth <= kappa * (1 + 1e-12)).all())
        assert bool((smooth >= kappa * n_values ** (-2 * t) * (1 - 1e-12)).all())
        assert bool((smooth >= previous).all())  # power means are monotone in the order
        previous = smooth
    assert torch.allclose(previous, kappa, rtol=0.05)


def test_smooth_penalty_matches_power_means_on_the_dense_spectrum():
    # independent: eigenvalues of the dense frame operator, power means by numpy-style sums
    from fbinit.analysis import analysis_matrix

    w = gaussian(3, 6, seed=2).weights
    phi = analysis_matrix(w, n_fft=12, stride=3)
    eig = torch.linalg.eigvalsh(phi.T @ phi)
    t = 0.25
    high = eig.pow(1 / t).mean().pow(t)
    low = eig.pow(-1 / t).mean().pow(-t)
    expected = high / low - 1
    assert kappa_penalty(w, n_fft=12, stride=3, smooth=t).item() == pytest.approx(
        expected.item(), rel=1e-10
    )


def test_penalties_are_zero_on_tight_frames_and_scale_invariant():
    dirac = torch.zeros(4, 4, dtype=torch.float64)
    dirac[range(4), range(4)] = 1.0  # Dirac at delays 0..3: tight at stride 4
    assert kappa_penalty(dirac, n_fft=16, stride=4).item() == pytest.approx(0.0, abs=1e-12)
    assert kappa_penalty(dirac, n_fft=16, stride=4, smooth=0.1).item() == pytest.approx(
        0.0, abs=1e-12
    )
    w = gaussian(5, 8, seed=3).weights
    for scale in (1e-170, 1e160):
        for smooth in (None, 0.1):
            assert kappa_penalty(w * scale, n_fft=32, stride=2, smooth=smooth).item() == (
                pytest.approx(kappa_penalty(w, n_fft=32, stride=2, smooth=smooth).item(), rel=1e-10)
            )
        assert alias_penalty(w * scale, n_fft=32, stride=2).item() == pytest.approx(
            alias_penalty(w, n_fft=32, stride=2).item(), rel=1e-10
        )


def test_singular_frames_give_inf_with_warning():
    w = gaussian(2, 8, seed=0).weights
    for smooth in (None, 0.1):
        with pytest.warns(RuntimeWarning, match="singular"):
            assert math.isinf(kappa_penalty(w, n_fft=16, stride=4, smooth=smooth).item())


def test_alias_penalty_is_exactly_zero_at_stride_one(generator):
    w = torch.randn(3, 2, 8, dtype=torch.float64, generator=generator)
    assert torch.equal(alias_penalty(w, n_fft=16), torch.zeros(3, dtype=torch.float64))


def test_alias_penalty_vanishes_on_alias_free_banks():
    # Dirac bank at stride = n_filters: the frame operator is the identity
    assert alias_penalty(torch.eye(4), n_fft=16, stride=4).item() < 1e-28
    # real filters band-limited to disjoint halves of the band, at stride 2: the bins k and
    # k + N/2 folded together never both belong to one filter (N/4 left out of both)
    n = 32
    k = torch.fft.fftfreq(n) * n
    low = (k.abs() < n / 4).to(torch.complex128)
    high = (k.abs() > n / 4).to(torch.complex128)
    bank = torch.fft.ifft(torch.stack([low, high])).real
    assert alias_penalty(bank, n_fft=n, stride=2).item() < 1e-28
    # the same filters at stride 4 alias, and random banks do
    assert alias_penalty(bank, n_fft=n, stride=4).item() > 0.01
    assert alias_penalty(gaussian(6, 12, seed=1), n_fft=48, stride=2).item() > 0.01


def test_alias_penalty_closed_form_and_bound():
    # one box filter of 4 taps at stride 2, N = 8: 8 / 88 (see the docstring)
    assert alias_penalty(torch.ones(1, 4), n_fft=8, stride=2).item() == pytest.approx(1 / 11)
    # one Dirac at stride 4: every block is ones(4, 4) / 4, the bound P - 1 = 3 is attained
    assert alias_penalty(torch.ones(1, 1), n_fft=8, stride=4).item() == pytest.approx(3.0)
    w = gaussian(1, 2, n_draws=20, seed=0)
    assert bool((alias_penalty(w, n_fft=16, stride=4) <= 3).all())


def test_zero_bank_alias_is_zero_not_nan():
    assert alias_penalty(torch.zeros(2, 4), n_fft=8, stride=2).item() == 0.0


def test_penalty_errors():
    w = torch.randn(3, 8, dtype=torch.float64)
    with pytest.raises(ParameterError, match=r"smooth=0.0 must be a finite number > 0"):
        kappa_penalty(w, n_fft=16, smooth=0.0)
    with pytest.raises(TypeError, match=r"smooth='soft' must be a real number"):
        kappa_penalty(w, n_fft=16, smooth="soft")
    with pytest.raises(ParameterError, match=r"stride=3 must divide n_fft=16"):
        alias_penalty(w, n_fft=16, stride=3)
    with pytest.raises(ParameterError, match=r"band=.* is only defined for stride=1"):
        kappa_penalty(Filterbank(w, sample_rate=8e3), n_fft=16, stride=2, band=(0, 100))
    with pytest.raises(TypeError, match=r"real_input='no' must be a bool"):
        alias_penalty(w, n_fft=16, real_input="no")
    with pytest.raises(ParameterError, match=r"bank.device=meta"):
        kappa_penalty(torch.zeros(3, 8, device="meta"), n_fft=16)


def test_penalties_train_a_frontend(generator):
    from fbinit.frontends import Frontend

    class Learnable(Frontend):
        def __init__(self):
            super().__init__(sample_rate=16000.0, stride=2)
            init = torch.randn(8, 16, generator=generator) / 8
            self.kernels = torch.nn.Parameter(init)  # float32, as trained

        def impulse_responses(self):
            return self.kernels

    frontend = Learnable()
    optimizer = torch.optim.Adam(frontend.parameters(), lr=1e-2)
    before = condition_number(frontend, n_fft=64).item()
    for _ in range(30):
        optimizer.zero_grad()
        loss = kappa_penalty(frontend, n_fft=64, smooth=0.05) + alias_penalty(frontend, n_fft=64)
        loss.backward()
        optimizer.step()
    assert frontend.kernels.grad.dtype == torch.float32
    assert condition_number(frontend, n_fft=64).item() < before / 2
