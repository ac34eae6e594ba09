r"""Stages applied after the analysis convolution: modulus, pooling, compression.

A frontend's forward pass is ``compression(pooling(modulus(analysis_conv(x))))``, each
stage optional. Pooling and compression are modules (they may hold parameters); the
modulus is a choice of :data:`MODULI`.

- Pooling: :class:`GaussianLowpass` (LEAF's per-channel Gaussian low-pass, width fixed or
  learnable) and :class:`FIRPooling` (free per-channel taps, as the TD-filterbanks'
  learnable averaging), both a strided per-channel convolution (:func:`channel_conv`).
- Compression: :class:`LogCompression` and :class:`PCEN` (per-channel energy
  normalisation, parameters learned in log space), whose smoother is the first-order
  recursion :func:`ema`, computed by blocks without a loop over frames.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fbinit._validate import check_choice, check_int, check_positive_float
from fbinit.errors import ParameterError

__all__ = [
    "MODULI",
    "FIRPooling",
    "GaussianLowpass",
    "LogCompression",
    "PCEN",
    "channel_conv",
    "ema",
    "gaussian_lowpass_windows",
    "modulus",
    "store_tensor",
]

#: moduli a frontend can apply to its (real or complex) analysis coefficients
MODULI = ("abs", "power")
#: paddings of the pooling stages (centred, or none)
POOL_PADDINGS = ("same", "valid")


class _SquaredModulus(torch.autograd.Function):
    """|y|^2 of a complex tensor from its (real, imaginary) view, in one fused pass each way."""

    @staticmethod
    def forward(ctx, y: torch.Tensor) -> torch.Tensor:
        v = torch.view_as_real(y.resolve_conj())
        ctx.save_for_backward(v)
        return torch.addcmul(v[..., 0] * v[..., 0], v[..., 1], v[..., 1])

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        (v,) = ctx.saved_tensors
        return torch.view_as_complex(v * (2 * grad).unsqueeze(-1))


def modulus(y: torch.Tensor, kind: str) -> torch.Tensor:
    r"""``"power"``: :math:`|y|^2`; ``"abs"``: :math:`|y|`.

    The squared modulus is computed as :math:`\Re^2 + \Im^2`, without a square root, so its
    gradient is finite everywhere; ``"abs"`` has the usual zero subgradient at 0 (no NaN).
    """
    kind = check_choice("modulus", kind, MODULI)
    power = _SquaredModulus.apply(y) if y.is_complex() else y.square()
    if kind == "power":
        return power
    # |y| with a gradient of 0 (not NaN) where y = 0
    safe = torch.where(power > 0, power, torch.ones_like(power))
    return torch.where(power > 0, safe.sqrt(), torch.zeros_like(power))


def _check_features(y: torch.Tensor, n_channels: int) -> None:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
    if y.ndim != 3 or y.shape[1] != n_channels:
        raise ParameterError(
            f"y.shape={tuple(y.shape)} must be (batch, n_channels={n_channels}, frames)"
        )


def channel_conv(
    y: torch.Tensor, kernels: torch.Tensor, *, stride: int = 1, padding: str = "same"
) -> torch.Tensor:
    r"""Correlate each channel with its own kernel at a stride (a depthwise ``conv1d``).

    .. math:: z[b, c, m] = \sum_{t=0}^{K-1} h_c[t]\, \tilde y[b, c, m d + t - c_0]

    with :math:`c_0 = \lfloor K/2 \rfloor` and zeros outside (``"same"``: frame m centred on
    frame m d of the input, :math:`\lfloor (T + 2\lfloor K/2\rfloor - K)/d\rfloor + 1`
    frames) or :math:`c_0 = 0` without extension (``"valid"``).

    Parameters
    ----------
    y : torch.Tensor, shape (batch, n_channels, frames)
    kernels : torch.Tensor, shape (n_channels, kernel_size)
    stride : int >= 1
    padding : {"same", "valid"}

    Examples
    --------
    >>> channel_conv(torch.ones(1, 2, 4), torch.tensor([[1.0, 1.0, 1.0], [0.0, 1.0, 0.0]]))
    tensor([[[2., 3., 3., 2.],
             [1., 1., 1., 1.]]])
    """
    stride = check_int("stride", stride)
    padding = check_choice("padding", padding, POOL_PADDINGS)
    n_channels, kernel_size = kernels.shape
    _check_features(y, n_channels)
    if padding == "same":
        y = F.pad(y, (kernel_size // 2, kernel_size // 2))
    elif y.shape[-1] < kernel_size:
        raise ParameterError(
            f"frames={y.shape[-1]} must be >= kernel_size={kernel_size} with padding='valid'"
        )
    return F.conv1d(y, kernels.to(y.dtype)[:, None, :], stride=stride, groups=n_channels)


class LogCompression(torch.nn.Module):
    r"""Logarithmic compression with an offset and a floor: :math:`\log\max(y + o, \epsilon)`.

    Parameters
    ----------
    floor : float > 0
        :math:`\epsilon`, the smallest value taken before the logarithm.
    offset : float >= 0
        :math:`o`, added first (the TD-filterbanks use :math:`\log(1 + y)`).
    """

    def __init__(self, floor: float = 1e-6, *, offset: float = 0.0) -> None:
        super().__init__()
        self.floor = check_positive_float("floor", floor)
        self.offset = check_positive_float("offset", offset, allow_zero=True)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return torch.log(torch.clamp(y + self.offset, min=self.floor))

    def extra_repr(self) -> str:
        return f"floor={self.floor:g}, offset={self.offset:g}"


def store_tensor(module: torch.nn.Module, name: str, value: torch.Tensor, learnable: bool) -> None:
    """Register ``value`` (in the default dtype) as a parameter, or as a buffer if fixed."""
    value = value.to(torch.get_default_dtype()).contiguous()
    if learnable:
        module.register_parameter(name, torch.nn.Parameter(value))
    else:
        module.register_buffer(name, value)


def gaussian_lowpass_windows(sigma: torch.Tensor, kernel_size: int) -> torch.Tensor:
    r"""LEAF's Gaussian pooling windows, one per entry of ``sigma``.

    .. math:: h[t] = \exp\Big(-\frac12 \Big(\frac{t - (K-1)/2}{\sigma' (K-1)/2}\Big)^2\Big),
              \quad t = 0..K-1, \qquad \sigma' = \min(\max(\sigma, 2/K), 1/2),

    the width :math:`\sigma` relative to the half-length clamped as in LEAF
    (``impulse_responses.gaussian_lowpass``); the windows are not normalised (peak 1).

    Parameters
    ----------
    sigma : torch.Tensor, shape (n_channels,)
    kernel_size : int >= 2

    Returns
    -------
    torch.Tensor, shape (n_channels, kernel_size)

    Examples
    --------
    >>> gaussian_lowpass_windows(torch.tensor([0.4]), 5)
    tensor([[0.0439, 0.4578, 1.0000, 0.4578, 0.0439]])
    """
    kernel_size = check_int("kernel_size", kernel_size, minimum=2)
    sigma = torch.clamp(sigma, min=2.0 / kernel_size, max=0.5)
    half = 0.5 * (kernel_size - 1)
    t = torch.arange(kernel_size, dtype=sigma.dtype, device=sigma.device) - half
    return torch.exp(-0.5 * (t / (sigma[:, None] * half)) ** 2)


class GaussianLowpass(torch.nn.Module):
    r"""Per-channel Gaussian low-pass pooling at a stride, as in LEAF.

    Channel c is correlated (:func:`channel_conv`) with
    :func:`gaussian_lowpass_windows` of its width :math:`\sigma_c`.

    Parameters
    ----------
    n_channels : int >= 1
    kernel_size : int >= 2
        Window length (LEAF: 401 at 16 kHz).
    stride : int >= 1
        Hop (LEAF: 160).
    init : float > 0
        Initial width relative to the half-length (LEAF: 0.4; clamped to [2/K, 1/2]).
    learnable : bool
        Whether the widths are parameters (LEAF: yes) or fixed buffers.
    padding : {"same", "valid"}
        ``"same"`` centres output frame m on input frame m * stride.

    References
    ----------
    N. Zeghidour, O. Teboul, F. de Chaumont Quitry, M. Tagliasacchi, "LEAF: A learnable
    frontend for audio classification", ICLR 2021.

    Examples
    --------
    >>> pool = GaussianLowpass(3, kernel_size=9, stride=4)
    >>> pool(torch.ones(2, 3, 16)).shape
    torch.Size([2, 3, 4])
    """

    def __init__(
        self,
        n_channels: int,
        *,
        kernel_size: int = 401,
        stride: int = 160,
        init: float = 0.4,
        learnable: bool = True,
        padding: str = "same",
    ) -> None:
        super().__init__()
        self.n_channels = check_int("n_channels", n_channels)
        self.kernel_size = check_int("kernel_size", kernel_size, minimum=2)
        self.stride = check_int("stride", stride)
        self.padding = check_choice("padding", padding, POOL_PADDINGS)
        init = check_positive_float("init", init)
        store_tensor(self, "sigma", torch.full((self.n_channels,), init), learnable)

    def windows(self) -> torch.Tensor:
        """The pooling windows, shape (n_channels, kernel_size)."""
        return gaussian_lowpass_windows(self.sigma, self.kernel_size)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return channel_conv(y, self.windows(), stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.n_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"padding={self.padding!r}"
        )


class FIRPooling(torch.nn.Module):
    r"""Per-channel pooling by free FIR taps at a stride (the TD-filterbanks' averaging).

    Parameters
    ----------
    window : torch.Tensor, shape (kernel_size,) or (n_channels, kernel_size)
        Initial taps, shared by all channels when one-dimensional.
    n_channels : int >= 1
    stride : int >= 1
    learnable : bool
        Whether every channel's taps are parameters.
    padding : {"same", "valid"}

    Examples
    --------
    >>> pool = FIRPooling(torch.hann_window(8, periodic=False), 2, stride=4)
    >>> pool(torch.ones(1, 2, 16)).shape
    torch.Size([1, 2, 5])
    """

    def __init__(
        self,
        window: torch.Tensor,
        n_channels: int,
        *,
        stride: int = 1,
        learnable: bool = True,
        padding: str = "same",
    ) -> None:
        super().__init__()
        self.n_channels = check_int("n_channels", n_channels)
        self.stride = check_int("stride", stride)
        self.padding = check_choice("padding", padding, POOL_PADDINGS)
        window = torch.as_tensor(window)
        if window.ndim == 1:
            window = window.expand(self.n_channels, -1)
        if window.ndim != 2 or window.shape[0] != self.n_channels or window.is_complex():
            raise ParameterError(
                f"window.shape={tuple(window.shape)} must be (kernel_size,) or "
                f"(n_channels={self.n_channels}, kernel_size), real"
            )
        store_tensor(self, "taps", window.clone().float(), learnable)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return channel_conv(y, self.taps, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return f"{self.n_channels}, kernel_size={self.taps.shape[-1]}, stride={self.stride}"


def _recurrence(u: torch.Tensor, r: torch.Tensor, init: torch.Tensor, block: int) -> torch.Tensor:
    """s_t = u_t + r s_{t-1} along the last axis of u (..., C, T), s_{-1} = init (..., C)."""
    length = u.shape[-1]
    steps = min(block, length)
    n = torch.arange(steps, device=u.device)
    lag = n[:, None] - n[None, :]
    # r^(i - k) below the diagonal; pow's gradient is 0 (not NaN) at exponent 0
    powers = torch.where(
        lag >= 0, r[:, None, None] ** lag.clamp(min=0), torch.zeros((), dtype=r.dtype)
    )
    lead = r[:, None] ** (n + 1)  # r^(i + 1): the initial state's weight at step i
    if length <= block:
        return torch.einsum("...ck,cik->...ci", u, powers) + lead * init[..., None]
    blocks = -(-length // block)
    u = F.pad(u, (0, blocks * block - length)).unflatten(-1, (blocks, block))
    local = torch.einsum("...cnk,cik->...cni", u, powers)  # zero state at each block's start
    ends = _recurrence(local[..., -1], r**block, init, block)  # states at the blocks' ends
    before = torch.cat([init[..., None], ends[..., :-1]], dim=-1)
    s = local + lead[:, None, :] * before[..., None]
    return s.flatten(-2)[..., :length]


def ema(x: torch.Tensor, smooth: torch.Tensor, *, block: int = 32) -> torch.Tensor:
    r"""Exponential moving average over frames, per channel, started at the first frame.

    .. math:: s_t = w\, x_t + (1 - w)\, s_{t-1}, \qquad s_{-1} = x_0

    (so :math:`s_0 = x_0`, as LEAF's ``ExponentialMovingAverage`` with
    ``initial_state = inputs[0]``). Computed without a loop over frames: each block of
    ``block`` frames is one matrix product with the powers :math:`(1-w)^{i-k}`, and the
    states at the blocks' ends follow the same recursion with :math:`(1-w)^{\text{block}}`,
    solved the same way. All terms are nonnegative for nonnegative x and w in [0, 1], so no
    cancellation occurs.

    Parameters
    ----------
    x : torch.Tensor, shape (batch, n_channels, frames)
    smooth : torch.Tensor, shape (n_channels,), values in [0, 1]
        The smoothing coefficient w per channel.
    block : int >= 1

    Examples
    --------
    >>> ema(torch.tensor([[[1.0, 0.0, 0.0]]]), torch.tensor([0.5]))
    tensor([[[1.0000, 0.5000, 0.2500]]])
    """
    block = check_int("block", block)
    _check_features(x, smooth.shape[0])
    smooth = smooth.to(x.dtype)
    return _recurrence(smooth[:, None] * x, 1 - smooth, x[..., 0], block)


class PCEN(torch.nn.Module):
    r"""Per-channel energy normalisation with parameters learned in log space.

    .. math:: \mathrm{PCEN}(x)_t = \Big(\frac{x_t}{(\epsilon + s_t)^{\alpha}} + \delta
              \Big)^{1/r} - \delta^{1/r},

    with :math:`s` the :func:`ema` of x with smoothing w, per channel. The parameters are
    stored as logarithms (``log_alpha``, ``log_delta``, ``log_root``, ``log_smooth``), so
    they stay positive, and clamped as in LEAF's ``PCENLayer``: :math:`\alpha \le 1`,
    :math:`r \ge 1`, :math:`w \le 1`. Inputs are first clamped to ``input_floor``
    (LEAF applies ``max(x, 1e-5)`` before its compression), so every power has a positive
    base: no NaN on silence or at any parameter value.

    Parameters
    ----------
    n_channels : int >= 1
    alpha, smooth, delta, root : float > 0
        Initial values (LEAF: 0.96, 0.04, 2, 2).
    floor : float > 0
        :math:`\epsilon` (LEAF: 1e-12).
    input_floor : float >= 0
        Inputs below it are raised to it (LEAF: 1e-5).
    learnable : bool
        Whether the four parameters are learned, one per channel.

    References
    ----------
    Y. Wang, P. Getreuer, T. Hughes, R. F. Lyon, R. A. Saurous, "Trainable frontend for
    robust and far-field keyword spotting", ICASSP 2017 (log-space parameters).
    N. Zeghidour et al., "LEAF: A learnable frontend for audio classification", ICLR 2021.

    Examples
    --------
    >>> pcen = PCEN(2)
    >>> pcen(torch.ones(1, 2, 5)).shape
    torch.Size([1, 2, 5])
    """

    def __init__(
        self,
        n_channels: int,
        *,
        alpha: float = 0.96,
        smooth: float = 0.04,
        delta: float = 2.0,
        root: float = 2.0,
        floor: float = 1e-12,
        input_floor: float = 1e-5,
        learnable: bool = True,
    ) -> None:
        super().__init__()
        self.n_channels = check_int("n_channels", n_channels)
        self.floor = check_positive_float("floor", floor)
        self.input_floor = check_positive_float("input_floor", input_floor, allow_zero=True)
        for name, value in (("alpha", alpha), ("smooth", smooth), ("delta", delta), ("root", root)):
            value = check_positive_float(name, value)
            initial = torch.full((self.n_channels,), math.log(value))
            store_tensor(self, f"log_{name}", initial, learnable)

    def parameters_clamped(self) -> dict[str, torch.Tensor]:
        """The effective alpha, smooth, delta and root, each of shape (n_channels,)."""
        return {
            "alpha": torch.clamp(self.log_alpha, max=0.0).exp(),
            "smooth": torch.clamp(self.log_smooth, max=0.0).exp(),
            "delta": self.log_delta.exp(),
            "root": torch.clamp(self.log_root, min=0.0).exp(),
        }

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _check_features(x, self.n_channels)
        p = {k: v.to(x.dtype)[:, None] for k, v in self.parameters_clamped().items()}
        x = torch.clamp(x, min=self.input_floor)
        smoothed = ema(x, p["smooth"][:, 0])
        inverse_root = 1.0 / p["root"]
        gain = (self.floor + smoothed) ** p["alpha"]
        return (x / gain + p["delta"]) ** inverse_root - p["delta"] ** inverse_root

    def extra_repr(self) -> str:
        return f"{self.n_channels}, floor={self.floor:g}, input_floor={self.input_floor:g}"
