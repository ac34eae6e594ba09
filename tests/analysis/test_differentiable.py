"""Autograd through the analysis: gradcheck in float64, dtype promotion, devices, chunks."""

import pytest
import torch
from torch.autograd import gradcheck

from fbinit import Filterbank, ParameterError
from fbinit.analysis import _spectral, condition_number, frame_bounds, littlewood_paley


def leaf(*shape, generator, dtype=torch.float64):
    return torch.randn(*shape, dtype=dtype, generator=generator).requires_grad_()


@pytest.mark.parametrize("stride", [1, 2, 4, (1, 2, 4, 4)], ids=["d1", "d2", "d4", "multirate"])
def test_gradcheck_frame_bounds_and_kappa(stride, generator):
    w = leaf(4, 6, generator=generator)
    assert gradcheck(lambda w: frame_bounds(w, n_fft=16, stride=stride), (w,))
    assert gradcheck(lambda w: condition_number(w, n_fft=16, stride=stride), (w,))


def test_gradcheck_complex_banks_and_batches(generator):
    w = leaf(2, 3, 5, generator=generator, dtype=torch.complex128)
    for real in (True, False):
        assert gradcheck(lambda w, r=real: frame_bounds(w, n_fft=10, stride=2, real_input=r), (w,))
    assert gradcheck(lambda w: littlewood_paley(w, n_fft=10), (w,))
    assert gradcheck(lambda w: littlewood_paley(w, n_fft=10, real_input=False), (w,))


def test_gradcheck_band_restricted_bounds(generator):
    w = leaf(3, 8, generator=generator)
    fn = lambda w: frame_bounds(Filterbank(w, sample_rate=8000.0), n_fft=32, band=(500, 2500))  # noqa: E731
    assert gradcheck(fn, (w,))


def test_gradient_of_B_is_the_gradient_of_the_max_bin(generator):
    # closed form: B = LP(k*) = sum_j |w_hat_j(k*)|^2, so
    # dB/dw_j[t] = 2 Re(conj(w_hat_j(k*)) exp(-2 pi i k* t / N))
    w = leaf(3, 8, generator=generator)
    _, B = frame_bounds(w, n_fft=32)
    B.backward()
    spec = torch.fft.fft(w.detach(), n=32)
    k = int((spec.abs().square().sum(0)).argmax())
    phase = torch.exp(-2j * torch.pi * k * torch.arange(8, dtype=torch.float64) / 32)
    expected = 2 * (spec[:, k].conj()[:, None] * phase).real
    assert torch.allclose(w.grad, expected, rtol=1e-10, atol=1e-12)


def test_ties_split_the_gradient_evenly():
    # a Dirac bank is tight: every bin ties for the max. amax shares the gradient evenly
    # between the values it sees, for a real bank the half grid k = 0..N/2, so dB/dw[t] is
    # the mean over k = 0..4 of 2 cos(2 pi k t / 8): [2, 0, 0.4, 0]
    w = torch.zeros(1, 4, dtype=torch.float64)
    w[0, 0] = 1.0
    w.requires_grad_()
    A, B = frame_bounds(w, n_fft=8)
    B.backward()
    k = torch.arange(5, dtype=torch.float64)
    t = torch.arange(4, dtype=torch.float64)
    expected = (2 * torch.cos(2 * torch.pi * k[:, None] * t[None, :] / 8)).mean(0)
    assert torch.allclose(w.grad[0], expected, atol=1e-12)
    assert expected.tolist() == pytest.approx([2.0, 0.0, 0.4, 0.0], abs=1e-12)


def test_float32_weights_are_promoted_and_gradients_flow_back(generator):
    conv = torch.nn.Conv1d(1, 6, 9, stride=2, bias=False)
    with torch.no_grad():
        conv.weight.copy_(torch.randn(6, 1, 9, generator=generator))
    kappa = condition_number(conv, n_fft=32)
    assert kappa.dtype == torch.float64 and kappa.requires_grad
    kappa.backward()
    assert conv.weight.grad is not None and conv.weight.grad.dtype == torch.float32
    # same gradient as the float64 computation on a copy
    w64 = conv.weight.detach().double()[:, 0].requires_grad_()
    condition_number(w64, n_fft=32, stride=2).backward()
    assert torch.allclose(conv.weight.grad[:, 0].double(), w64.grad, rtol=1e-5, atol=1e-6)


def test_filterbank_like_objects_keep_autograd(generator):
    class Learnable(torch.nn.Module):
        stride = 2

        def __init__(self):
            super().__init__()
            self.log_gain = torch.nn.Parameter(torch.zeros(4, 1, dtype=torch.float64))
            shape = torch.randn(4, 6, dtype=torch.float64, generator=generator)
            self.register_buffer("shape", shape)

        def impulse_responses(self):
            return self.shape * self.log_gain.exp()

    module = Learnable()
    A, B = frame_bounds(module, n_fft=12)
    (B / A).backward()
    assert module.log_gain.grad is not None and bool(module.log_gain.grad.abs().sum() > 0)


def test_no_grad_inputs_give_plain_tensors(generator):
    A, B = frame_bounds(torch.randn(3, 4, dtype=torch.float64, generator=generator), n_fft=8)
    assert not A.requires_grad and not B.requires_grad


@pytest.mark.parametrize("stride", [1, 3])
def test_chunking_stays_differentiable(stride, monkeypatch, generator):
    w = leaf(7, 4, 6, generator=generator)
    A, B = frame_bounds(w, n_fft=12, stride=stride)
    (A.sum() + B.sum()).backward()
    grad_one_chunk = w.grad.clone()
    w.grad = None
    monkeypatch.setattr(_spectral, "CHUNK_BYTES", 1)  # one bank per chunk
    A2, B2 = frame_bounds(w, n_fft=12, stride=stride)
    (A2.sum() + B2.sum()).backward()
    assert torch.allclose(A, A2, rtol=1e-12) and torch.allclose(B, B2, rtol=1e-12)
    assert torch.allclose(w.grad, grad_one_chunk, rtol=1e-10, atol=1e-12)


def test_results_live_on_the_input_device(generator):
    device = torch.device("cpu")
    w = torch.randn(3, 6, dtype=torch.float64, generator=generator, device=device)
    for stride in (1, 2, (1, 2, 2)):
        A, B = frame_bounds(w, n_fft=12, stride=stride)
        assert A.device == device and B.device == device
    assert littlewood_paley(w, n_fft=12).device == device


def test_meta_tensors_get_fbinit_error():
    w = torch.zeros(3, 6, device="meta", requires_grad=True)
    for fn in (frame_bounds, condition_number, littlewood_paley):
        with pytest.raises(ParameterError, match=r"bank.device=meta must be a device"):
            fn(w, n_fft=12)
