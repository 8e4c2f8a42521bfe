"""pytest-benchmark set-up for ganframe's step-time benchmarks.

- Runs on CUDA when available, else CPU (``GANFRAME_BENCH_DEVICE=cpu`` forces one).
- Times are per training step: each round runs several steps, then
  synchronises the device before the clock is read, so asynchronous GPU work
  is counted; warm-up rounds are excluded (``benchmark.pedantic``).
- Every ganframe result is divided by the tutorials' hand-written loop
  (``hand_loop.py``) timed in the same session on the same device, model and
  batch: the ratio survives a noisy machine. ``extra_info`` of each result
  holds device, torch version, precision, ms/step, images/s and the ratio,
  and a table of ratios is printed at the end.
- Baselines are kept per device: unless ``--benchmark-storage`` is given,
  results are saved under ``.benchmarks/<device>/`` so ``--benchmark-compare``
  never compares a GPU run with a CPU one.
- With ``--benchmark-disable`` (CI) every benchmark runs once as a plain test
  with shortened epochs.
"""

from __future__ import annotations

import os
import platform
import re
from functools import cache
from pathlib import Path

import pytest
import torch

from benchmarks.builders import make_trainer
from tests.idx import (  # no tests/conftest.py: it sets threads
    MNIST_FILES,
    shared_data_root,
    write_idx_images,
    write_idx_labels,
)

DEFAULT_STORAGE = "file://./.benchmarks"
RESULTS: dict[tuple, dict] = {}


def bench_device() -> torch.device:
    requested = os.environ.get("GANFRAME_BENCH_DEVICE")
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} x{torch.get_num_threads()} threads"
    except OSError:
        pass
    return platform.processor() or "cpu"


def device_tag(device: torch.device) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", f"{device.type}-{device_name(device)}").strip("_")[:80]


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def pytest_configure(config):
    # runs before pytest-benchmark's own (trylast) configure, so the session picks this storage up
    if config.getoption("benchmark_storage", None) == DEFAULT_STORAGE:
        config.option.benchmark_storage = f"{DEFAULT_STORAGE}/{device_tag(bench_device())}"


def pytest_benchmark_update_machine_info(config, machine_info):
    device = bench_device()
    machine_info["ganframe_device"] = device_name(device)
    machine_info["torch"] = torch.__version__


@pytest.fixture(scope="session")
def device() -> torch.device:
    return bench_device()


def _write_synthetic_mnist(raw: Path, n: int) -> None:
    generator = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (n, 28, 28), generator=generator, dtype=torch.uint8)
    labels = torch.arange(n, dtype=torch.uint8) % 10
    raw.mkdir(parents=True, exist_ok=True)
    for train, count in ((True, n), (False, n // 6)):
        image_file, label_file = MNIST_FILES[train]
        write_idx_images(raw / image_file, images[:count])
        write_idx_labels(raw / label_file, labels[:count])


@pytest.fixture(scope="session")
def data_root(tmp_path_factory) -> Path:
    """Real MNIST ($GANFRAME_DATA or ../shared/data) when present, else a synthetic set of MNIST's size."""
    root = shared_data_root()
    if root is None:
        root = tmp_path_factory.mktemp("mnist")
        _write_synthetic_mnist(root / "MNIST" / "raw", 60_000)
    return root


@pytest.fixture(scope="session")
def real_batch(device, data_root):
    """``real_batch(batch_size)``: the first MNIST batch (images, labels) of a ganframe trainer (seed 0) on
    the device, one trainer per batch size for the session; the hand loops time on it."""

    @cache
    def first_batch(batch_size: int):
        trainer = make_trainer("mlp", "bce", batch_size, device, data_root)
        return next(trainer.batches.epoch(0))

    return first_batch


def time_steps(benchmark, step, *, device, steps, rounds, warmup_rounds=1) -> float | None:
    """Time ``step()`` ``steps`` times per round; returns the median ms per step (None when disabled)."""

    def run():
        for _ in range(steps):
            step()

    return time_epoch(benchmark, run, device=device, steps=steps, rounds=rounds, warmup_rounds=warmup_rounds)


def time_epoch(benchmark, work, *, device, steps, rounds, warmup_rounds=0) -> float | None:
    """Time one call of ``work()`` (which runs ``steps`` steps) per round, synchronised before the clock
    is read; returns the median ms per step (None when disabled)."""

    def run():
        work()
        synchronize(device)

    benchmark.pedantic(run, rounds=rounds, iterations=1, warmup_rounds=warmup_rounds)
    if getattr(benchmark, "disabled", False) or benchmark.stats is None:
        return None  # --benchmark-disable: ran once as a test
    return benchmark.stats.stats.median * 1000 / steps


def record(
    benchmark, key: tuple, *, impl: str, ms_per_step: float | None, batch_size: int, device, precision="fp32"
) -> None:
    """Store a result and its ratio to the hand loop with the same key in ``extra_info`` and the summary."""
    if ms_per_step is None:
        return
    info = {
        "impl": impl,
        "device": device_name(device),
        "torch": torch.__version__,
        "precision": precision,
        "ms_per_step": round(ms_per_step, 4),
        "images_per_s": round(batch_size / (ms_per_step / 1000), 1),
    }
    hand = RESULTS.get(key + ("hand",))
    if hand is not None and impl != "hand":
        info["hand_ms_per_step"] = hand["ms_per_step"]
        info["ratio_to_hand"] = round(ms_per_step / hand["ms_per_step"], 3)
    benchmark.extra_info.update(info)
    RESULTS[key + (impl,)] = info


def pytest_terminal_summary(terminalreporter):
    rows = [(key, info) for key, info in RESULTS.items() if "ratio_to_hand" in info]
    if not rows:
        return
    terminalreporter.section("ganframe / hand-written loop (same session, same device)")
    terminalreporter.write_line(f"{'benchmark':44s} {'ganframe ms':>12s} {'hand ms':>10s} {'ratio':>7s}  device")
    for key, info in rows:
        name = " ".join(str(part) for part in key)
        terminalreporter.write_line(
            f"{name:44s} {info['ms_per_step']:12.3f} {info['hand_ms_per_step']:10.3f} {info['ratio_to_hand']:7.3f}  {info['device']}"
        )
