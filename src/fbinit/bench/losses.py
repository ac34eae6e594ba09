r"""The distillation loss: cosine distance between a student's and a teacher's responses.

For responses :math:`\hat Y, Y` of shape (batch, filters, frames) the loss is

.. math:: \mathcal L = \tfrac12 \operatorname{mean}\bigl(1 - \cos(\hat Y_v, Y_v)\bigr),

the mean over the batch and over the vectors :math:`v` along which both are normalised:

- ``axis="frequency"`` (default, the MuReNN paper): each frame's vector over the filters;
  :math:`\tfrac12(1-\cos) = \tfrac14\|\hat Y_v/\|\hat Y_v\| - Y_v/\|Y_v\|\|^2`.
- ``axis="time"`` (the authors' code): each filter's vector over the frames, dropping
  filter 0 (``0.5 * (1 - CosineSimilarity(dim=-1)(out[:, 1:], Y[:, 1:]).mean())``).

Both are 0 for responses equal up to a positive gain per vector and at most 1.
"""

from __future__ import annotations

import torch

from fbinit.errors import ParameterError

__all__ = ["AXES", "cosine_distance"]

#: the normalisation axes of :func:`cosine_distance`
AXES = ("frequency", "time")


def cosine_distance(
    student: torch.Tensor, teacher: torch.Tensor, *, axis: str = "frequency", eps: float = 1e-12
) -> torch.Tensor:
    """Half the mean cosine distance between two (batch, filters, frames) responses.

    Parameters
    ----------
    student, teacher : Tensor (batch, filters, frames)
        Same shape; real (e.g. squared magnitudes).
    axis : {"frequency", "time"}
        Normalise over filters at each frame (the paper) or over frames for each filter,
        dropping filter 0 (the authors' code).
    eps : float
        Floor of the norms (an all-zero vector has cosine 0 with anything).

    Returns
    -------
    Tensor
        Scalar loss in [0, 1].

    Examples
    --------
    >>> y = torch.rand(2, 5, 7)
    >>> float(cosine_distance(3 * y, y)) < 1e-6
    True
    >>> float(cosine_distance(-y, y))
    1.0
    """
    if axis not in AXES:
        raise ParameterError(f"axis={axis!r} must be one of {AXES}")
    if student.shape != teacher.shape or student.dim() != 3:
        raise ParameterError(
            f"student shape {tuple(student.shape)} and teacher shape {tuple(teacher.shape)} "
            "must be equal, (batch, filters, frames)"
        )
    if axis == "frequency":
        dim = 1
    else:
        student, teacher, dim = student[:, 1:], teacher[:, 1:], 2
    cos = torch.nn.functional.cosine_similarity(student, teacher, dim=dim, eps=eps)
    return 0.5 * (1.0 - cos).mean()
