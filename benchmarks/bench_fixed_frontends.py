"""Speed of the mel and multiresolution frontends against their references, in one process.

Forward plus backward of ``.sum()`` on a batch of 8 one-second clips at 16 kHz, float32,
two threads; every candidate is warmed up, then timed in interleaved rounds (one run of
each per round, so that a loaded machine slows them alike) and the median is reported.

- MelFrontend(40 mel, n_fft 512, hop 160) against ``torch.stft`` + ``|.|^2`` + the same
  mel matrix product (gradient with respect to the input: the frontends have no
  parameters). Target: at most 1.2x.
- MultiresFrontend(J=8, Q=5, T=40) against murenn's ``MuReNNDirect(J=8, Q=5, T=40)``
  (gradient with respect to the kernels). Target: at most 1x.

Run: ``.venv/bin/python benchmarks/bench_fixed_frontends.py [--rounds 30]``
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Callable

import torch

from fbinit.bench.throughput import time_interleaved
from fbinit.frontends import MelFrontend, MultiresFrontend


def interleaved(cases: dict[str, Callable[[], None]], rounds: int, warmup: int = 3):
    """Median wall seconds of each case, timed round-robin (:func:`time_interleaved`)."""
    timed = time_interleaved(cases, rounds, warmup)
    return {name: statistics.median(walls) for name, (walls, _) in timed.items()}


def mel_cases(batch: torch.Tensor) -> dict[str, Callable[[], None]]:
    mel = MelFrontend(40, 512, stride=160, sample_rate=16000.0)
    window = mel.window
    matrix = mel.projection

    def frontend() -> None:
        x = batch.clone().requires_grad_()
        mel(x).sum().backward()

    def reference() -> None:
        x = batch.clone().requires_grad_()
        spec = torch.stft(
            x, 512, 160, window=window, center=True, pad_mode="constant", return_complex=True
        )
        (matrix @ spec.abs().square()).sum().backward()

    return {"MelFrontend": frontend, "torch.stft + mel matmul": reference}


def multires_cases(batch: torch.Tensor) -> dict[str, Callable[[], None]]:
    import murenn

    peer = murenn.MuReNNDirect(J=8, Q=5, T=40, in_channels=1)
    ours = MultiresFrontend.from_murenn(peer, sample_rate=16000.0)

    def frontend() -> None:
        ours.zero_grad()
        ours(batch).sum().backward()

    def reference() -> None:
        peer.zero_grad()
        peer(batch[:, None]).sum().backward()

    return {"MultiresFrontend": frontend, "murenn MuReNNDirect": reference}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batch = torch.randn(8, 16000, generator=torch.Generator().manual_seed(0))
    print(
        f"forward + backward of .sum(), batch 8 x 1 s at 16 kHz, {args.threads} threads, "
        f"median of {args.rounds} interleaved rounds"
    )
    for cases in (mel_cases(batch), multires_cases(batch)):
        t = interleaved(cases, args.rounds)
        (ours, t_ours), (ref, t_ref) = t.items()
        print(f"{ours:26s} {t_ours * 1e3:8.2f} ms")
        print(f"{ref:26s} {t_ref * 1e3:8.2f} ms   ratio {ours} / reference = {t_ours / t_ref:.3f}")


if __name__ == "__main__":
    main()
