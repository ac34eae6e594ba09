"""Deviation bounds against the exact quantiles of the energy response (docs/bounds.md).

For an impulse, a clipped random walk and a sinusoid (N = 1024, unit norm) and the bundled
speech recording (CMU ARCTIC arctic_a0007, 4 s at 16 kHz, unit norm), random Gaussian banks
with the default sigma and kernel sizes 64 and 1024, prints two Markdown tables (upper and
lower tail) of the relative deviation alpha at level p given by each bound, with its ratio
to the exact value from fbinit.exact_deviation in brackets.

    python analysis/bounds_table.py [--n-filters 10] [--p 0.05]
"""

from __future__ import annotations

import argparse

import fbinit
from fbinit.signals import example, impulse, normalize, random_walk, sine

KERNEL_SIZES = [64, 1024]
BOUNDS = {"upper": ["bernstein", "cantelli", "chebyshev", "reference"]}
BOUNDS["lower"] = BOUNDS["upper"][:3]  # the reference curve is one-sided
HEADERS = {
    "bernstein": "Bernstein",
    "cantelli": "Cantelli",
    "chebyshev": "Chebyshev",
    "reference": "reference (not a bound)",
}


def signals() -> dict[str, object]:
    speech, _ = example()
    return {
        "impulse": impulse(1024),
        "random walk": random_walk(1024, seed=0),
        "sine, 8 periods": sine(1024, periods=8),
        "speech (4 s)": normalize(speech),
    }


def table(n_filters: int, p: float, tail: str) -> str:
    head = ["signal", "T", "exact", *(HEADERS[m] for m in BOUNDS[tail])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, x in signals().items():
        exact = fbinit.exact_deviation(x, n_filters, KERNEL_SIZES, p, tail=tail)
        bounds = [
            fbinit.deviation_bound(x, n_filters, KERNEL_SIZES, p, method=m, tail=tail)
            for m in BOUNDS[tail]
        ]
        for i, t in enumerate(KERNEL_SIZES):
            ex = exact[i].item()
            cells = [
                f"{b[i].item():.3f} ({b[i].item() / ex:.2f})"
                + ("*" if tail == "lower" and b[i].item() >= 1 else "")
                for b in bounds
            ]
            lines.append(f"| {name} | {t} | {ex:.3f} | " + " | ".join(cells) + " |")
    if tail == "lower":
        lines.append("\n\\* alpha >= 1: trivially true, since E >= 0.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-filters", type=int, default=10)
    parser.add_argument("--p", type=float, default=0.05)
    args = parser.parse_args()
    for tail in ("upper", "lower"):
        print(f"{tail.capitalize()} tail, J = {args.n_filters}, p = {args.p:g}:\n")
        print(table(args.n_filters, args.p, tail))
        print()


if __name__ == "__main__":
    main()
