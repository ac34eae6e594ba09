r"""Deterministic synthetic test signals.

Every generator takes the length ``n_samples`` first and returns a float64 numpy array of
shape ``(n_samples,)``. With ``unit_norm=True`` (the default) the output has unit L2 norm,
:math:`\|x\|_2 = 1`, the convention of the energy-response analysis. Random generators take
a ``seed`` (an int >= 0; ``None`` means 0), so the same call always returns the same array.

Time index: :math:`n = 0, \dots, N - 1` with :math:`N` = ``n_samples`` and
:math:`t = n / f_s` with :math:`f_s` = ``sample_rate``.
"""

from __future__ import annotations

import inspect
import itertools
import math
import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.signal

from fbinit._memory import check_memory
from fbinit._validate import check_choice, check_int, check_positive_float, check_probability
from fbinit.errors import ParameterError

__all__ = [
    "SYNTHETIC",
    "alternating",
    "am_tone",
    "chirp",
    "constant",
    "flute",
    "harmonic",
    "impulse",
    "lazy_walk",
    "make_paper_signals",
    "normalize",
    "pulse_train",
    "random_walk",
    "sine",
    "snare",
    "synthetic",
    "white_noise",
]

#: Default sample rate (Hz) of the generators that work in Hz: the rate of the paper's clips.
DEFAULT_SAMPLE_RATE = 22050.0


# --------------------------------------------------------------------------- helpers


def normalize(x: Any) -> np.ndarray:
    r"""Scale each signal to unit L2 norm along the last axis.

    Parameters
    ----------
    x : array_like of real numbers, shape (..., n_samples)
        One signal or a batch of signals (leading axes). Must be finite, with
        ``n_samples >= 1`` and nonzero energy in every signal.

    Returns
    -------
    numpy.ndarray of float64, shape (..., n_samples)
        :math:`x / \|x\|_2`, computed without underflow for tiny amplitudes.

    Raises
    ------
    ParameterError
        If ``x`` holds NaN or Inf, has no samples, or a signal has zero energy.
    TypeError
        If ``x`` does not hold real numbers.

    Notes
    -----
    .. math:: \tilde x = x / \|x\|_2, \qquad \|x\|_2 = \Big(\sum_n x[n]^2\Big)^{1/2}.

    Examples
    --------
    >>> normalize([3.0, 4.0])
    array([0.6, 0.8])
    """
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError, RuntimeError, NotImplementedError) as exc:
        raise TypeError(f"x must be an array of real numbers ({exc})") from exc
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"x must hold real numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if arr.ndim == 0 or arr.shape[-1] == 0:
        raise ParameterError(f"x.shape={arr.shape} must have at least one sample on the last axis")
    if not np.isfinite(arr).all():
        raise ParameterError("x must hold only finite values (found NaN or Inf)")
    scale = np.max(np.abs(arr), axis=-1, keepdims=True)
    silent = scale[..., 0] == 0
    if silent.any():
        where = "" if arr.ndim == 1 else f" (signals at {np.argwhere(silent).tolist()})"
        raise ParameterError(
            f"x has zero energy{where}; normalising to unit norm (unit_norm=True) needs a "
            "signal with nonzero energy"
        )
    scaled = arr / scale
    return scaled / np.linalg.norm(scaled, axis=-1, keepdims=True)


def _finish(x: np.ndarray, unit_norm: bool) -> np.ndarray:
    if not isinstance(unit_norm, bool):
        raise TypeError(f"unit_norm={unit_norm!r} must be a bool")
    return normalize(x) if unit_norm else x.astype(np.float64)


def _length(n_samples: Any, *, minimum: int = 1, per_sample: int = 64) -> int:
    """Validate ``n_samples`` and refuse up front a signal that cannot fit in memory."""
    n_samples = check_int("n_samples", n_samples, minimum=minimum)
    check_memory(f"n_samples={n_samples}", float(per_sample) * n_samples, "the signal")
    return n_samples


def _rng(seed: int | None) -> np.random.Generator:
    seed = 0 if seed is None else check_int("seed", seed, minimum=0)
    return np.random.default_rng(seed)


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}={value!r} must be a real number")
    value = float(value)
    if not math.isfinite(value):
        raise ParameterError(f"{name}={value} must be a finite number")
    return value


def _below_nyquist(name: str, frequency: float, sample_rate: float, what: str = "") -> None:
    nyquist = sample_rate / 2
    if not frequency < nyquist:
        label = f"{name}={frequency:g}" if not what else f"{what} = {frequency:g} Hz"
        raise ParameterError(
            f"{label} must be < sample_rate / 2 = {nyquist:g} Hz (the Nyquist frequency)"
        )


def _time(n_samples: int, sample_rate: float) -> np.ndarray:
    return np.arange(n_samples, dtype=np.float64) / sample_rate


# --------------------------------------------------------------------------- generators


def impulse(n_samples: int, *, position: int = 0, unit_norm: bool = True) -> np.ndarray:
    r"""Discrete impulse (Dirac) at ``position``.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    position : int, 0 <= position < n_samples
        Index of the nonzero sample.
    unit_norm : bool
        Scale to unit L2 norm (the impulse already has it).

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = \delta[n - n_0], \qquad R(\tau) = \delta[\tau]

    (circular autocorrelation), so the energy response of a random bank has the smallest
    possible variance, :math:`2/(JT)`.

    Examples
    --------
    >>> impulse(4, position=1)
    array([0., 1., 0., 0.])
    """
    n_samples = _length(n_samples)
    position = check_int("position", position, minimum=0)
    if position >= n_samples:
        raise ParameterError(f"position={position} must be < n_samples={n_samples}")
    x = np.zeros(n_samples)
    x[position] = 1.0
    return _finish(x, unit_norm)


def white_noise(n_samples: int, *, seed: int | None = None, unit_norm: bool = True) -> np.ndarray:
    r"""Gaussian white noise.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    seed : int >= 0, optional
        Seed of ``numpy.random.default_rng`` (None means 0).
    unit_norm : bool
        Scale to unit L2 norm; otherwise the samples are standard normal.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] \sim \mathcal N(0, 1) \ \text{i.i.d.}

    Examples
    --------
    >>> x = white_noise(1000, seed=1)
    >>> round(float(x @ x), 12)
    1.0
    """
    n_samples = _length(n_samples)
    x = _rng(seed).standard_normal(n_samples)
    return _finish(x, unit_norm)


def random_walk(
    n_samples: int,
    *,
    clip: float = 10.0,
    seed: int | None = None,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Clipped Gaussian random walk (Brownian motion kept within bounds).

    Each step adds a standard normal increment to the previous value and clips the sum to
    ``[-clip, clip]``, so the walk never drifts away yet keeps the :math:`1/f^2` spectrum of
    Brownian noise at high frequencies. It is *not* the "Brownian noise" of the paper's
    Fig. 3, which is the lazy walk on three levels of :func:`lazy_walk`.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    clip : float > 0
        Bound on :math:`|x[n]|`, in units of the step standard deviation.
    seed : int >= 0, optional
        Seed of ``numpy.random.default_rng`` (None means 0).
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[0] = \operatorname{clip}(s_0), \quad
              x[n] = \operatorname{clip}(x[n-1] + s_n), \quad s_n \sim \mathcal N(0, 1),

    with :math:`\operatorname{clip}(v) = \min(\max(v, -c), c)`. Without clipping this is the
    cumulative sum of the steps.

    Examples
    --------
    >>> x = random_walk(500, clip=3.0, seed=0, unit_norm=False)
    >>> bool(abs(x).max() <= 3.0)
    True
    """
    n_samples = _length(n_samples, per_sample=128)
    c = check_positive_float("clip", clip)
    steps = _rng(seed).standard_normal(n_samples)
    walk = itertools.accumulate(
        steps.tolist(), lambda value, step: min(max(value + step, -c), c), initial=0.0
    )
    x = np.fromiter(walk, dtype=np.float64, count=n_samples + 1)[1:]
    return _finish(x, unit_norm)


def lazy_walk(
    n_samples: int,
    *,
    p: float = 0.15,
    seed: int | None = None,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Lazy random walk on the three levels {-1, 0, 1}: the paper's "Brownian noise".

    The generator of the authors' notebooks for the "Brownian noise" of Fig. 3 of Haider et
    al. (2024) (``brownian_noise(N, 0.15)``): the walk starts at 0 and, at each of the
    N - 1 steps, draws :math:`u_n \sim U[0, 1)`; it steps down if :math:`u_n < p` and it
    is above -1, up if :math:`u_n > 1 - p` and it is below 1, and stays otherwise. A step
    beyond a boundary is not taken (the walk stays there).

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    p : float, 0 < p <= 1/2
        Probability of a step down, and of a step up (0.15 in the paper).
    seed : int >= 0, optional
        Seed of ``numpy.random.default_rng`` (None means 0); the uniforms are its
        ``random(N - 1)``.
    unit_norm : bool
        Scale to unit L2 norm (the walk of length 1 is all zero and cannot be).

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)
        Values in {-1, 0, 1} times the normalising factor.

    Notes
    -----
    .. math:: x[0] = 0, \qquad x[n] = x[n-1] - [u_n < p,\ x[n-1] > -1]
              + [u_n > 1 - p,\ x[n-1] < 1].

    A Markov chain with transition matrix
    :math:`\begin{pmatrix}1-p & p & 0\\ p & 1-2p & p\\ 0 & p & 1-p\end{pmatrix}`
    (from -1, 0, 1): doubly stochastic, so its stationary law is uniform on {-1, 0, 1}, and
    :math:`(-1, 0, 1)` is an eigenvector with eigenvalue 1 - p, so in the stationary regime

    .. math:: \mathbb E\, x[n]\, x[n+k] = \tfrac23 (1 - p)^{|k|},

    the autocorrelation of a first-order autoregression: a Lorentzian spectrum, flat below
    about :math:`p / 2\pi` cycles per sample and falling like :math:`1/f^2` above it.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024 (Fig. 3, "Brownian noise").

    Examples
    --------
    >>> x = lazy_walk(12, seed=0, unit_norm=False)
    >>> x.tolist()
    [0.0, 0.0, 0.0, -1.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0]
    """
    n_samples = _length(n_samples, per_sample=128)
    p = check_probability("p", p)
    if p > 0.5:
        raise ParameterError(f"p={p} must be <= 1/2 (a step down and a step up exclude each other)")
    u = _rng(seed).random(n_samples - 1)
    steps = np.where(u < p, -1, np.where(u > 1.0 - p, 1, 0)).tolist()
    walk = itertools.accumulate(steps, lambda value, step: min(max(value + step, -1), 1), initial=0)
    x = np.fromiter(walk, dtype=np.float64, count=n_samples)
    return _finish(x, unit_norm)


def constant(n_samples: int, *, unit_norm: bool = True) -> np.ndarray:
    r"""Constant signal (all ones before normalisation).

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    unit_norm : bool
        Scale to unit L2 norm (each sample :math:`1/\sqrt N`).

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = 1, \qquad R(\tau) = N

    All its energy is at frequency 0; the Toeplitz matrix :math:`Q_T` has rank one.

    Examples
    --------
    >>> constant(4)
    array([0.5, 0.5, 0.5, 0.5])
    """
    n_samples = _length(n_samples)
    return _finish(np.ones(n_samples), unit_norm)


def alternating(n_samples: int, *, unit_norm: bool = True) -> np.ndarray:
    r"""Alternating-sign signal :math:`(-1)^n`, all energy at the Nyquist frequency.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = (-1)^n = \cos(\pi n)

    For even N, :math:`|\hat x[k]|` is nonzero only at :math:`k = N/2`.

    Examples
    --------
    >>> alternating(4, unit_norm=False)
    array([ 1., -1.,  1., -1.])
    """
    n_samples = _length(n_samples)
    x = np.where(np.arange(n_samples) % 2 == 0, 1.0, -1.0)
    return _finish(x, unit_norm)


def sine(
    n_samples: int,
    *,
    periods: float | None = None,
    frequency: float | None = None,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    phase: float = 0.0,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Sinusoid with a given number of periods in the window, or a given frequency in Hz.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    periods : float, 0 < periods < n_samples / 2, optional
        Number of periods P in the N samples (integer or fractional). An integer P makes
        the signal exactly periodic under circular shifts. Exclusive with ``frequency``;
        when both are None, ``periods=8``.
    frequency : float, 0 < frequency < sample_rate / 2, optional
        Frequency in Hz (exclusive with ``periods``).
    sample_rate : float > 0
        Sample rate in Hz, used only with ``frequency``.
    phase : float
        Phase offset in radians.
    unit_norm : bool
        Scale to unit L2 norm; otherwise the amplitude is 1.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = \sin(\omega_0 n + \varphi), \qquad
              \omega_0 = 2\pi P / N \ \text{or}\ 2\pi f / f_s.

    With an integer P (and :math:`0 < P < N/2`) the circular autocorrelation is
    :math:`R(\tau) = \tfrac{N}{2}\cos(\omega_0 \tau)` before normalisation.

    Examples
    --------
    >>> x = sine(8, periods=2, unit_norm=False)
    >>> np.round(x, 12) + 0.0
    array([ 0.,  1.,  0., -1.,  0.,  1.,  0., -1.])
    """
    n_samples = _length(n_samples)
    if periods is not None and frequency is not None:
        raise ParameterError(
            f"periods={periods} and frequency={frequency} must not both be given (pass one)"
        )
    if frequency is not None:
        frequency = check_positive_float("frequency", frequency)
        sample_rate = check_positive_float("sample_rate", sample_rate)
        _below_nyquist("frequency", frequency, sample_rate)
        omega = 2 * math.pi * frequency / sample_rate
    else:
        periods = 8.0 if periods is None else check_positive_float("periods", periods)
        if not periods < n_samples / 2:
            raise ParameterError(
                f"periods={periods:g} must be < n_samples / 2 = {n_samples / 2:g} "
                "(more periods alias)"
            )
        omega = 2 * math.pi * periods / n_samples
    phase = _real("phase", phase)
    x = np.sin(omega * np.arange(n_samples) + phase)
    return _finish(x, unit_norm)


def harmonic(
    n_samples: int,
    *,
    f0: float = 220.0,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    n_harmonics: int = 10,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Harmonic tone: the first ``n_harmonics`` partials of ``f0`` with amplitudes 1/h.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    f0 : float > 0
        Fundamental frequency in Hz.
    sample_rate : float > 0
        Sample rate in Hz.
    n_harmonics : int >= 1
        Number of partials H; ``n_harmonics * f0`` must be below ``sample_rate / 2``.
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = \sum_{h=1}^{H} \frac{1}{h} \sin(2\pi h f_0 t), \qquad t = n / f_s

    (a band-limited sawtooth up to sign).

    Examples
    --------
    >>> harmonic(2205, f0=100.0, sample_rate=22050.0, n_harmonics=3).shape
    (2205,)
    """
    n_samples = _length(n_samples)
    f0 = check_positive_float("f0", f0)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    n_harmonics = check_int("n_harmonics", n_harmonics)
    _below_nyquist("n_harmonics", n_harmonics * f0, sample_rate, "n_harmonics * f0")
    check_memory(
        f"n_samples={n_samples}, n_harmonics={n_harmonics}",
        16.0 * n_samples * n_harmonics,
        "the partials",
    )
    h = np.arange(1, n_harmonics + 1, dtype=np.float64)
    phases = 2 * math.pi * f0 * np.outer(_time(n_samples, sample_rate), h)
    x = np.sin(phases) @ (1.0 / h)
    return _finish(x, unit_norm)


def pulse_train(
    n_samples: int, *, period: int = 64, offset: int = 0, unit_norm: bool = True
) -> np.ndarray:
    r"""Periodic pulse train: ones every ``period`` samples starting at ``offset``.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    period : int >= 1
        Distance between pulses in samples (a single pulse, with a warning, when
        ``offset + period >= n_samples``).
    offset : int, 0 <= offset < min(period, n_samples)
        Index of the first pulse.
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = \sum_m \delta[n - n_0 - m P]

    Examples
    --------
    >>> pulse_train(6, period=3, offset=1, unit_norm=False)
    array([0., 1., 0., 0., 1., 0.])
    """
    n_samples = _length(n_samples)
    period = check_int("period", period)
    offset = check_int("offset", offset, minimum=0)
    if offset >= period:
        raise ParameterError(f"offset={offset} must be < period={period}")
    if offset >= n_samples:
        raise ParameterError(f"offset={offset} must be < n_samples={n_samples}")
    if offset + period >= n_samples:
        warnings.warn(
            f"period={period} with offset={offset} leaves a single pulse in "
            f"n_samples={n_samples} samples (an impulse)",
            stacklevel=2,
        )
    x = np.zeros(n_samples)
    x[offset::period] = 1.0
    return _finish(x, unit_norm)


def am_tone(
    n_samples: int,
    *,
    carrier: float = 1000.0,
    modulator: float = 8.0,
    depth: float = 0.5,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Amplitude-modulated sinusoid.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    carrier : float > 0
        Carrier frequency :math:`f_c` in Hz; ``carrier + modulator`` must be below
        ``sample_rate / 2``.
    modulator : float > 0
        Modulation frequency :math:`f_m` in Hz.
    depth : float, 0 <= depth <= 1
        Modulation depth m.
    sample_rate : float > 0
        Sample rate in Hz.
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x[n] = \big(1 + m \cos(2\pi f_m t)\big) \sin(2\pi f_c t)

    Its spectrum has lines at :math:`f_c` and :math:`f_c \pm f_m` (relative amplitude m/2).

    Examples
    --------
    >>> x = am_tone(22050, depth=0.5, unit_norm=False)
    >>> round(float(abs(x).max()), 3)
    1.5
    """
    n_samples = _length(n_samples)
    carrier = check_positive_float("carrier", carrier)
    modulator = check_positive_float("modulator", modulator)
    depth = check_positive_float("depth", depth, allow_zero=True)
    if depth > 1:
        raise ParameterError(f"depth={depth} must be in [0, 1]")
    sample_rate = check_positive_float("sample_rate", sample_rate)
    _below_nyquist("carrier", carrier + modulator, sample_rate, "carrier + modulator")
    t = _time(n_samples, sample_rate)
    x = (1 + depth * np.cos(2 * math.pi * modulator * t)) * np.sin(2 * math.pi * carrier * t)
    return _finish(x, unit_norm)


def flute(
    n_samples: int,
    *,
    f0: float = 440.0,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    n_harmonics: int = 6,
    vibrato_rate: float = 5.0,
    vibrato_depth: float = 0.01,
    breath_noise: float = 0.05,
    seed: int | None = None,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Flute-like tone: few decaying harmonics, sinusoidal vibrato and breath noise.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    f0 : float > 0
        Mean fundamental frequency in Hz.
    sample_rate : float > 0
        Sample rate in Hz.
    n_harmonics : int >= 1
        Number of partials H; ``n_harmonics * f0 * (1 + vibrato_depth)`` must be below
        ``sample_rate / 2``.
    vibrato_rate : float > 0
        Vibrato frequency :math:`f_v` in Hz.
    vibrato_depth : float, 0 <= vibrato_depth < 1
        Relative frequency deviation d (0.01 is +-1 %, about +-17 cents).
    breath_noise : float >= 0
        RMS of the added Gaussian white noise relative to the RMS of the tone.
    seed : int >= 0, optional
        Seed of the breath noise (None means 0).
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    The instantaneous frequency is :math:`f_0 (1 + d \sin 2\pi f_v t)`; its integral gives
    the phase in closed form:

    .. math:: \phi(t) = 2\pi f_0 t + \frac{f_0 d}{f_v}\big(1 - \cos 2\pi f_v t\big), \qquad
              x = \sum_{h=1}^{H} 2^{1-h} \sin\big(h \phi(t)\big) + \beta\, r_{tone}\, \epsilon,

    with :math:`\epsilon \sim \mathcal N(0, 1)` i.i.d., :math:`\beta` = ``breath_noise`` and
    :math:`r_{tone}` the RMS of the harmonic part.

    Examples
    --------
    >>> x = flute(22050, seed=0)
    >>> x.shape, x.dtype
    ((22050,), dtype('float64'))
    """
    n_samples = _length(n_samples)
    f0 = check_positive_float("f0", f0)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    n_harmonics = check_int("n_harmonics", n_harmonics)
    vibrato_rate = check_positive_float("vibrato_rate", vibrato_rate)
    vibrato_depth = check_positive_float("vibrato_depth", vibrato_depth, allow_zero=True)
    if vibrato_depth >= 1:
        raise ParameterError(f"vibrato_depth={vibrato_depth} must be in [0, 1)")
    breath_noise = check_positive_float("breath_noise", breath_noise, allow_zero=True)
    top = n_harmonics * f0 * (1 + vibrato_depth)
    _below_nyquist("n_harmonics", top, sample_rate, "n_harmonics * f0 * (1 + vibrato_depth)")
    check_memory(
        f"n_samples={n_samples}, n_harmonics={n_harmonics}",
        16.0 * n_samples * n_harmonics,
        "the partials",
    )
    rng = _rng(seed)
    t = _time(n_samples, sample_rate)
    phi = 2 * math.pi * f0 * t + (f0 * vibrato_depth / vibrato_rate) * (
        1 - np.cos(2 * math.pi * vibrato_rate * t)
    )
    h = np.arange(1, n_harmonics + 1, dtype=np.float64)
    tone = np.sin(np.outer(phi, h)) @ (0.5 ** (h - 1))
    rms = math.sqrt(float(np.mean(tone**2)))
    x = tone + breath_noise * rms * rng.standard_normal(n_samples)
    return _finish(x, unit_norm)


def snare(
    n_samples: int,
    *,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    decay: float = 0.08,
    body_frequency: float = 180.0,
    body_level: float = 0.5,
    seed: int | None = None,
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Snare-like hit: an exponentially decaying noise burst plus a short tonal body.

    Parameters
    ----------
    n_samples : int >= 1
        Length N.
    sample_rate : float > 0
        Sample rate in Hz.
    decay : float > 0
        Time constant :math:`\tau` of the noise envelope in seconds (the body decays twice
        as fast).
    body_frequency : float, 0 < body_frequency < sample_rate / 2
        Frequency :math:`f_b` of the tonal body (drum head) in Hz.
    body_level : float >= 0
        Amplitude b of the body relative to the noise.
    seed : int >= 0, optional
        Seed of the noise (None means 0).
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    .. math:: x = \epsilon\, e^{-t/\tau} + b \sin(2\pi f_b t)\, e^{-2t/\tau}, \qquad
              \epsilon \sim \mathcal N(0, 1)\ \text{i.i.d.}

    Examples
    --------
    >>> x = snare(22050, seed=0)
    >>> bool(abs(x[:2205]).max() > abs(x[-2205:]).max())
    True
    """
    n_samples = _length(n_samples)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    decay = check_positive_float("decay", decay)
    body_frequency = check_positive_float("body_frequency", body_frequency)
    _below_nyquist("body_frequency", body_frequency, sample_rate)
    body_level = check_positive_float("body_level", body_level, allow_zero=True)
    rng = _rng(seed)
    t = _time(n_samples, sample_rate)
    noise = rng.standard_normal(n_samples) * np.exp(-t / decay)
    body = body_level * np.sin(2 * math.pi * body_frequency * t) * np.exp(-2 * t / decay)
    return _finish(noise + body, unit_norm)


def chirp(
    n_samples: int,
    *,
    f0: float = 100.0,
    f1: float = 8000.0,
    sample_rate: float = DEFAULT_SAMPLE_RATE,
    method: str = "linear",
    unit_norm: bool = True,
) -> np.ndarray:
    r"""Swept sine from ``f0`` at the first sample to ``f1`` at the last.

    Parameters
    ----------
    n_samples : int >= 2
        Length N.
    f0, f1 : float, 0 < f < sample_rate / 2
        Start and end frequencies in Hz (a downward sweep has f1 < f0).
    sample_rate : float > 0
        Sample rate in Hz.
    method : {"linear", "log"}
        Linear or exponential (logarithmic) frequency sweep.
    unit_norm : bool
        Scale to unit L2 norm.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Notes
    -----
    With :math:`t_1 = (N - 1)/f_s`, the instantaneous frequency is

    .. math:: f(t) = f_0 + (f_1 - f_0)\, t / t_1 \quad\text{or}\quad
              f(t) = f_0 (f_1 / f_0)^{t / t_1},

    and :math:`x = \sin\big(2\pi \int_0^t f\big)` (``scipy.signal.chirp`` with phase -90
    degrees).

    Examples
    --------
    >>> chirp(22050, f0=100.0, f1=1000.0, method="log").shape
    (22050,)
    """
    n_samples = _length(n_samples, minimum=2)
    sample_rate = check_positive_float("sample_rate", sample_rate)
    f0 = check_positive_float("f0", f0)
    f1 = check_positive_float("f1", f1)
    _below_nyquist("f0", f0, sample_rate)
    _below_nyquist("f1", f1, sample_rate)
    method = check_choice("method", method, ("linear", "log"))
    t = _time(n_samples, sample_rate)
    scipy_method = "linear" if method == "linear" else "logarithmic"
    x = scipy.signal.chirp(t, f0=f0, t1=t[-1], f1=f1, method=scipy_method, phi=-90.0)
    return _finish(x, unit_norm)


# --------------------------------------------------------------------------- registry

#: name -> generator; every generator is called as ``f(n_samples, **keywords)``.
SYNTHETIC: dict[str, Callable[..., np.ndarray]] = {
    "impulse": impulse,
    "white_noise": white_noise,
    "random_walk": random_walk,
    "lazy_walk": lazy_walk,
    "constant": constant,
    "alternating": alternating,
    "sine": sine,
    "harmonic": harmonic,
    "pulse_train": pulse_train,
    "am_tone": am_tone,
    "flute": flute,
    "snare": snare,
    "chirp": chirp,
}


def synthetic(name: str, n_samples: int, *, seed: int | None = None, **kwargs: Any) -> np.ndarray:
    """Generate the synthetic signal ``name`` (a key of :data:`SYNTHETIC`).

    Parameters
    ----------
    name : str
        One of ``SYNTHETIC``: impulse, white_noise, random_walk, lazy_walk, constant,
        alternating, sine, harmonic, pulse_train, am_tone, flute, snare, chirp.
    n_samples : int >= 1
        Length N.
    seed : int >= 0, optional
        Passed to the random generators (white_noise, random_walk, lazy_walk, flute,
        snare); the deterministic ones do not depend on a seed and do not receive it.
    **kwargs
        Keyword arguments of the generator.

    Returns
    -------
    numpy.ndarray of float64, shape (n_samples,)

    Examples
    --------
    >>> synthetic("pulse_train", 8, period=4, unit_norm=False)
    array([1., 0., 0., 0., 1., 0., 0., 0.])
    """
    if name not in SYNTHETIC:
        raise ParameterError(f"name={name!r} must be one of {', '.join(map(repr, SYNTHETIC))}")
    function = SYNTHETIC[name]
    if "seed" in inspect.signature(function).parameters:
        kwargs["seed"] = seed
    return function(n_samples, **kwargs)


def make_paper_signals(
    n_samples: int = 1024, *, seed: int | None = 0, periods: float = 8
) -> dict[str, np.ndarray]:
    r"""The unit-norm synthetic signals of Fig. 3 of Haider et al. (2024), named for what they are.

    Parameters
    ----------
    n_samples : int >= 1
        Length N (1024 in the paper).
    seed : int >= 0, optional
        Seed of the lazy walk.
    periods : float, 0 < periods < n_samples / 2
        Number of periods of the sinusoid (an integer keeps it circularly periodic).

    Returns
    -------
    dict of str to numpy.ndarray of float64, shape (n_samples,)
        ``impulse``, ``lazy_walk`` (the authors' "Brownian noise", :func:`lazy_walk` with
        p = 0.15) and ``sine`` (a genuine sinusoid) are the three signals of the figure;
        ``constant`` and ``alternating`` (:math:`(-1)^n`) are what the authors' notebook
        actually plotted as its "sine". Both have a rank-one Toeplitz matrix :math:`Q_T` and
        the same energy-response law.

    References
    ----------
    D. Haider, V. Lostanlen, M. Ehler, P. Balazs, "Instabilities in Convnets for Raw
    Audio", IEEE Signal Processing Letters, 2024.

    Examples
    --------
    >>> signals = make_paper_signals()
    >>> list(signals)
    ['impulse', 'lazy_walk', 'sine', 'constant', 'alternating']
    >>> all(abs(float(x @ x) - 1) < 1e-12 for x in signals.values())
    True
    """
    return {
        "impulse": impulse(n_samples),
        "lazy_walk": lazy_walk(n_samples, p=0.15, seed=seed),
        "sine": sine(n_samples, periods=periods),
        "constant": constant(n_samples),
        "alternating": alternating(n_samples),
    }
