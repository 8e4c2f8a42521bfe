"""Time per step of the step and regulariser plugins against hand-written loops of the same algorithm.

``n-critic`` (n=5: D on every batch, G on every 5th) and the ``r1`` gradient
penalty (gamma 10, every step) on the MLP GAN tutorial recipe's networks,
each divided by :class:`benchmarks.hand_loop.NCriticHandLoop` /
:class:`benchmarks.hand_loop.R1HandLoop` timed in the same session on the
same batch. Rounds are whole multiples of the n-critic period, so both sides
average over the same mix of D-only and D+G steps.
"""

import pytest

from benchmarks.builders import make_trainer, steps_and_rounds
from benchmarks.conftest import record, time_steps
from benchmarks.hand_loop import NCriticHandLoop, R1HandLoop
from benchmarks.test_step_time import DOCUMENTS_MODEL

VARIANTS = {
    "n-critic": (lambda model, batch, device: NCriticHandLoop(model, batch, device, n=5), {"step": "n-critic"}),
    "r1": (
        lambda model, batch, device: R1HandLoop(model, batch, device, gamma=10.0),
        {"regularizers": ["r1"], "regularizer_options": {"r1": {"gamma": "10"}}},
    ),
}
BATCHES = [64, 1024]


def _steps(device, batch_size):
    steps, rounds = steps_and_rounds(device, batch_size)
    return max(5, steps // 5 * 5), rounds


@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_hand_loop_step_plugin(benchmark, device, real_batch, variant, batch_size):
    benchmark.group = f"step mlp/bce+{variant} batch {batch_size}"
    real, labels = real_batch(batch_size)
    loop = VARIANTS[variant][0]("mlp", batch_size, device)
    steps, rounds = _steps(device, batch_size)
    ms = time_steps(benchmark, lambda: loop.step(real, labels), device=device, steps=steps, rounds=rounds)
    record(
        benchmark,
        ("step", "mlp", f"bce+{variant}", batch_size),
        impl="hand",
        ms_per_step=ms,
        batch_size=batch_size,
        device=device,
    )


@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_ganframe_step_plugin(benchmark, device, data_root, variant, batch_size):
    benchmark.group = f"step mlp/bce+{variant} batch {batch_size}"
    trainer = make_trainer("mlp", "bce", batch_size, device, data_root, **DOCUMENTS_MODEL, **VARIANTS[variant][1])
    real, labels = next(trainer.batches.epoch(0))
    steps, rounds = _steps(device, batch_size)
    ms = time_steps(benchmark, lambda: trainer.train_step(real, labels), device=device, steps=steps, rounds=rounds)
    record(
        benchmark,
        ("step", "mlp", f"bce+{variant}", batch_size),
        impl="ganframe-fp32",
        ms_per_step=ms,
        batch_size=batch_size,
        device=device,
    )
