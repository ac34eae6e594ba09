"""MultiresFrontend: its DTCWT stage against murenn, its forward against its impulse responses."""

from __future__ import annotations

import murenn  # the peers extra, installed by make test
import numpy as np
import pytest
import torch

from fbinit import ParameterError, analysis_matrix, as_filterbank, energy_response, frame_bounds
from fbinit.frontends import MultiresFrontend, analysis_conv
from fbinit.frontends.multires import _measure, dtcwt_kernels
from fbinit.signals import white_noise

SR = 16000.0


def noise(batch: int, n: int, seed: int = 0) -> torch.Tensor:
    return torch.tensor(np.stack([white_noise(n, seed=seed + b) for b in range(batch)]))


@pytest.fixture
def float64():
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(previous)


@pytest.mark.parametrize("n_octaves", [1, 3, 6])
def test_dtcwt_kernels_reproduce_murenns_transform(n_octaves):
    _measure.cache_clear()
    kernels = dtcwt_kernels(n_octaves)  # measured in float64 whatever the default dtype
    previous = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        x = noise(2, 2**n_octaves * 24, seed=1)
        # with periodic extension on both sides the two computations agree on every frame
        low, bands = murenn.DTCWT(J=n_octaves, padding_mode="circular")(x[:, None])
    finally:
        torch.set_default_dtype(previous)
    expected = [b[:, 0] for b in bands] + [torch.complex(low[:, 0, 0::2], low[:, 0, 1::2])]
    assert [d for _, d in kernels] == [2 ** (j + 1) for j in range(n_octaves)] + [2**n_octaves]
    for (g, d), ref in zip(kernels, expected, strict=True):
        assert g.shape[-1] % 2 == 1 and g.dtype == torch.complex128
        c = analysis_conv(x, g[None], stride=d, padding="circular")[:, 0]
        torch.testing.assert_close(c, ref, rtol=0, atol=1e-12)


def test_rescaled_dtcwt_is_nearly_parseval():
    # alias-free Littlewood-Paley sum sum_j |g_j|^2 / d_j of the frontend's DTCWT stage
    for n_octaves in (3, 8):
        frontend = MultiresFrontend(n_octaves, 1, 1, sample_rate=SR).double()
        lp = 0
        for j, d in enumerate(frontend._group_strides):
            lp = lp + torch.fft.fft(frontend._dtcwt(j), n=2**16).abs().square() / d
        real_input = 0.5 * (lp + torch.roll(torch.flip(lp, (0,)), 1))
        assert 0.95 < float(real_input.min()) and float(real_input.max()) < 1.05


@pytest.mark.parametrize("taps", [7, 8])
def test_forward_is_the_strided_correlation_with_the_impulse_responses(taps, float64):
    frontend = MultiresFrontend(4, [2, 3, 1, 2], taps, sample_rate=SR, seed=3)
    w = frontend.impulse_responses()
    assert w.shape == (frontend.n_filters, frontend.kernel_size) and w.is_complex()
    assert frontend.kernel_size % 2 == 1
    strides = frontend.stride
    assert len(strides) == frontend.n_filters == 9
    x = noise(2, 16 * 40, seed=4)
    for padding in ("circular", "same"):
        frontend.padding = padding
        for row, c in enumerate(_rows(frontend.analyze(x))):
            c = c[:, 0]
            ref = analysis_conv(x, w[row : row + 1], stride=strides[row], padding=padding)[:, 0]
            assert c.shape == ref.shape
            if padding == "same" and row < frontend.n_filters - 1:  # documented edges
                lo, hi = taps // 2, taps - 1 - taps // 2
                c, ref = c[:, lo : c.shape[-1] - hi], ref[:, lo : ref.shape[-1] - hi]
            torch.testing.assert_close(c, ref, rtol=0, atol=1e-12)


def _rows(coeffs):
    """Per-octave tensors (batch, Q, frames) -> list of (batch, 1, frames), row by row."""
    return [c[:, q : q + 1] for c in coeffs for q in range(c.shape[1])]


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")
@pytest.mark.parametrize("taps", [9, 8])
def test_agrees_with_murenn_given_the_same_weights(taps, float64):
    n_octaves, q = 4, 3
    model = murenn.MuReNNDirect(J=n_octaves, Q=q, T=taps, in_channels=1, padding_mode="circular")
    frontend = MultiresFrontend.from_murenn(model, sample_rate=SR, padding="circular")
    x = noise(2, 16 * 48, seed=5)
    low, bands = model.dtcwt(x[:, None])
    ours = frontend.analyze(x)
    # murenn's Conv1d(padding="same") centres even kernels one frame later
    shift = 1 - taps % 2
    for j in range(n_octaves):
        theirs = model.conv1d[j](bands[j].real) + 1j * model.conv1d[j](bands[j].imag)
        frames = theirs.shape[-1]
        inner = slice(taps // 2 + shift, frames - taps // 2 - 1)
        inner_theirs = slice(taps // 2, frames - taps // 2 - 1 - shift)
        torch.testing.assert_close(
            ours[j][..., inner], theirs[..., inner_theirs], rtol=0, atol=1e-10
        )
    # murenn's own forward: its last octave is only rectified (no further downsampling)
    with torch.no_grad():
        out = model(x[:, None])[:, 0, -q:]
    last = ours[n_octaves - 1].abs()
    frames = out.shape[-1]
    inner = slice(taps // 2 + shift, frames - taps // 2 - 1)
    inner_theirs = slice(taps // 2, frames - taps // 2 - 1 - shift)
    torch.testing.assert_close(last[..., inner], out[..., inner_theirs], rtol=0, atol=1e-10)


def test_forward_shapes_layouts_and_pooling():
    frontend = MultiresFrontend(3, 2, 5, sample_rate=SR, modulus="power")
    x = torch.tensor(white_noise(1000, seed=6), dtype=torch.float32)[None].repeat(3, 1)
    y = frontend(x)
    assert y.shape == (3, 7, 125)  # ceil(1000 / 8) frames at the common stride 8
    torch.testing.assert_close(frontend(x[:, None]), y)
    coeffs = frontend.analyze(x)
    assert [tuple(c.shape) for c in coeffs] == [(3, 2, 500), (3, 2, 250), (3, 2, 125), (3, 1, 125)]
    # octave 0 is averaged over 4 consecutive frames of its squared modulus
    power0 = coeffs[0].abs().square()
    torch.testing.assert_close(y[:, :2, 3], power0[..., 12:16].mean(-1), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(y[:, -1], coeffs[-1][:, 0].abs().square(), rtol=1e-5, atol=1e-7)
    logged = MultiresFrontend(3, 2, 5, sample_rate=SR, modulus="power", compression="log")
    torch.testing.assert_close(logged(x), torch.log(y.clamp(min=1e-6)))


def test_multirate_bank_reaches_the_analysis_functions():
    frontend = MultiresFrontend(3, 2, 5, sample_rate=SR)
    bank = as_filterbank(frontend)
    assert bank.is_multirate and bank.period == 8 and bank.sample_rate == SR
    x = white_noise(1024, seed=7)
    # energy of the analysis stage = the energy of the coefficients (circular, 8 | N)
    circular = MultiresFrontend(3, 2, 5, sample_rate=SR, padding="circular")
    coeffs = circular.analyze(torch.tensor(x)[None].float())
    direct = sum(float(c.detach().abs().square().sum()) for c in coeffs)
    assert float(energy_response(bank, x)) == pytest.approx(direct, rel=1e-5)
    # multirate frame bounds: the extreme eigenvalues of the dense frame operator
    n = 8 * -(-bank.kernel_size // 8)
    phi = analysis_matrix(bank.real_part_bank(), n_fft=n)
    eig = torch.linalg.eigvalsh(phi.T @ phi)
    A, B = frame_bounds(bank, n_fft=n)
    assert float(A) == pytest.approx(float(eig[0]), rel=1e-8, abs=1e-12)
    assert float(B) == pytest.approx(float(eig[-1]), rel=1e-8)
    assert 0 < float(A) <= float(B)


def test_gradcheck_of_the_learnable_kernels(float64):
    frontend = MultiresFrontend(2, [2, 1], 3, sample_rate=SR, modulus="power", seed=1)
    x = noise(1, 32, seed=8)
    names = [name for name, _ in frontend.named_parameters()]

    def features(*weights):
        return torch.func.functional_call(frontend, dict(zip(names, weights, strict=True)), (x,))

    class Responses(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.frontend = frontend

        def forward(self):
            return torch.view_as_real(self.frontend.impulse_responses())

    def responses(*weights):
        params = {f"frontend.{n}": w for n, w in zip(names, weights, strict=True)}
        return torch.func.functional_call(Responses(), params, ())

    inputs = tuple(p.detach().clone().requires_grad_() for p in frontend.parameters())
    assert torch.autograd.gradcheck(features, inputs, eps=1e-6, atol=1e-7)
    assert torch.autograd.gradcheck(responses, inputs, eps=1e-6, atol=1e-7)


@pytest.mark.parametrize("signal", ["noise", "silence", "square"])
def test_no_nan_after_200_adam_steps(signal):
    torch.manual_seed(0)  # the target only
    n = 512
    x = {
        "noise": torch.tensor(white_noise(n, seed=9), dtype=torch.float32),
        "silence": torch.zeros(n),
        "square": torch.sign(torch.sin(torch.arange(n) * (2 * np.pi * 440 / SR)) + 1e-9),
    }[signal][None]
    frontend = MultiresFrontend(3, 2, 5, sample_rate=SR, compression="log")
    assert bool(torch.isfinite(frontend(x)).all())
    target = torch.randn_like(frontend(x))
    opt = torch.optim.Adam(frontend.parameters(), lr=1e-2)
    for _ in range(200):
        opt.zero_grad()
        loss = (frontend(x) - target).square().mean()
        loss.backward()
        opt.step()
    assert bool(torch.isfinite(loss))
    assert all(bool(torch.isfinite(p).all()) for p in frontend.parameters())
    assert bool(torch.isfinite(frontend.impulse_responses()).all())


def test_state_dict_round_trip_and_double():
    a = MultiresFrontend(3, 2, 5, sample_rate=SR, seed=1)
    b = MultiresFrontend(3, 2, 5, sample_rate=SR, seed=2)
    x = torch.tensor(white_noise(400, seed=10), dtype=torch.float32)[None]
    assert not torch.allclose(a(x), b(x))
    b.load_state_dict(a.state_dict())
    torch.testing.assert_close(b(x), a(x))
    a.double()
    assert all(t.dtype == torch.float64 for t in [*a.parameters(), *a.buffers()])
    assert a.impulse_responses().dtype == torch.complex128
    assert a(x.double()).dtype == torch.float64


def test_same_seed_same_frontend_and_default_scale():
    a = MultiresFrontend(3, 4, 16, sample_rate=SR, seed=5)
    b = MultiresFrontend(3, 4, 16, sample_rate=SR, generator=torch.Generator().manual_seed(5))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        torch.testing.assert_close(p, q)
    big = MultiresFrontend(3, 64, 64, sample_rate=SR, seed=0)
    assert float(big.weights[0].detach().square().mean()) == pytest.approx(1 / (64 * 64), rel=0.05)
    ones = MultiresFrontend(3, 64, 64, sample_rate=SR, sigma=1.0, seed=0)
    assert float(ones.weights[0].detach().std()) == pytest.approx(1.0, rel=0.05)


def test_bad_arguments_name_the_rule():
    with pytest.raises(ParameterError, match=r"padding='valid' must be 'same' or 'circular'"):
        MultiresFrontend(3, 2, 5, padding="valid")
    with pytest.raises(ParameterError, match=r"modulus=None must be 'abs' or 'power'"):
        MultiresFrontend(3, 2, 5, modulus=None)
    with pytest.raises(ParameterError, match=r"len\(filters_per_octave\)=2 must equal n_octaves=3"):
        MultiresFrontend(3, [2, 2], 5)
    with pytest.raises(ParameterError, match=r"n_octaves=0 must be an integer >= 1"):
        MultiresFrontend(0, 2, 5)
    with pytest.raises(ParameterError, match=r"octave_kernel_size=0 must be an integer >= 1"):
        MultiresFrontend(3, 2, 0)
    with pytest.raises(ParameterError, match=r"seed and generator must not both be given"):
        MultiresFrontend(3, 2, 5, seed=1, generator=torch.Generator())
    model = murenn.MuReNNDirect(J=2, Q=2, T=4, in_channels=2)
    with pytest.raises(ParameterError, match=r"in_channels=2 must be 1"):
        MultiresFrontend.from_murenn(model)
