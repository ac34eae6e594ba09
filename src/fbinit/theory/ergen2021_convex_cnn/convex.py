r"""The convex program equivalent to the weight-decay two-layer CNN, solved with CVXPY.

Sign patterns: for :math:`u \in \mathbb R^h`, :math:`D^k(u) = \operatorname{diag}(1[X_k u
\ge 0])`, one :math:`u` shared by all :math:`K` patch matrices. The patterns are the
cells of the central arrangement of the :math:`nK` hyperplanes
:math:`\{u : X_k[i]\,u = 0\}` in :math:`\mathbb R^h`, at most
:math:`2\sum_{l=0}^{h-1}\binom{nK-1}{l}` of them (equality in general position): a
polynomial number in :math:`n` for fixed :math:`h`. Following the paper they are sampled,
:math:`u \sim \mathcal N(0, I_h)` and deduplicated (:func:`sample_sign_patterns`); for
small :math:`h`, :func:`enumerate_sign_patterns` lists them exactly.

Convex program over :math:`P` patterns :math:`D_i`:

.. math:: \min_{c_i, c_i'}\ \tfrac12\Bigl\|\sum_i\sum_k D_i^k X_k (c_i - c_i') - y\Bigr\|^2
          + \beta\sum_i(\|c_i\|_2 + \|c_i'\|_2)
          \quad\text{s.t.}\quad (2D_i^k - I) X_k c_i \ge 0,\ (2D_i^k - I) X_k c_i' \ge 0 .

The constraints make :math:`D_i^k X_k c_i = (X_k c_i)_+`, so every nonzero :math:`c_i`
gives the neuron :math:`u = c_i/\sqrt{\|c_i\|}`, :math:`w = \sqrt{\|c_i\|}` (and
:math:`c_i'` gives :math:`w = -\sqrt{\|c_i'\|}`) with the same objective value
(:func:`reconstruct`). With all patterns and :math:`m \ge m^\star` filters the optimum
equals the global minimum of the non-convex problem.

CVXPY (with Clarabel, SCS as fallback) is an optional dependency: ``pip install
fbinit[convex]``.

References
----------
T. Ergen, M. Pilanci, "Implicit Convex Regularizers of CNN Architectures: Convex
Optimization of Two- and Three-Layer Networks in Polynomial Time", ICLR 2021.
T. M. Cover, "Geometrical and statistical properties of systems of linear inequalities
with applications in pattern recognition", IEEE Trans. Electronic Computers, 1965.
"""

from __future__ import annotations

import itertools
import math
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from fbinit._validate import check_choice, check_int, check_positive_float
from fbinit.errors import ParameterError

__all__ = [
    "ConvexSolution",
    "arrangement_bound",
    "constraint_violation",
    "convex_objective",
    "enumerate_sign_patterns",
    "problem_size",
    "reconstruct",
    "sample_sign_patterns",
    "solve_convex",
]

#: default cap on the number of linear inequality rows (2 * n_patterns * n * K); about
#: 0.5 GB of memory and 10-15 s with Clarabel on two cores
MAX_CONSTRAINTS = 400_000
#: measured peak memory of CVXPY + Clarabel per non-zero of the problem's matrices
_BYTES_PER_NONZERO = 350


def _import_cvxpy():
    try:
        import cvxpy
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "the convex program needs CVXPY with Clarabel or SCS: pip install fbinit[convex]"
        ) from err
    return cvxpy


def _check_patches(X) -> np.ndarray:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 3:
        raise ParameterError(f"X.ndim={X.ndim} must be 3 (patches of shape (K, n, h))")
    if not np.isfinite(X).all():
        raise ParameterError("X must hold only finite values (found NaN or Inf)")
    return X


def _unique_rows(signs: np.ndarray) -> np.ndarray:
    packed = np.packbits(signs, axis=1)
    _, first = np.unique(packed, axis=0, return_index=True)
    return signs[np.sort(first)]


def sample_sign_patterns(X, n_directions: int, *, seed: int = 0) -> np.ndarray:
    r"""Distinct sign patterns of random directions :math:`u \sim \mathcal N(0, I_h)`.

    Parameters
    ----------
    X : array-like, shape (K, n, h)
        Patches.
    n_directions : int >= 1
        Number of sampled directions (the number of distinct patterns is at most this).
    seed : int >= 0

    Returns
    -------
    numpy.ndarray of bool, shape (P, K, n)
        .. math:: D_p[k, i] = 1[X_k[i]\, u_p \ge 0],

        deduplicated, in order of first appearance.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((4, 6, 3))
    >>> sample_sign_patterns(X, 2000).shape[1:]
    (4, 6)
    """
    X = _check_patches(X)
    n_directions = check_int("n_directions", n_directions)
    seed = check_int("seed", seed, minimum=0)
    K, n, h = X.shape
    u = np.random.default_rng(seed).standard_normal((n_directions, h))
    signs = (u @ X.reshape(K * n, h).T) >= 0
    return _unique_rows(signs).reshape(-1, K, n)


def enumerate_sign_patterns(X, *, max_candidates: int = 2_000_000) -> np.ndarray:
    r"""All sign patterns of the arrangement, for patch vectors in general position.

    Every cell of a central arrangement whose normals span :math:`\mathbb R^h` has an
    extreme ray, the intersection of :math:`h-1` hyperplanes; in general position the
    :math:`2^{h-1}` cells around each such ray are reached by
    :math:`u = \pm r + \varepsilon B\sigma`, :math:`A_S B = I`, :math:`\sigma \in
    \{\pm1\}^{h-1}`. Cells touching only degenerate rays (more than :math:`h-1`
    hyperplanes through one ray) may be missed.

    Parameters
    ----------
    X : array-like, shape (K, n, h)
    max_candidates : int >= 1
        Refuse to build more than this many candidate directions
        (:math:`\binom{nK}{h-1} 2^h`).

    Returns
    -------
    numpy.ndarray of bool, shape (P, K, n)

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).standard_normal((4, 6, 3))
    >>> len(enumerate_sign_patterns(X)) == arrangement_bound(24, 3)
    True
    """
    X = _check_patches(X)
    max_candidates = check_int("max_candidates", max_candidates)
    K, n, h = X.shape
    A = X.reshape(K * n, h)
    N = A.shape[0]
    if h == 1:
        u = np.array([[1.0], [-1.0]])
        return _unique_rows((u @ A.T) >= 0).reshape(-1, K, n)
    n_cand = math.comb(N, h - 1) * 2**h
    if n_cand > max_candidates:
        raise ParameterError(
            f"max_candidates={max_candidates} must be >= C({N}, {h - 1}) * 2^{h} = {n_cand} "
            "to enumerate the patterns (or sample them with sample_sign_patterns)"
        )
    subsets = np.array(list(itertools.combinations(range(N), h - 1)))
    A_S = A[subsets]  # (n_sub, h-1, h)
    _, sv, vt = np.linalg.svd(A_S, full_matrices=True)
    ray = vt[:, -1, :]  # null direction of each A_S
    ok = sv[:, -1] > 1e-10 * sv[:, 0]
    A_S, ray = A_S[ok], ray[ok]
    B = np.linalg.pinv(A_S)  # (n_sub, h, h-1), A_S @ B = I
    sigma = np.array(list(itertools.product((-1.0, 1.0), repeat=h - 1)))  # (2^{h-1}, h-1)
    offsets = np.einsum("shj,cj->sch", B, sigma)  # (n_sub, 2^{h-1}, h)
    proj = np.abs(ray @ A.T)  # (n_sub, N)
    mask = np.ones_like(proj, dtype=bool)
    np.put_along_axis(mask, subsets[ok], False, axis=1)
    margin = np.where(mask & (proj > 1e-12), proj, np.inf).min(1)
    spread = np.abs(np.einsum("sch,nh->scn", offsets, A)).max((1, 2))
    eps = 0.5 * margin / np.maximum(spread, 1e-300)
    eps = np.where(np.isfinite(eps), eps, 1.0)
    cand = ray[:, None, None, :] * np.array([1.0, -1.0])[None, :, None, None]
    cand = cand + eps[:, None, None, None] * offsets[:, None, :, :]
    signs = (cand.reshape(-1, h) @ A.T) >= 0
    return _unique_rows(signs).reshape(-1, K, n)


def arrangement_bound(n_hyperplanes: int, dim: int) -> int:
    r"""Maximal number of cells of a central arrangement (Cover's count).

    .. math:: C(N, h) = 2\sum_{l=0}^{h-1}\binom{N-1}{l} = O(N^{h-1}).

    Examples
    --------
    >>> arrangement_bound(24, 3)
    554
    """
    n_hyperplanes = check_int("n_hyperplanes", n_hyperplanes)
    dim = check_int("dim", dim)
    return 2 * sum(math.comb(n_hyperplanes - 1, l) for l in range(dim))


def problem_size(n_patterns: int, n_samples: int, n_patches: int, kernel_size: int) -> dict:
    r"""Size of the convex program before it is built.

    Returns
    -------
    dict
        ``variables`` :math:`2Ph`, ``constraints`` (linear inequality rows)
        :math:`2PnK`, ``cones`` (second-order cones) :math:`2P + 1`, ``nonzeros``
        (of the constraint and data matrices) :math:`2PnKh + 2nPh`.

    Examples
    --------
    >>> problem_size(100, 6, 4, 3)["constraints"]
    4800
    """
    P, n, K, h = (
        check_int(k, v)
        for k, v in (
            ("n_patterns", n_patterns),
            ("n_samples", n_samples),
            ("n_patches", n_patches),
            ("kernel_size", kernel_size),
        )
    )
    return {
        "variables": 2 * P * h,
        "constraints": 2 * P * n * K,
        "cones": 2 * P + 1,
        "nonzeros": 2 * P * n * K * h + 2 * n * P * h,
    }


def _matrices(X: np.ndarray, patterns: np.ndarray):
    """Data matrix A (n, P h) and block-diagonal constraint matrix G (P n K, P h)."""
    K, n, h = X.shape
    P = patterns.shape[0]
    D = patterns.astype(np.float64)
    M = np.einsum("pki,kih->pih", D, X)  # M_p = sum_k D_p^k X_k
    A = M.transpose(1, 0, 2).reshape(n, P * h)
    S = (2.0 * D - 1.0).reshape(P, K * n)
    vals = S[:, :, None] * X.reshape(K * n, h)[None]  # (P, Kn, h)
    rows = np.broadcast_to(np.arange(P * K * n).reshape(P, K * n, 1), vals.shape)
    cols = np.broadcast_to(
        (np.arange(P)[:, None, None] * h + np.arange(h)[None, None, :]), vals.shape
    )
    G = sp.csr_matrix((vals.ravel(), (rows.ravel(), cols.ravel())), shape=(P * K * n, P * h))
    return A, G


@dataclass(frozen=True)
class ConvexSolution:
    """Solution of the convex program.

    Attributes
    ----------
    C, C_prime : ndarray, shape (P, h)
        Blocks :math:`c_i`, :math:`c_i'` (NaN when no solver succeeded).
    objective : float
        Optimal value reported by the solver.
    status : str
        CVXPY status of the last solver tried (``optimal`` on success).
    solver : str
        Solver that produced the solution (``CLARABEL`` or ``SCS``).
    solve_time : float
        Wall-clock seconds for building and solving.
    n_patterns : int
        Number of sign patterns :math:`P`.
    patterns : ndarray of bool, shape (P, K, n)
    beta : float
    """

    C: np.ndarray
    C_prime: np.ndarray
    objective: float
    status: str
    solver: str
    solve_time: float
    n_patterns: int
    patterns: np.ndarray
    beta: float


def solve_convex(
    X,
    y,
    beta: float,
    patterns,
    *,
    solver: str = "CLARABEL",
    max_constraints: int = MAX_CONSTRAINTS,
) -> ConvexSolution:
    r"""Solve the convex program over the given sign patterns with CVXPY.

    Parameters
    ----------
    X : array-like, shape (K, n, h)
        Patches.
    y : array-like, shape (n,)
    beta : float > 0
        Weight decay :math:`\beta`.
    patterns : array-like of bool, shape (P, K, n)
        Sign patterns (:func:`sample_sign_patterns` or :func:`enumerate_sign_patterns`).
    solver : {'CLARABEL', 'SCS'}
        First solver to try; when it fails (error or non-optimal status), the other one is
        tried.
    max_constraints : int >= 1
        Largest allowed number of linear inequality rows :math:`2PnK`; checked before the
        problem is built (memory is about 0.35 kB per non-zero, see :func:`problem_size`).

    Returns
    -------
    ConvexSolution
        .. math:: \min \tfrac12\|\textstyle\sum_i M_i(c_i - c_i') - y\|^2
                  + \beta\sum_i(\|c_i\| + \|c_i'\|),\quad M_i = \sum_k D_i^k X_k .

    Raises
    ------
    ParameterError
        When the problem is larger than ``max_constraints`` allows (the message names
        ``n_patterns`` and the rule).
    ImportError
        Without CVXPY (``pip install fbinit[convex]``).

    Examples
    --------
    >>> from fbinit.theory.ergen2021_convex_cnn import patches, teacher_data
    >>> x, y = teacher_data(6, 6, 3)
    >>> X = patches(x, 3)
    >>> sol = solve_convex(X, y, 0.01, sample_sign_patterns(X, 500))
    >>> sol.status
    'optimal'
    """
    X = _check_patches(X)
    K, n, h = X.shape
    y = np.asarray(y, dtype=np.float64)
    if y.shape != (n,):
        raise ParameterError(f"y.shape={y.shape} must be ({n},)")
    beta = check_positive_float("beta", beta)
    check_choice("solver", solver, ("CLARABEL", "SCS"))
    max_constraints = check_int("max_constraints", max_constraints)
    patterns = np.asarray(patterns, dtype=bool)
    if patterns.ndim != 3 or patterns.shape[1:] != (K, n):
        raise ParameterError(f"patterns.shape={patterns.shape} must be (P, {K}, {n})")
    P = patterns.shape[0]
    if P < 1:
        raise ParameterError("patterns must hold at least one sign pattern")
    size = problem_size(P, n, K, h)
    if size["constraints"] > max_constraints:
        limit = max_constraints // (2 * n * K)
        raise ParameterError(
            f"n_patterns={P} must be <= {limit} for n_samples={n}, n_patches={K}: the "
            f"program would have 2 x {P} x {n} x {K} = {size['constraints']} linear "
            f"constraints > max_constraints={max_constraints} (about "
            f"{size['nonzeros'] * _BYTES_PER_NONZERO / 1e6:.0f} MB; sample fewer "
            "directions, use fewer samples, or raise max_constraints if the machine has "
            "the memory)"
        )
    cp = _import_cvxpy()
    start = time.perf_counter()
    A, G = _matrices(X, patterns)
    c = cp.Variable(P * h)
    cq = cp.Variable(P * h)
    penalty = cp.sum(cp.norm(cp.reshape(c, (P, h), order="C"), 2, axis=1)) + cp.sum(
        cp.norm(cp.reshape(cq, (P, h), order="C"), 2, axis=1)
    )
    problem = cp.Problem(
        cp.Minimize(0.5 * cp.sum_squares(A @ (c - cq) - y) + beta * penalty),
        [G @ c >= 0, G @ cq >= 0],
    )
    order = [solver] + [s for s in ("CLARABEL", "SCS") if s != solver]
    attempts = []  # (solver, status, C, C', objective) of every solver tried
    for name in order:
        kwargs = {"eps": 1e-9, "max_iters": 200_000} if name == "SCS" else {}
        try:
            problem.solve(solver=name, **kwargs)
        except cp.SolverError:
            attempts.append((name, "solver_error", None, None, math.nan))
            continue
        ok = c.value is not None and problem.status in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE)
        attempts.append(
            (
                name,
                str(problem.status),
                c.value.reshape(P, h).copy() if ok else None,
                cq.value.reshape(P, h).copy() if ok else None,
                float(problem.value) if ok else math.nan,
            )
        )
        if problem.status == cp.OPTIMAL:
            break
    elapsed = time.perf_counter() - start
    # the first optimal attempt, else the first inaccurate one, else the last failure
    rank = {"optimal": 0, "optimal_inaccurate": 1}
    name, status, C, Cq, value = min(attempts, key=lambda a: rank.get(a[1], 2))
    if C is None:
        name, status, C, Cq, value = attempts[-1]
    nan = np.full((P, h), np.nan)
    return ConvexSolution(
        C=nan if C is None else C,
        C_prime=nan if Cq is None else Cq,
        objective=value,
        status=status,
        solver=name,
        solve_time=elapsed,
        n_patterns=P,
        patterns=patterns,
        beta=beta,
    )


def convex_objective(C, C_prime, X, y, beta: float, patterns) -> float:
    r"""Value of the convex objective at given blocks (numpy, independent of CVXPY).

    .. math:: \tfrac12\|\textstyle\sum_i\sum_k D_i^k X_k (c_i - c_i') - y\|^2
              + \beta\sum_i(\|c_i\| + \|c_i'\|).

    Examples
    --------
    >>> import numpy as np
    >>> X = np.ones((1, 2, 1)); D = np.ones((1, 1, 2), bool)
    >>> convex_objective(np.ones((1, 1)), np.zeros((1, 1)), X, np.zeros(2), 0.5, D)
    1.5
    """
    X = _check_patches(X)
    D = np.asarray(patterns, dtype=np.float64)
    M = np.einsum("pki,kih->pih", D, X)
    pred = np.einsum("pih,ph->i", M, np.asarray(C) - np.asarray(C_prime))
    reg = np.linalg.norm(C, axis=1).sum() + np.linalg.norm(C_prime, axis=1).sum()
    return float(0.5 * np.sum((pred - np.asarray(y)) ** 2) + beta * reg)


def constraint_violation(C, X, patterns) -> float:
    r"""Largest violation :math:`\max_{i,k}\,((2D_i^k - I) X_k c_i)_-` (0 when feasible).

    Examples
    --------
    >>> import numpy as np
    >>> constraint_violation(np.ones((1, 1)), np.ones((1, 2, 1)), np.zeros((1, 1, 2), bool))
    1.0
    """
    X = _check_patches(X)
    S = 2.0 * np.asarray(patterns, dtype=np.float64) - 1.0
    vals = S * np.einsum("kih,ph->pki", X, np.asarray(C))
    return float(max(0.0, -vals.min()))


def reconstruct(solution: ConvexSolution, *, rtol: float = 1e-6) -> tuple[np.ndarray, np.ndarray]:
    r"""Network weights from the convex solution.

    Blocks with :math:`\|c\| > \text{rtol}\cdot\max\|c\|` become neurons
    :math:`u = c/\sqrt{\|c\|}`, :math:`w = \pm\sqrt{\|c\|}` (sign + for :math:`c_i`, − for
    :math:`c_i'`).

    Returns
    -------
    U : ndarray, shape (m*, h)
    w : ndarray, shape (m*,)

    Examples
    --------
    >>> import numpy as np
    >>> sol = ConvexSolution(np.array([[4.0, 0.0]]), np.zeros((1, 2)), 0.0, "optimal",
    ...                      "CLARABEL", 0.0, 1, np.ones((1, 1, 1), bool), 0.1)
    >>> U, w = reconstruct(sol)
    >>> U.tolist(), w.tolist()
    ([[2.0, 0.0]], [2.0])
    """
    blocks = np.concatenate([solution.C, solution.C_prime])
    if not np.isfinite(blocks).all():
        raise ParameterError(
            f"solution.status={solution.status!r} must be 'optimal' to reconstruct a network"
        )
    signs = np.concatenate([np.ones(len(solution.C)), -np.ones(len(solution.C_prime))])
    norms = np.linalg.norm(blocks, axis=1)
    keep = norms > rtol * max(norms.max(), 1e-300)
    root = np.sqrt(norms[keep])
    return blocks[keep] / root[:, None], signs[keep] * root
