"""Near-silent frames of the distillation teachers' test data, and the loss they cost.

The paper's loss normalises each frame over the filters, so every frame weighs the same,
however quiet. For each teacher (full-mode data, 64 test segments) this prints the share
of frames whose energy is below 1e-3 and 1e-2 of the median frame energy, and the test
loss of a student equal to the teacher plus a flat floor of 1e-4 times the mean response
(a perfect fit up to a numerical floor):

    python analysis/distill_silence.py
"""

from __future__ import annotations

from fbinit.bench.losses import cosine_distance
from fbinit.bench.teachers import TEACHERS, teacher


def main() -> None:
    print("| teacher | frames < 1e-3 median | frames < 1e-2 median | loss of teacher + floor |")
    print("|---|---|---|---|")
    for name in TEACHERS:
        t = teacher(name, "full")
        _, y = t.dataset("test", 64, 0)
        energy = y.sum(1)
        median = energy.median()
        quiet3 = (energy < 1e-3 * median).float().mean().item()
        quiet2 = (energy < 1e-2 * median).float().mean().item()
        floor = float(cosine_distance(y + 1e-4 * y.mean(), y))
        print(f"| {name} | {quiet3:.1%} | {quiet2:.1%} | {max(floor, 0.0) * 100:.2f}e-2 |")


if __name__ == "__main__":
    main()
