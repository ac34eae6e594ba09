"""The FIR tightener: the targets of issue 8, early stopping, what it reports."""

import pytest
import torch

from fbinit import Filterbank, ParameterError, condition_number, frame_bounds
from fbinit.banks import gabor, gammatone, gaussian, mel
from fbinit.tight import tighten


@pytest.mark.parametrize("stride", [1, 4])
def test_random_banks_reach_the_target(stride):
    bank = gaussian(40, 128, stride=stride, seed=0)
    result = tighten(bank, n_fft=1024, tol=0.01)
    assert result.converged and result.kappa <= 1.01 and result.kappa_initial > 2
    out = result.bank
    assert out.weights.shape == (40, 128) and out.stride == stride
    # independent check of the reported kappa
    assert condition_number(out, n_fft=1024).item() == pytest.approx(result.kappa, rel=1e-9)
    A, B = frame_bounds(out, n_fft=1024)
    assert A.item() <= 1.0 <= B.item()  # mean eigenvalue scaled to 1


def test_auditory_bank_reaches_the_target():
    with pytest.warns(UserWarning, match="do not fit kernel_size=400"):  # lowest channels
        bank = gammatone(40, 400, sample_rate=16000.0, stride=16)
    result = tighten(bank, n_fft=1024, tol=0.01)
    assert result.kappa_initial > 1e5 and result.converged
    assert condition_number(result.bank, n_fft=1024).item() <= 1.01
    assert result.bank.kernel_size == 400 and result.bank.sample_rate == 16000.0


def test_stops_as_soon_as_the_tolerance_is_met():
    dirac = torch.zeros(4, 4, dtype=torch.float64)
    dirac[range(4), range(4)] = 1.0
    result = tighten(dirac, n_fft=16, stride=4)
    assert result.iterations == 0 and result.kappa == pytest.approx(1.0)
    bank = gaussian(10, 16, seed=1)
    loose = tighten(bank, n_fft=64, tol=0.2)
    tight = tighten(bank, n_fft=64, tol=1e-3)
    assert 0 < loose.iterations < tight.iterations <= tight.evaluations
    assert loose.kappa <= 1.2 and tight.kappa <= 1.001
    # one step fewer would not have met the tolerance
    with pytest.warns(RuntimeWarning, match="tighten stopped"):
        again = tighten(bank, n_fft=64, tol=1e-3, max_iter=tight.iterations - 1)
    assert again.kappa > 1.001


def test_warns_when_max_iter_is_too_small():
    with pytest.warns(RuntimeWarning, match=r"after 2 of max_iter=2 iterations at kappa=.* > 1 \+"):
        result = tighten(gaussian(10, 16, seed=1), n_fft=64, tol=1e-6, max_iter=2)
    assert not result.converged and result.iterations == 2


def test_singular_starting_banks_are_tightened():
    # a mel bank has no gain at DC: A = 0, kappa = inf, yet the frame potential is defined
    bank = mel(40, 400, sample_rate=16000.0, stride=16)
    result = tighten(bank, n_fft=1024)
    assert result.kappa_initial == float("inf") and result.converged
    assert condition_number(result.bank, n_fft=1024).item() <= 1.01


def test_small_tolerances_use_the_smooth_kappa():
    result = tighten(gaussian(40, 128, stride=4, seed=0), n_fft=1024, tol=1e-4)
    assert result.converged and result.kappa <= 1.0001
    assert condition_number(result.bank, n_fft=1024).item() <= 1.0001


def test_complex_and_multirate_banks():
    bank = gabor(12, 128, sample_rate=16000.0, stride=4, fmin=300.0)
    result = tighten(bank, n_fft=256, tol=0.02)
    assert result.bank.is_complex and result.bank.weights.shape == (12, 128)
    assert condition_number(result.bank, n_fft=256).item() <= 1.02
    multirate = Filterbank(gaussian(6, 16, seed=2).weights, stride=(1, 2, 2, 4, 4, 4))
    result = tighten(multirate, n_fft=64, tol=0.01)
    assert result.bank.strides == (1, 2, 2, 4, 4, 4) and result.bank.kernel_size == 16
    assert result.converged
    assert condition_number(result.bank, n_fft=64).item() == pytest.approx(result.kappa)


def test_tighten_errors():
    with pytest.raises(ParameterError, match=r"bank must have a nonzero tap"):
        tighten(torch.zeros(2, 8), n_fft=16)
    with pytest.raises(ParameterError, match=r"batch shape \(2,\) must be empty"):
        tighten(gaussian(4, 8, n_draws=2, seed=0), n_fft=16)
    with pytest.raises(ParameterError, match=r"tol=0.0 must be a finite number > 0"):
        tighten(gaussian(4, 8, seed=0), n_fft=16, tol=0.0)
    with pytest.raises(ParameterError, match=r"max_iter=-1 must be an integer >= 0"):
        tighten(gaussian(4, 8, seed=0), n_fft=16, max_iter=-1)
