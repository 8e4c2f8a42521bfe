"""The figures behind README "Performance", "What stands in the way of the CPU targets".

For mlp/bce at batch 64 on the CPU it prints:
  1. the hand loop's and ganframe's eager fp32 step (ms), and the share of ganframe's
     step spent in matrix multiplies (torch.profiler, self CPU time of aten::mm/addmm/bmm),
     as a ratio to the hand loop: the floor that fusing or skipping other work cannot beat;
  2. torch.compile against eager, fp32 and bf16 (compile time excluded, reported apart).

    GANFRAME_DATA=/path/to/data OMP_NUM_THREADS=1 python scripts/cpu_step_profile.py

Needs the real MNIST files only for realistic batches; the networks and timings do not
depend on them.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo's benchmarks package

from benchmarks.builders import make_trainer  # noqa: E402
from benchmarks.hand_loop import HandLoop  # noqa: E402

MATMULS = {"aten::mm", "aten::addmm", "aten::bmm", "aten::matmul_backward", "aten::_addmm_activation"}
BATCH = 64
CPU = torch.device("cpu")


def ms_per_step(step, steps: int, warmup: int = 5) -> float:
    for _ in range(warmup):
        step()
    started = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - started) * 1000 / steps


def matmul_ms(step, steps: int) -> float:
    """Self CPU time of the matrix multiplies per step."""
    from torch.profiler import ProfilerActivity, profile

    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(steps):
            step()
    total_us = sum(e.self_cpu_time_total for e in prof.key_averages() if e.key in MATMULS)
    return total_us / 1000 / steps


def ganframe_step(data_root: str, **settings):
    trainer = make_trainer("mlp", "bce", BATCH, CPU, data_root, **settings)
    real, labels = next(trainer.batches.epoch(0))
    return lambda: trainer.train_step(real, labels), real


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument(
        "--no-compile", action="store_true", help="skip part 2 (torch.compile takes 20-30 s per network pair)"
    )
    args = parser.parse_args()
    data_root = os.environ.get("GANFRAME_DATA", "")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), mlp/bce batch {BATCH}")

    step, real = ganframe_step(data_root)
    hand = HandLoop("mlp", BATCH, CPU)
    hand_ms = ms_per_step(lambda: hand.step(real, None), args.steps)
    eager_ms = ms_per_step(step, args.steps)
    mm_ms = matmul_ms(step, max(10, args.steps // 5))
    print(f"hand loop            {hand_ms:7.2f} ms/step")
    print(f"ganframe fp32 eager  {eager_ms:7.2f} ms/step  ({eager_ms / hand_ms:.2f}x the hand loop)")
    print(f"  of which matmuls   {mm_ms:7.2f} ms/step  ({mm_ms / hand_ms:.2f}x the hand loop: the floor)")

    if args.no_compile:
        return
    for precision in ("fp32", "bf16"):
        eager, _ = ganframe_step(data_root, precision=precision)
        compiled, _ = ganframe_step(data_root, precision=precision, compile=True)
        started = time.perf_counter()
        compiled()
        compile_s = time.perf_counter() - started
        eager_ms = ms_per_step(eager, args.steps)
        compiled_ms = ms_per_step(compiled, args.steps)
        print(
            f"{precision}: eager {eager_ms:.2f} ms, compiled {compiled_ms:.2f} ms "
            f"({compiled_ms / eager_ms:.2f}x eager; first step with compiling {compile_s:.0f} s)"
        )


if __name__ == "__main__":
    main()
