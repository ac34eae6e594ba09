r"""Energy bounds of projected power frontends (mel, gammatonegram).

The total energy :math:`\sum_{j,t} Y[j,t]` of a periodic signal, summed over one period of
frames, is the circular quantity the bounds concern. Each test checks, on the peer's own
forward pass, that the bounds hold on random signals and are attained by the extreme
signals: the cosines at the extreme bins of the weighted Littlewood-Paley sum (stride 1),
or the extreme eigenvectors of a dense frame operator built here from the atoms (hop > 1).
"""

from __future__ import annotations

import math
import warnings

import asteroid_filterbanks as af
import librosa
import pytest
import torch
from nnAudio import features as nf

from fbinit import Filterbank, littlewood_paley
from fbinit.errors import ParameterError
from fbinit.frontends import Frontend
from fbinit.frontends.adapters import Adapted, adapt, energy_bounds
from fbinit.frontends.adapters.power import weighted_bank
from fbinit.frontends.stft import stft_atoms

N = 256  # period of the test signals = n_fft of the bounds
RTOL = 1e-4  # the peers compute in float32


def periodic(x: torch.Tensor, extra: int) -> torch.Tensor:
    """One period x followed by its first ``extra`` samples, as (batch, 1, N + extra)."""
    return torch.cat([x, x[..., :extra]], dim=-1).reshape(-1, 1, x.shape[-1] + extra).float()


def nnaudio_energy(module, x: torch.Tensor, hop: int, window: int) -> torch.Tensor:
    """sum_j sum_t Y[j, t] over one period of frames (center=False), per signal."""
    with torch.no_grad():
        y = module(periodic(x, window - hop))
    assert y.shape[-1] == N // hop
    return y.double().sum(dim=(-2, -1))


def dense_operator(bank: Filterbank, n: int) -> torch.Tensor:
    """Rows x -> sum_t w_k[t] x[(m d + t) mod n], for every atom k and frame m (a reference)."""
    padded = torch.zeros(bank.n_filters, n, dtype=bank.weights.dtype)
    padded[:, : bank.kernel_size] = bank.weights
    rows = [torch.roll(padded, m * bank.stride, dims=-1) for m in range(n // bank.stride)]
    return torch.stack(rows, dim=1).reshape(-1, n)


@pytest.fixture(scope="module")
def mel_stride1():
    return nf.MelSpectrogram(
        sr=8000, n_fft=64, hop_length=1, n_mels=8, center=False, fmin=0.0, verbose=False
    )


def test_bounds_hold_and_are_attained_at_stride_one(mel_stride1, generator):
    bounds = energy_bounds(mel_stride1, n_fft=N)
    assert bounds.exact and bounds.bank.stride == 1 and bounds.n_fft == N
    assert bounds.A > 0 and bounds.B > bounds.A
    x = torch.randn(16, N, generator=generator, dtype=torch.float64)
    energy, norm = nnaudio_energy(mel_stride1, x, 1, 64), x.square().sum(-1)
    assert bool((energy >= bounds.A * norm * (1 - RTOL)).all())
    assert bool((energy <= bounds.B * norm * (1 + RTOL)).all())
    lp = littlewood_paley(bounds.bank, n_fft=N)[: N // 2 + 1]
    t = torch.arange(N, dtype=torch.float64)
    for k, target in ((int(lp.argmin()), bounds.A), (int(lp.argmax()), bounds.B)):
        cosine = torch.cos(2 * math.pi * k * t / N)[None]
        e = float(nnaudio_energy(mel_stride1, cosine, 1, 64)[0])
        assert e == pytest.approx(target * float(cosine.square().sum()), rel=RTOL)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nf.MelSpectrogram(
            sr=8000, n_fft=64, hop_length=16, n_mels=8, center=False, verbose=False
        ),
        lambda: nf.Gammatonegram(
            sr=8000, n_fft=64, hop_length=16, n_bins=8, center=False, verbose=False
        ),
    ],
    ids=["MelSpectrogram", "Gammatonegram"],
)
def test_bounds_are_attained_by_extreme_eigenvectors_at_a_hop(make, generator):
    module = make()
    bounds = energy_bounds(module, n_fft=N)
    assert bounds.bank.stride == 16
    phi = dense_operator(bounds.bank, N)
    eig, vectors = torch.linalg.eigh((phi.conj().T @ phi).real)  # real signals
    assert eig[0] == pytest.approx(bounds.A, rel=1e-9, abs=1e-12 * bounds.B)
    assert eig[-1] == pytest.approx(bounds.B, rel=1e-9)
    extremes = vectors[:, [0, -1]].T
    e = nnaudio_energy(module, extremes, 16, 64)
    assert float(e[0]) == pytest.approx(bounds.A, rel=RTOL, abs=RTOL * bounds.B)
    assert float(e[1]) == pytest.approx(bounds.B, rel=RTOL)
    x = torch.randn(16, N, generator=generator, dtype=torch.float64)
    ratio = nnaudio_energy(module, x, 16, 64) / x.square().sum(-1)
    assert bool((ratio >= bounds.A * (1 - RTOL)).all() and (ratio <= bounds.B * (1 + RTOL)).all())


class MelStft(Frontend):
    """A mel frontend built on the base class: Fourier atoms, power, librosa's mel matrix."""

    def __init__(self, n_fft: int = 64, stride: int = 4, sample_rate: float = 8000.0):
        mel = torch.from_numpy(librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=10))
        super().__init__(
            sample_rate=sample_rate,
            stride=stride,
            padding="circular",
            modulus="power",
            projection=mel.double(),
        )
        self.register_buffer(
            "atoms", stft_atoms(torch.hann_window(n_fft, dtype=torch.float64), n_fft)
        )

    def impulse_responses(self) -> torch.Tensor:
        return self.atoms


def test_fbinit_frontend_projection_bounds(generator):
    frontend = MelStft()
    bounds = energy_bounds(frontend, n_fft=N)
    assert bounds.exact and torch.allclose(bounds.weights, frontend.projection.sum(0))
    x = torch.randn(8, N, generator=generator, dtype=torch.float64)
    ratio = frontend(x).sum(dim=(-2, -1)) / x.square().sum(-1)  # circular: one period exactly
    assert bool((ratio >= bounds.A * (1 - 1e-12)).all() and (ratio <= bounds.B * (1 + 1e-12)).all())
    phi = dense_operator(bounds.bank, N)
    eig, vectors = torch.linalg.eigh((phi.conj().T @ phi).real)
    extremes = frontend(vectors[:, [0, -1]].T).sum(dim=(-2, -1))
    assert float(extremes[0]) == pytest.approx(bounds.A, rel=1e-9, abs=1e-12 * bounds.B)
    assert float(extremes[1]) == pytest.approx(bounds.B, rel=1e-9)


def test_magnitude_projection_warns_and_is_not_exact():
    encoder = af.Encoder(af.MelGramFB(64, 64, stride=16, n_mels=10, sample_rate=8000.0))
    with pytest.warns(UserWarning, match=r"applies its matrix to \|X\|\^1"):
        bounds = energy_bounds(encoder)
    assert not bounds.exact and bounds.n_fft == 1024  # default: max(1024, 2 T), hop multiple
    frontend = MelStft()
    frontend.compression = torch.nn.Identity()
    with pytest.warns(UserWarning, match="pools or compresses after it"):
        assert not energy_bounds(frontend, n_fft=N).exact


def test_weighted_bank_scales_each_atom():
    bank, c = weighted_bank(torch.eye(3), torch.tensor([[1.0, 1.0, 0.0], [0.0, 3.0, 0.0]]))
    assert c.tolist() == [1.0, 4.0, 0.0]
    assert bank.weights.diagonal().tolist() == [1.0, 2.0, 0.0]


def test_energy_bounds_errors():
    with pytest.raises(ParameterError, match="must apply a nonnegative matrix"):
        energy_bounds(torch.nn.Conv1d(1, 4, 8))
    frontend = MelStft()
    frontend.projection = None
    with pytest.raises(ParameterError, match="must have a projection"):
        energy_bounds(frontend)
    with pytest.raises(ParameterError, match="must be nonnegative"):
        weighted_bank(torch.eye(2), -torch.ones(1, 2))
    with pytest.raises(ParameterError, match=r"projection.shape=\(1, 3\) must be"):
        weighted_bank(torch.eye(2), torch.ones(1, 3))
    multirate = Adapted(Filterbank(torch.eye(2), stride=[1, 2]), projection=torch.ones(1, 2))
    with pytest.raises(ParameterError, match="must be one hop"):
        energy_bounds(multirate)
    with pytest.raises(ParameterError, match="must have a projection"):
        energy_bounds(Adapted(Filterbank(torch.eye(2))))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert adapt(nf.STFT(n_fft=64, verbose=False)).projection is None
