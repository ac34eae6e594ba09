r"""Closed forms of Du, Lee and Tian (2018) for Gaussian inputs.

Every function broadcasts over leading dimensions of ``w`` (several filters at once) and
computes in float64. :math:`\theta = \angle(w, w^*)` throughout.

References
----------
S. S. Du, J. D. Lee, Y. Tian, "When is a Convolutional Filter Easy to Learn?", ICLR 2018.
"""

from __future__ import annotations

import math

import torch

from fbinit._validate import as_double_tensor, check_int
from fbinit.errors import ParameterError

__all__ = [
    "angle",
    "relu_kernel",
    "single_neuron_gradient",
    "population_loss",
    "population_gradient",
    "wedge_second_moment",
    "wedge_eigenvalues",
    "hessian_at_optimum",
]


def _vector(name: str, value) -> torch.Tensor:
    tensor = as_double_tensor(name, value)
    if tensor.is_complex() or tensor.ndim == 0:
        raise ParameterError(f"{name} must be a real tensor of shape (..., p)")
    if bool((torch.linalg.vector_norm(tensor, dim=-1) == 0).any()):
        raise ParameterError(f"{name} must be nonzero (the ReLU gradient is undefined at 0)")
    return tensor


def _pair(w, w_star, names: tuple[str, str] = ("w", "w_star")) -> tuple[torch.Tensor, ...]:
    w = _vector(names[0], w)
    w_star = _vector(names[1], w_star)
    if w.shape[-1] != w_star.shape[-1]:
        raise ParameterError(
            f"{names[1]}.shape[-1]={w_star.shape[-1]} must equal {names[0]}.shape[-1]={w.shape[-1]}"
        )
    return w, w_star


def angle(w, w_star) -> torch.Tensor:
    r"""Angle between filters, in radians.

    Parameters
    ----------
    w, w_star : array-like, shape (..., p), nonzero
        Filters (broadcast against each other).

    Returns
    -------
    torch.Tensor, shape (...)
        .. math:: \theta = \arccos \frac{w^\top w^*}{\|w\|\,\|w^*\|} \in [0, \pi],

        computed as :math:`2\,\mathrm{atan2}(\|\hat w - \hat w^*\|, \|\hat w + \hat w^*\|)`,
        accurate near 0 and :math:`\pi`.

    Examples
    --------
    >>> float(angle([1.0, 0.0], [0.0, 2.0])) == math.pi / 2
    True
    """
    w, w_star = _pair(w, w_star)
    return _angle(w, w_star)


def _angle(w: torch.Tensor, w_star: torch.Tensor) -> torch.Tensor:
    # 2 atan2(|u - v|, |u + v|) is accurate near 0 and pi, unlike arccos of the cosine.
    u = w / torch.linalg.vector_norm(w, dim=-1, keepdim=True)
    v = w_star / torch.linalg.vector_norm(w_star, dim=-1, keepdim=True)
    return 2 * torch.atan2(
        torch.linalg.vector_norm(u - v, dim=-1), torch.linalg.vector_norm(u + v, dim=-1)
    )


def relu_kernel(a, b) -> torch.Tensor:
    r"""Gaussian ReLU correlation :math:`\mathbb E[\mathrm{relu}(a^\top x)\mathrm{relu}(b^\top x)]`.

    Parameters
    ----------
    a, b : array-like, shape (..., p), nonzero
        Weight vectors; :math:`x \sim \mathcal N(0, I_p)`.

    Returns
    -------
    torch.Tensor, shape (...)
        .. math:: \frac{\|a\|\,\|b\|}{2\pi}\big(\sin t + (\pi - t)\cos t\big),\quad
                  t = \angle(a, b).

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> round(float(relu_kernel([3.0, 4.0], [3.0, 4.0])), 12)  # E[relu(z)^2] ||a||^2 = 25/2
    12.5
    """
    a, b = _pair(a, b, ("a", "b"))
    return _relu_kernel(a, b)


def _relu_kernel(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    t = _angle(a, b)
    norms = torch.linalg.vector_norm(a, dim=-1) * torch.linalg.vector_norm(b, dim=-1)
    return norms * (torch.sin(t) + (math.pi - t) * torch.cos(t)) / (2 * math.pi)


def single_neuron_gradient(w, w_star) -> torch.Tensor:
    r"""Population gradient of one ReLU neuron under Gaussian input.

    Parameters
    ----------
    w, w_star : array-like, shape (..., p), nonzero
        Student and teacher filters.

    Returns
    -------
    torch.Tensor, shape (..., p)
        .. math:: \mathbb E\big[(\mathrm{relu}(w^\top x) - \mathrm{relu}(w^{*\top} x))\,
                  x\,\mathbb 1\{w^\top x \ge 0\}\big]
                  = \frac w2 - \frac{(\pi-\theta)\,w^* + \|w^*\|\sin\theta\,
                  w/\|w\|}{2\pi}.

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> single_neuron_gradient([1.0, 0.0], [1.0, 0.0]).abs().max().item() < 1e-15
    True
    """
    w, w_star = _pair(w, w_star)
    return _single_neuron_gradient(w, w_star)


def _single_neuron_gradient(w: torch.Tensor, w_star: torch.Tensor) -> torch.Tensor:
    theta = _angle(w, w_star)[..., None]
    w_hat = w / torch.linalg.vector_norm(w, dim=-1, keepdim=True)
    star_norm = torch.linalg.vector_norm(w_star, dim=-1, keepdim=True)
    return w / 2 - ((math.pi - theta) * w_star + star_norm * torch.sin(theta) * w_hat) / (
        2 * math.pi
    )


def population_loss(w, w_star, k: int) -> torch.Tensor:
    r"""Population loss on ``k`` non-overlapping standard Gaussian patches.

    Parameters
    ----------
    w, w_star : array-like, shape (..., p), nonzero
        Student and teacher filters.
    k : int >= 1
        Number of patches.

    Returns
    -------
    torch.Tensor, shape (...)
        With :math:`d(x) = \mathrm{relu}(w^\top x) - \mathrm{relu}(w^{*\top} x)`,

        .. math:: \ell(w) = \frac1{2k}\,\mathbb E[d^2]
                  + \frac{k-1}{2k}\,\frac{(\|w\| - \|w^*\|)^2}{2\pi},\quad
                  \mathbb E[d^2] = \tfrac12\|w\|^2 + \tfrac12\|w^*\|^2
                  - 2\,\mathbb E[\mathrm{relu}(w^\top x)\mathrm{relu}(w^{*\top} x)].

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> float(population_loss([0.0, 2.0], [0.0, 2.0], k=4))
    0.0
    """
    w, w_star = _pair(w, w_star)
    return _population_loss(w, w_star, check_int("k", k))


def _population_loss(w: torch.Tensor, w_star: torch.Tensor, k: int) -> torch.Tensor:
    nw = torch.linalg.vector_norm(w, dim=-1)
    ns = torch.linalg.vector_norm(w_star, dim=-1)
    d2 = nw**2 / 2 + ns**2 / 2 - 2 * _relu_kernel(w, w_star)
    return d2 / (2 * k) + (k - 1) / (2 * k) * (nw - ns) ** 2 / (2 * math.pi)


def population_gradient(w, w_star, k: int) -> torch.Tensor:
    r"""Gradient of :func:`population_loss` with respect to ``w``.

    Parameters
    ----------
    w, w_star : array-like, shape (..., p), nonzero
        Student and teacher filters.
    k : int >= 1
        Number of non-overlapping Gaussian patches.

    Returns
    -------
    torch.Tensor, shape (..., p)
        .. math:: \nabla\ell(w) = \frac1k\, g(w, w^*)
                  + \frac{k-1}{k}\,\frac{\|w\| - \|w^*\|}{2\pi}\,\frac{w}{\|w\|},

        with :math:`g` the :func:`single_neuron_gradient`; the second term comes from
        :math:`\mathbb E[x\,\mathbb 1\{w^\top x \ge 0\}] = w / (\|w\|\sqrt{2\pi})`.

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> population_gradient([0.0, 2.0], [0.0, 2.0], k=4).abs().max().item() < 1e-15
    True
    """
    w, w_star = _pair(w, w_star)
    return _population_gradient(w, w_star, check_int("k", k))


def _population_gradient(w: torch.Tensor, w_star: torch.Tensor, k: int) -> torch.Tensor:
    nw = torch.linalg.vector_norm(w, dim=-1, keepdim=True)
    ns = torch.linalg.vector_norm(w_star, dim=-1, keepdim=True)
    mean_term = (k - 1) / k * (nw - ns) / (2 * math.pi) * w / nw
    return _single_neuron_gradient(w, w_star) / k + mean_term


def wedge_second_moment(w, w_star) -> torch.Tensor:
    r"""Second moment of a standard Gaussian restricted to both half-spaces.

    Parameters
    ----------
    w, w_star : array-like, shape (..., p), nonzero, not collinear with opposite signs
        Filters defining the half-spaces :math:`w^\top x \ge 0` and
        :math:`w^{*\top} x \ge 0`.

    Returns
    -------
    torch.Tensor, shape (..., p, p)
        With :math:`a = \pi - \theta`, :math:`c` the unit bisector of the wedge and
        :math:`c_\perp` the unit vector orthogonal to it in span(w, w*):

        .. math:: \mathbb E[x x^\top \mathbb 1\{w^\top x \ge 0, w^{*\top} x \ge 0\}]
                  = \frac{a}{2\pi} I + \frac{\sin a}{2\pi}\,(c c^\top - c_\perp c_\perp^\top).

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> m = wedge_second_moment([1.0, 0.0, 0.0], [1.0, 0.0, 0.0])
    >>> torch.allclose(m, torch.eye(3, dtype=torch.float64) / 2)
    True
    """
    w, w_star = _pair(w, w_star)
    theta = _angle(w, w_star)
    if bool((theta >= math.pi).any()):
        raise ParameterError("angle(w, w_star) must be < pi (the wedge is empty at pi)")
    u = w / torch.linalg.vector_norm(w, dim=-1, keepdim=True)
    v = w_star / torch.linalg.vector_norm(w_star, dim=-1, keepdim=True)
    u, v = torch.broadcast_tensors(u, v)
    # In span(u, v) the wedge is the arc of width pi - theta centred on u + v; v - u is
    # orthogonal to u + v (unit u, v). When u = v, e = 0 and sin(a) = 0, so e is unused.
    c = u + v
    c = c / torch.linalg.vector_norm(c, dim=-1, keepdim=True)
    e = v - u
    e = e / torch.linalg.vector_norm(e, dim=-1, keepdim=True).clamp_min(1e-300)
    a = (math.pi - theta)[..., None, None]
    eye = torch.eye(u.shape[-1], dtype=torch.float64)
    outer_c = c[..., :, None] * c[..., None, :]
    outer_e = e[..., :, None] * e[..., None, :]
    return (a * eye + torch.sin(a) * (outer_c - outer_e)) / (2 * math.pi)


def wedge_eigenvalues(theta, p: int) -> torch.Tensor:
    r"""Eigenvalues of :func:`wedge_second_moment`, ascending.

    Parameters
    ----------
    theta : array-like, values in [0, pi)
        Angle between :math:`w` and :math:`w^*`.
    p : int >= 2
        Dimension.

    Returns
    -------
    torch.Tensor, shape (..., p)
        With :math:`a = \pi - \theta`:

        .. math:: \frac{a - \sin a}{2\pi},\ \underbrace{\frac{a}{2\pi}}_{p-2\ \text{times}},\
                  \frac{a + \sin a}{2\pi}.

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> wedge_eigenvalues(0.0, 3)
    tensor([0.5000, 0.5000, 0.5000], dtype=torch.float64)
    """
    theta = as_double_tensor("theta", theta)
    p = check_int("p", p, minimum=2)
    if bool(((theta < 0) | (theta >= math.pi)).any()):
        raise ParameterError("theta must lie in [0, pi)")
    a = (math.pi - theta)[..., None]
    middle = a.expand(*a.shape[:-1], p - 2)
    return torch.cat([a - torch.sin(a), middle, a + torch.sin(a)], dim=-1) / (2 * math.pi)


def hessian_at_optimum(w_star, k: int) -> torch.Tensor:
    r"""Hessian of :func:`population_loss` at :math:`w = w^*`.

    Parameters
    ----------
    w_star : array-like, shape (..., p), nonzero
        Teacher filter.
    k : int >= 1
        Number of non-overlapping Gaussian patches.

    Returns
    -------
    torch.Tensor, shape (..., p, p)
        The residual vanishes at :math:`w^*`, so the Hessian is the Gauss-Newton matrix
        :math:`\mathbb E[J J^\top]` with
        :math:`J = \frac1k\sum_i Z_i\,\mathbb 1\{w^{*\top} Z_i \ge 0\}`:

        .. math:: H^* = \frac1{2k} I + \frac{k-1}{2\pi k}\,\hat w^* \hat w^{*\top},

        with eigenvalues :math:`1/(2k)` and :math:`1/(2k) + (k-1)/(2\pi k)`; gradient
        descent is locally stable for :math:`\eta < 2/\lambda_\max(H^*)`.

    References
    ----------
    S. S. Du, J. D. Lee, Y. Tian, ICLR 2018 (Section 3).

    Examples
    --------
    >>> torch.linalg.eigvalsh(hessian_at_optimum([1.0, 0.0], k=1))
    tensor([0.5000, 0.5000], dtype=torch.float64)
    """
    w_star = _vector("w_star", w_star)
    k = check_int("k", k)
    u = w_star / torch.linalg.vector_norm(w_star, dim=-1, keepdim=True)
    eye = torch.eye(u.shape[-1], dtype=torch.float64)
    return eye / (2 * k) + (k - 1) / (2 * math.pi * k) * u[..., :, None] * u[..., None, :]
