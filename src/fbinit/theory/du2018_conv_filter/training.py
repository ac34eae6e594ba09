r"""Gradient descent for Du, Lee and Tian (2018): population GD, empirical GD and SGD.

The step size may depend on the angle :math:`\theta_t = \angle(w_t, w^*)`: the paper's
analysis allows larger steps once the angle is small, which justifies a two-stage
schedule (small steps until :math:`\theta_t` first drops below a threshold, large steps
afterwards; the switch is permanent). The threshold uses the teacher, so it is an oracle
schedule, as in the paper's analysis.

Initialisation: :func:`initial_filter` places :math:`w_0` at a prescribed angle
:math:`\theta_0` from :math:`w^*` in a uniformly random direction, with a prescribed norm
(or draws it isotropically when no angle is given).

References
----------
S. S. Du, J. D. Lee, Y. Tian, "When is a Convolutional Filter Easy to Learn?", ICLR 2018.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from fbinit._validate import as_double_tensor, check_int, check_positive_float
from fbinit.banks.random import make_generator
from fbinit.errors import ParameterError
from fbinit.theory.du2018_conv_filter.closed_forms import (
    _angle,
    _pair,
    _population_gradient,
    _population_loss,
)
from fbinit.theory.du2018_conv_filter.model import _empirical_gradient, _empirical_loss

__all__ = [
    "StepSchedule",
    "constant_schedule",
    "two_stage_schedule",
    "Trajectory",
    "initial_filter",
    "population_gd",
    "empirical_gd",
]


@dataclass(frozen=True)
class StepSchedule:
    r"""Angle-triggered step sizes.

    .. math:: \eta_t = \begin{cases}\eta_\text{small} & \theta_s \ge \theta_\text{switch}
              \ \forall s \le t\\ \eta_\text{large} & \text{otherwise.}\end{cases}

    Attributes
    ----------
    eta_small, eta_large : float > 0 or tensor of shape (n_runs,)
        Step sizes before and after the switch; tensors give one schedule per parallel run
        (a sweep in a single vectorised training call).
    switch_angle : float >= 0 or tensor of shape (n_runs,)
        Threshold in radians (0: never switch).
    name : str
        Label used in plots and CSV files.
    """

    eta_small: torch.Tensor
    eta_large: torch.Tensor
    switch_angle: torch.Tensor
    name: str

    def __post_init__(self) -> None:
        for field, allow_zero in (
            ("eta_small", False),
            ("eta_large", False),
            ("switch_angle", True),
        ):
            value = as_double_tensor(field, getattr(self, field))
            bad = (value < 0) if allow_zero else (value <= 0)
            if value.ndim > 1 or bool(bad.any()):
                rule = ">= 0" if allow_zero else "> 0"
                raise ParameterError(f"{field}={value.tolist()} must be a scalar or vector {rule}")
            object.__setattr__(self, field, value)

    def step(
        self, theta: torch.Tensor, switched: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (eta_t, switched_t) given the current angles and the switch state."""
        switched = switched | (theta < self.switch_angle)
        eta = torch.where(switched, self.eta_large, self.eta_small)
        return eta, switched


def constant_schedule(eta, *, name: str | None = None) -> StepSchedule:
    """Constant step size ``eta`` (float > 0, or a tensor of shape (n_runs,) for a sweep).

    Examples
    --------
    >>> constant_schedule(0.5).name
    'constant eta=0.5'
    """
    label = f"constant eta={eta:g}" if isinstance(eta, (int, float)) else "constant"
    return StepSchedule(eta, eta, 0.0, name or label)


def two_stage_schedule(
    eta_small, eta_large, *, switch_angle, name: str | None = None
) -> StepSchedule:
    """Step ``eta_small`` until the angle first drops below ``switch_angle``, then ``eta_large``.

    Examples
    --------
    >>> two_stage_schedule(0.5, 4.0, switch_angle=0.5).name
    'two-stage eta=0.5->4 at theta<0.5'
    """
    try:
        label = f"two-stage eta={eta_small:g}->{eta_large:g} at theta<{switch_angle:g}"
    except TypeError:  # tensors: a sweep
        label = "two-stage"
    return StepSchedule(eta_small, eta_large, switch_angle, name or label)


@dataclass(frozen=True)
class Trajectory:
    r"""Curves of one training run (leading dimensions ``...`` index parallel runs).

    Attributes
    ----------
    angle : torch.Tensor, shape (n_iter + 1, ...)
        :math:`\theta_t = \angle(w_t, w^*)`.
    distance : torch.Tensor, shape (n_iter + 1, ...)
        :math:`\|w_t - w^*\|`.
    loss : torch.Tensor, shape (n_iter + 1, ...)
        Population loss (closed form) or the loss on the batch of iteration t.
    eta : torch.Tensor, shape (n_iter, ...)
        Step size used at iteration t.

    A run whose filter norm exceeds :math:`10^6 (\|w_0\| + \|w^*\|)` is marked
    diverged and its curves are NaN from then on (see :attr:`diverged`).
    w : torch.Tensor, shape (..., p)
        Final filter.
    """

    angle: torch.Tensor
    distance: torch.Tensor
    loss: torch.Tensor
    eta: torch.Tensor
    w: torch.Tensor

    @property
    def diverged(self) -> torch.Tensor:
        """Runs whose filter blew up (their curves are NaN from the blow-up on)."""
        return self.angle[-1].isnan()

    def iterations_to(self, tolerance: float) -> torch.Tensor:
        r"""First t with :math:`\|w_t - w^*\| \le` ``tolerance`` (-1 when never reached)."""
        hit = self.distance <= tolerance
        first = torch.argmax(hit.to(torch.int64), dim=0)
        return torch.where(hit.any(0), first, torch.full_like(first, -1))


def initial_filter(
    w_star,
    *,
    theta0: float | None = None,
    norm: float = 1.0,
    n_runs: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    r"""Random initial filter(s), optionally at a fixed angle from the teacher.

    Parameters
    ----------
    w_star : array-like, shape (p,), nonzero
        Teacher filter.
    theta0 : float in [0, pi], optional
        Angle :math:`\angle(w_0, w^*)`; None draws :math:`w_0` isotropically.
    norm : float > 0
        :math:`\|w_0\|`.
    n_runs : int >= 1, optional
        Number of independent initial filters (leading dimension).
    generator : torch.Generator, optional
        Source of randomness (default: a generator seeded with 0).

    Returns
    -------
    torch.Tensor, shape (p,) or (n_runs, p)
        .. math:: w_0 = \|w_0\|\,(\cos\theta_0\,\hat w^* + \sin\theta_0\,u),\quad
                  u \perp w^*,\ \|u\| = 1\ \text{uniform}.

    Examples
    --------
    >>> from fbinit.theory.du2018_conv_filter.closed_forms import angle
    >>> gen = torch.Generator().manual_seed(0)
    >>> w0 = initial_filter([0.0, 0.0, 1.0], theta0=2.0, generator=gen)
    >>> round(float(angle(w0, [0.0, 0.0, 1.0])), 12)
    2.0
    """
    w_star = as_double_tensor("w_star", w_star)
    if w_star.ndim != 1 or float(w_star.norm()) == 0:
        raise ParameterError("w_star must be a nonzero vector of shape (p,)")
    norm = check_positive_float("norm", norm)
    generator = make_generator(None, generator)
    shape = (w_star.shape[0],) if n_runs is None else (check_int("n_runs", n_runs), w_star.shape[0])
    g = torch.randn(shape, generator=generator, dtype=torch.float64)
    if theta0 is None:
        return norm * g / torch.linalg.vector_norm(g, dim=-1, keepdim=True)
    theta0 = check_positive_float("theta0", theta0, allow_zero=True)
    if theta0 > math.pi:
        raise ParameterError(f"theta0={theta0} must be in [0, pi]")
    s = w_star / w_star.norm()
    u = g - (g @ s)[..., None] * s
    u = u / torch.linalg.vector_norm(u, dim=-1, keepdim=True)
    return norm * (math.cos(theta0) * s + math.sin(theta0) * u)


def _run(
    w0,
    w_star,
    gradient: Callable[[torch.Tensor, int], tuple[torch.Tensor, torch.Tensor]],
    schedule: StepSchedule,
    n_iter: int,
) -> Trajectory:
    if not isinstance(schedule, StepSchedule):
        raise TypeError(f"schedule must be a StepSchedule, got {type(schedule).__name__}")
    n_iter = check_int("n_iter", n_iter, minimum=0)
    w, w_star = _pair(w0, w_star, ("w0", "w_star"))
    if w_star.ndim != 1:
        raise ParameterError(f"w_star.ndim={w_star.ndim} must be 1 (shape (p,))")
    runs = torch.broadcast_shapes(
        schedule.eta_small.shape, schedule.eta_large.shape, schedule.switch_angle.shape
    )
    w = w.expand(*torch.broadcast_shapes(w.shape[:-1], runs), w.shape[-1]).clone()
    blowup = 1e6 * float(torch.linalg.vector_norm(w, dim=-1).max() + w_star.norm())
    angles, distances, losses, etas = [], [], [], []
    switched = torch.zeros(w.shape[:-1], dtype=torch.bool)
    for t in range(n_iter + 1):
        theta = _angle(w, w_star)
        grad, loss = gradient(w, t)
        angles.append(theta)
        distances.append(torch.linalg.vector_norm(w - w_star, dim=-1))
        losses.append(loss)
        if t == n_iter:
            break
        eta, switched = schedule.step(theta, switched)
        etas.append(eta)
        w = w - eta[..., None] * grad
        norm = torch.linalg.vector_norm(w, dim=-1, keepdim=True)
        # A run whose filter blows up (or hits 0 exactly) is marked diverged: NaN from then on.
        w = torch.where((norm > blowup) | (norm == 0) | norm.isnan(), torch.nan, w)
    return Trajectory(
        angle=torch.stack(angles),
        distance=torch.stack(distances),
        loss=torch.stack(losses),
        eta=torch.stack(etas) if etas else torch.empty((0, *w.shape[:-1]), dtype=torch.float64),
        w=w,
    )


def population_gd(w0, w_star, *, k: int, schedule: StepSchedule, n_iter: int) -> Trajectory:
    r"""Gradient descent on the closed-form population loss (Gaussian, non-overlapping).

    Parameters
    ----------
    w0 : array-like, shape (..., p), nonzero
        Initial filter(s).
    w_star : array-like, shape (p,), nonzero
        Teacher filter.
    k : int >= 1
        Number of patches.
    schedule : StepSchedule
        Step sizes.
    n_iter : int >= 0
        Number of steps.

    Returns
    -------
    Trajectory
        .. math:: w_{t+1} = w_t - \eta_t \nabla\ell(w_t)

        with :math:`\nabla\ell` from :func:`population_gradient`.

    Examples
    --------
    >>> w_star = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    >>> traj = population_gd([-1.0, 0.1, 0.0], w_star, k=2, schedule=constant_schedule(2.0),
    ...                      n_iter=200)
    >>> float(traj.distance[-1]) < 1e-6
    True
    """
    k = check_int("k", k)
    w_star = as_double_tensor("w_star", w_star)

    def gradient(w: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        return _population_gradient(w, w_star, k), _population_loss(w, w_star, k)

    return _run(w0, w_star, gradient, schedule, n_iter)


def empirical_gd(
    w0,
    w_star,
    *,
    sampler: Callable[[int, torch.Generator], torch.Tensor],
    schedule: StepSchedule,
    n_iter: int,
    batch_size: int,
    n_train: int | None = None,
    generator: torch.Generator | None = None,
) -> Trajectory:
    r"""Gradient descent on sampled patches (GD on a fixed set, or SGD / large-batch GD).

    Parameters
    ----------
    w0 : array-like, shape (..., p), nonzero
        Initial filter(s); parallel runs share the batches.
    w_star : array-like, shape (p,), nonzero
        Teacher filter.
    sampler : callable
        ``sampler(n, generator)`` returns patches of shape (n, k, p), e.g.
        :func:`~fbinit.theory.du2018_conv_filter.data.patch_sampler`.
    schedule : StepSchedule
        Step sizes.
    n_iter : int >= 0
        Number of steps.
    batch_size : int >= 1
        Samples per step.
    n_train : int >= 1, optional
        None: a fresh batch every step (``batch_size=1`` is online SGD on single samples; a
        large batch estimates the population gradient, which has no closed form for
        overlapping or non-Gaussian patches). Otherwise a training set of ``n_train``
        inputs is drawn once and each step uses ``batch_size`` of them drawn with
        replacement, or all of them (GD on the empirical loss) when
        ``batch_size >= n_train``.
    generator : torch.Generator, optional
        Source of randomness (default: a generator seeded with 0).

    Returns
    -------
    Trajectory
        ``loss`` holds the empirical loss on the batch of each step.

        .. math:: w_{t+1} = w_t - \eta_t\,\widehat{\nabla\ell}_{B_t}(w_t).

    Examples
    --------
    >>> from fbinit.theory.du2018_conv_filter.data import patch_sampler
    >>> gen = torch.Generator().manual_seed(0)
    >>> traj = empirical_gd([-1.0, 0.5, 0.0], [1.0, 0.0, 0.0], sampler=patch_sampler(p=3, k=2),
    ...                     schedule=constant_schedule(2.0), n_iter=300, batch_size=512,
    ...                     generator=gen)
    >>> float(traj.angle[-1]) < 0.1
    True
    """
    batch_size = check_int("batch_size", batch_size)
    generator = make_generator(None, generator)
    w_star = as_double_tensor("w_star", w_star)
    if not callable(sampler):
        raise TypeError(f"sampler must be callable, got {type(sampler).__name__}")
    train = None
    if n_train is not None:
        n_train = check_int("n_train", n_train)
        train = sampler(n_train, generator)

    def gradient(w: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        if train is None:
            Z = sampler(batch_size, generator)
        elif batch_size >= train.shape[0]:
            Z = train
        else:
            Z = train[torch.randint(train.shape[0], (batch_size,), generator=generator)]
        return _empirical_gradient(Z, w, w_star), _empirical_loss(Z, w, w_star)

    return _run(w0, w_star, gradient, schedule, n_iter)
