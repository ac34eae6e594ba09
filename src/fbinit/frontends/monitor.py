r"""Watch a frontend's conditioning while it trains: a plain callback for any training loop.

:class:`ConditionMonitor` records, every k optimiser steps, the frame bounds and condition
number of the frontend's analysis stage (full band and in band), each filter's centre
frequency and -3 dB bandwidth, and how far the filters moved from their initialisation.
The measures are also available as functions (:func:`frame_summary`,
:func:`response_power`, :func:`centre_and_bandwidth`, :func:`js_distance`), which
``fbinit frontends`` uses too.

Every measure is computed in float64 on the device of the frontend's weights, under
``torch.no_grad()`` (no autograd graph is kept, nothing is copied to another device while
training); the records are read back to the host only when asked for
(:meth:`ConditionMonitor.history`, :meth:`~ConditionMonitor.to_csv`,
:meth:`~ConditionMonitor.plot`).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fbinit._io import write_csv
from fbinit._validate import check_int, check_positive_float
from fbinit.analysis.frames import frame_bounds, kappa_from_bounds
from fbinit.analysis.scaling import default_n_fft as scaling_n_fft
from fbinit.banks._fir import check_band
from fbinit.errors import ParameterError
from fbinit.filterbank import Filterbank, as_filterbank

__all__ = [
    "ConditionMonitor",
    "centre_and_bandwidth",
    "default_n_fft",
    "frame_summary",
    "js_distance",
    "response_power",
]

#: quantities of :func:`frame_summary`, in the order of the tables and CSV columns
BOUNDS = ("A", "B", "kappa", "A_band", "B_band", "kappa_band")


def default_n_fft(bank: Filterbank) -> int:
    """Signal length for the bounds: :func:`fbinit.analysis.scaling.default_n_fft` of the
    kernel size (max(1024, 2 K)), rounded up to a multiple of the bank's period."""
    period = bank.period
    return -(-scaling_n_fft(bank.kernel_size) // period) * period


def frame_summary(
    bank: Any, *, n_fft: int, band: tuple[float, float] | None = None
) -> dict[str, torch.Tensor]:
    r"""Frame bounds and condition number over the full band and in ``band``.

    Parameters
    ----------
    bank : filterbank-like
        One bank (a frontend, a :class:`~fbinit.Filterbank`, ...).
    n_fft : int >= kernel_size, a multiple of the stride
        Signal length N of :func:`~fbinit.frame_bounds`.
    band : (fmin, fmax) in Hz, optional
        In-band bounds, defined by :func:`~fbinit.frame_bounds` for stride 1 only.

    Returns
    -------
    dict of float64 scalar tensors
        ``A, B, kappa`` (full band) and ``A_band, B_band, kappa_band``. NaN marks what is
        not defined: the in-band values without a band, for a stride above 1 (multirate
        banks included) or without a sample rate.

    Examples
    --------
    >>> out = frame_summary(torch.eye(4) / 2, n_fft=8)
    >>> [float(out[k]) for k in ("A", "B", "kappa")], bool(out["kappa_band"].isnan())
    ([1.0, 1.0, 1.0], True)
    """
    fb = as_filterbank(bank)
    nan = torch.tensor(float("nan"), dtype=torch.float64, device=fb.weights.device)
    out = dict.fromkeys(BOUNDS, nan)
    A, B = frame_bounds(fb, n_fft=n_fft)
    out.update(A=A, B=B, kappa=kappa_from_bounds(A, B, n_fft=n_fft, stacklevel=3))
    if band is not None and fb.stride == 1 and fb.sample_rate is not None:
        A, B = frame_bounds(fb, n_fft=n_fft, band=band)
        out.update(A_band=A, B_band=B, kappa_band=kappa_from_bounds(A, B, n_fft=n_fft))
    return out


def response_power(bank: Any, *, n_fft: int) -> torch.Tensor:
    r"""Power response that real signals see, on the bins k = 0..n_fft//2.

    .. math:: P_j[k] = \tfrac12\big(|\hat w_j(k)|^2 + |\hat w_j(-k)|^2\big),

    which is :math:`|\hat w_j(k)|^2` for real filters (a complex filter acts on real
    signals through both its positive- and negative-frequency halves).

    Returns
    -------
    torch.Tensor, float64, shape (n_filters, n_fft // 2 + 1)
    """
    fb = as_filterbank(bank)
    if n_fft < fb.kernel_size:
        raise ParameterError(f"n_fft={n_fft} must be >= kernel_size={fb.kernel_size}")
    # w = u + i v: |w^(k)|^2 + |w^(-k)|^2 = 2 (|u^(k)|^2 + |v^(k)|^2), u and v real
    spec = torch.fft.rfft(fb.real_part_bank().weights, n=n_fft)
    power = spec.real.square() + spec.imag.square()
    if fb.is_complex:
        power = power[..., : fb.n_filters, :] + power[..., fb.n_filters :, :]
    return power


def centre_and_bandwidth(
    power: torch.Tensor, *, sample_rate: float
) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Centre frequency and -3 dB bandwidth of each filter from its power response.

    Parameters
    ----------
    power : torch.Tensor, shape (n_filters, n_bins)
        :func:`response_power` on the bins k = 0..n_bins-1, bin spacing
        sample_rate / (2 (n_bins - 1)).
    sample_rate : float > 0

    Returns
    -------
    centre, bandwidth : torch.Tensor, float64, shape (n_filters,)
        In Hz; NaN for a zero filter.

    Notes
    -----
    The centre is the peak bin :math:`k^*` refined by a parabola through the log-power
    at :math:`k^* - 1, k^*, k^* + 1` (exact for a Gaussian peak). The bandwidth is the
    width of the interval around :math:`k^*` where :math:`P \ge P[k^*]/2` (-3 dB), each
    edge found by linear interpolation between the bins where P crosses the half power,
    or taken at 0 or Nyquist when P stays above it up to there.

    Examples
    --------
    >>> power = torch.tensor([[0.0, 1.0, 4.0, 1.0, 0.0]])
    >>> centre, width = centre_and_bandwidth(power, sample_rate=8.0)
    >>> float(centre), round(float(width), 4)
    (2.0, 1.3333)
    """
    power = power.to(torch.float64)
    n_bins = power.shape[-1]
    hz = sample_rate / (2 * (n_bins - 1))
    peak, k = power.max(dim=-1)
    idx = torch.arange(n_bins, device=power.device)
    # parabolic refinement on the log power, only with three positive neighbours
    km, kp = (k - 1).clamp(min=0), (k + 1).clamp(max=n_bins - 1)
    trio = torch.stack([power.gather(-1, i[:, None])[:, 0] for i in (km, k, kp)])
    ok = (k > 0) & (k < n_bins - 1) & (trio > 0).all(dim=0)
    logs = torch.where(ok, trio, torch.ones_like(trio)).log()
    curve = logs[0] - 2 * logs[1] + logs[2]
    shift = torch.where(ok & (curve < 0), 0.5 * (logs[0] - logs[2]) / curve, 0.0)
    centre = (k + shift) * hz
    # -3 dB edges: last bin below half power left of the peak, first one right of it
    below = power < peak[:, None] / 2
    half = peak[:, None] / 2
    left_of = (below & (idx < k[:, None])).to(torch.uint8)
    right_of = (below & (idx > k[:, None])).to(torch.uint8)
    last = n_bins - 1 - left_of.flip(-1).argmax(dim=-1)  # last marked bin left of the peak
    left = torch.where(left_of.amax(dim=-1) > 0, last, -1)
    right = torch.where(right_of.amax(dim=-1) > 0, right_of.argmax(dim=-1), n_bins)

    def crossing(outside: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
        p_out = power.gather(-1, outside.clamp(0, n_bins - 1)[:, None])[:, 0]
        p_in = power.gather(-1, inside.clamp(0, n_bins - 1)[:, None])[:, 0]
        frac = (half[:, 0] - p_out) / (p_in - p_out)
        return outside + frac * (inside - outside)

    lo = torch.where(left >= 0, crossing(left, left + 1), torch.zeros_like(centre))
    hi = torch.where(
        right < n_bins, crossing(right, right - 1), torch.full_like(centre, n_bins - 1)
    )
    width = (hi - lo) * hz
    zero = peak <= 0
    nan = torch.full_like(centre, float("nan"))
    return torch.where(zero, nan, centre), torch.where(zero, nan, width)


def js_distance(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    r"""Jensen-Shannon distance (base 2) between nonnegative rows, each normalised to sum 1.

    .. math:: \mathrm{JS}(p, q) = \sqrt{\tfrac12 \mathrm{KL}(p \,\|\, m) +
              \tfrac12 \mathrm{KL}(q \,\|\, m)}, \qquad m = \tfrac12 (p + q),

    with :math:`0 \log 0 = 0`; it lies in [0, 1] (1 for disjoint supports). A zero row
    gives NaN.

    Examples
    --------
    >>> js_distance(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]]))
    tensor([1.], dtype=torch.float64)
    """
    p = p.to(torch.float64)
    q = q.to(torch.float64)
    p = p / p.sum(dim=-1, keepdim=True)
    q = q / q.sum(dim=-1, keepdim=True)

    # sum p log(p / m) + q log(q / m), 0 log 0 = 0 (m = 0 only where p = q = 0); exactly 0
    # for p = q
    m = 0.5 * (p + q)
    xlogy = torch.special.xlogy
    nats = 0.5 * (xlogy(p, p) + xlogy(q, q) - xlogy(p + q, m)).sum(dim=-1)
    return (nats / math.log(2)).clamp(min=0).sqrt()


class ConditionMonitor:
    r"""Record a frontend's conditioning and drift during training (any loop, any framework).

    Parameters
    ----------
    frontend : filterbank-like
        A frontend (or any object with ``impulse_responses()``, ``stride``,
        ``sample_rate``, ``band``, e.g. a ``Conv1d``).
    every : int >= 1
        Record when the step passed to :meth:`step` is a multiple of ``every``.
    n_fft : int, optional
        Signal length N of the frame bounds and the DFT grid of the responses; a multiple
        of the stride, at least the kernel size. Default: :func:`default_n_fft`.
    band : (fmin, fmax) in Hz, optional
        Band of the in-band bounds (default: the frontend's ``band``); in-band bounds are
        defined for stride 1 only (NaN otherwise).
    sample_rate : float > 0, optional
        Sample rate in Hz (default: the frontend's; frequencies are in cycles per sample
        when neither is known, e.g. for a bare ``Conv1d``).

    Notes
    -----
    The initial state is recorded at construction as step 0; call ``monitor.step(i)`` (or
    ``monitor(i)``) after optimiser step i = 1, 2, .... Each record holds

    - ``A, B, kappa`` and ``A_band, B_band, kappa_band`` (:func:`frame_summary`);
    - ``centre_hz, bandwidth_hz`` per filter (:func:`centre_and_bandwidth` of
      :func:`response_power`);
    - ``l2_change`` per filter, :math:`\|w_j - w_j^{(0)}\|_2 / \|w_j^{(0)}\|_2`, and
      ``l2_change_bank``, the same with Frobenius norms over the bank;
    - ``js_distance`` per filter and its mean ``js_mean``: the Jensen-Shannon distance
      (base 2, :func:`js_distance`) between the filter's magnitude response
      :math:`\sqrt{P_j[k]}` on k = 0..N/2, normalised to sum 1, now and at
      initialisation. This is the measure of Anderson, Kinnunen and Harte (filter by
      filter, magnitude responses as distributions over frequency), here on the N/2 + 1
      bins of the monitor's grid: 0 for an unchanged shape (a pure gain change does not
      count), 1 for disjoint passbands.

    Examples
    --------
    >>> frontend = torch.nn.Conv1d(1, 8, 64, bias=False)
    >>> monitor = ConditionMonitor(frontend, every=2)
    >>> with torch.no_grad():
    ...     _ = frontend.weight.mul_(1.5)
    >>> monitor.step(1) is None, monitor.step(2) is not None
    (True, True)
    >>> h = monitor.history()
    >>> h["step"].tolist(), [round(v, 6) for v in h["l2_change_bank"].tolist()]
    ([0, 2], [0.0, 0.5])

    References
    ----------
    M. Anderson, T. Kinnunen, N. Harte, "Learnable frontends that do not learn:
    quantifying sensitivity to filterbank initialisation", IEEE ICASSP 2023.
    """

    def __init__(
        self,
        frontend: Any,
        *,
        every: int = 10,
        n_fft: int | None = None,
        band: tuple[float, float] | None = None,
        sample_rate: float | None = None,
    ) -> None:
        self.frontend = frontend
        self.every = check_int("every", every)
        with torch.no_grad():
            fb = as_filterbank(frontend)
        if fb.batch_shape:
            raise ParameterError(f"frontend batch shape {fb.batch_shape} must be empty")
        if sample_rate is not None:
            self.sample_rate = check_positive_float("sample_rate", sample_rate)
        else:
            self.sample_rate = fb.sample_rate if fb.sample_rate is not None else 1.0
        band = fb.band if band is None else band
        self.band = None if band is None else check_band(*band, self.sample_rate)
        self.n_fft = default_n_fft(fb) if n_fft is None else check_int("n_fft", n_fft)
        fb = self._bank(fb)
        self._initial = fb.weights.clone()  # a float64 parameter is not copied by as_filterbank
        self._initial_norms = fb.weights.abs().square().sum(dim=-1).sqrt()
        self._initial_magnitude = response_power(fb, n_fft=self.n_fft).sqrt()
        self._records: list[dict[str, Any]] = []
        self._record(0, fb)

    def _bank(self, fb: Filterbank) -> Filterbank:
        """The bank with the monitor's sample rate and band."""
        return dataclasses.replace(fb, sample_rate=self.sample_rate, band=self.band)

    def __call__(self, step: int) -> dict[str, Any] | None:
        return self.step(step)

    def step(self, step: int) -> dict[str, Any] | None:
        """Record the frontend's state if ``step`` is a multiple of ``every``.

        Returns the new record (tensors on the frontend's device) or None.
        """
        step = check_int("step", step, minimum=0)
        if step % self.every:
            return None
        with torch.no_grad():
            fb = as_filterbank(self.frontend)
        return self._record(step, self._bank(fb))

    def _record(self, step: int, fb: Filterbank) -> dict[str, Any]:
        with torch.no_grad():
            record: dict[str, Any] = {"step": step}
            record.update(frame_summary(fb, n_fft=self.n_fft, band=self.band))
            power = response_power(fb, n_fft=self.n_fft)
            centre, width = centre_and_bandwidth(power, sample_rate=self.sample_rate)
            diff = (fb.weights - self._initial).abs().square()
            record["centre_hz"] = centre
            record["bandwidth_hz"] = width
            record["l2_change"] = diff.sum(dim=-1).sqrt() / self._initial_norms
            record["l2_change_bank"] = diff.sum().sqrt() / self._initial_norms.square().sum().sqrt()
            record["js_distance"] = js_distance(power.sqrt(), self._initial_magnitude)
            record["js_mean"] = record["js_distance"].mean()
        self._records.append(record)
        return record

    def history(self) -> dict[str, np.ndarray]:
        """The records as numpy arrays: scalars (n_records,), per filter (n_records, n_filters)."""
        keys = self._records[0].keys()
        out = {}
        for key in keys:
            values = [r[key] for r in self._records]
            if isinstance(values[0], torch.Tensor):
                out[key] = torch.stack(values).cpu().numpy()
            else:
                out[key] = np.asarray(values)
        return out

    def to_csv(self, path: str | Path) -> Path:
        """Write the records as CSV, atomically: one row per step and filter.

        Columns: ``step, filter, centre_hz, bandwidth_hz, l2_change, js_distance`` then
        the bank's ``A, B, kappa, A_band, B_band, kappa_band, l2_change_bank, js_mean``
        (repeated on each row of a step). Returns the path.
        """
        h = self.history()
        per_filter = ("centre_hz", "bandwidth_hz", "l2_change", "js_distance")
        per_bank = (*BOUNDS, "l2_change_bank", "js_mean")
        rows = []
        for i, step in enumerate(h["step"].tolist()):
            bank = [h[key][i].item() for key in per_bank]
            for j in range(h["centre_hz"].shape[1]):
                rows.append([step, j, *(h[key][i, j].item() for key in per_filter), *bank])
        return write_csv(path, ["step", "filter", *per_filter, *per_bank], rows)

    def plot(self) -> Any:
        """A matplotlib Figure of the records (no pyplot, the backend is left alone).

        Panels: kappa (full band and in band), A and B, the centre frequencies, and the
        drift (mean JS distance and relative L2 change of the bank) against the step.
        """
        from matplotlib.figure import Figure

        h = self.history()
        steps = h["step"]
        fig = Figure(figsize=(10, 6.5), layout="constrained")
        ax = fig.subplots(2, 2)
        ax[0, 0].semilogy(steps, h["kappa"], "o-", label="full band")
        if np.isfinite(h["kappa_band"]).any():
            ax[0, 0].semilogy(steps, h["kappa_band"], "s-", label="in band")
        ax[0, 0].set(title="condition number κ = B / A", xlabel="step")
        ax[0, 0].legend()
        ax[0, 1].semilogy(steps, h["A"], "o-", label="A")
        ax[0, 1].semilogy(steps, h["B"], "s-", label="B")
        ax[0, 1].set(title="frame bounds (full band)", xlabel="step")
        ax[0, 1].legend()
        ax[1, 0].plot(steps, h["centre_hz"], lw=0.8)
        unit = "Hz" if self.sample_rate != 1.0 else "cycles/sample"
        ax[1, 0].set(title="centre frequency of each filter", xlabel="step", ylabel=unit)
        ax[1, 1].plot(steps, h["js_mean"], "o-", label="mean JS distance")
        ax[1, 1].plot(steps, h["l2_change_bank"], "s-", label="relative L2 change")
        ax[1, 1].set(title="drift from initialisation", xlabel="step")
        ax[1, 1].legend()
        return fig

    def __repr__(self) -> str:
        return (
            f"ConditionMonitor({type(self.frontend).__name__}, every={self.every}, "
            f"n_fft={self.n_fft}, records={len(self._records)})"
        )
