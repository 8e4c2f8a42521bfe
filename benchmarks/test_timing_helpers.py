"""The timing helpers count what they claim: one epoch per round for epoch benchmarks, ``steps`` calls for step ones."""

from types import SimpleNamespace

import torch

from benchmarks.conftest import time_epoch, time_steps


class FakeBenchmark:
    """Stands in for pytest-benchmark's fixture: runs ``pedantic`` and reports a 2 s median."""

    disabled = False

    def pedantic(self, run, *, rounds, iterations, warmup_rounds):
        for _ in range(warmup_rounds + rounds):
            run()
        self.stats = SimpleNamespace(stats=SimpleNamespace(median=2.0))


def test_time_epoch_runs_the_epoch_once_per_round_and_reports_per_step():
    calls = []
    ms = time_epoch(
        FakeBenchmark(), lambda: calls.append(1), device=torch.device("cpu"), steps=1000, rounds=2, warmup_rounds=1
    )
    assert len(calls) == 3
    assert ms == 2.0  # 2 s per epoch / 1000 steps


def test_time_steps_runs_steps_calls_per_round():
    calls = []
    ms = time_steps(
        FakeBenchmark(), lambda: calls.append(1), device=torch.device("cpu"), steps=10, rounds=2, warmup_rounds=1
    )
    assert len(calls) == 30
    assert ms == 200.0
