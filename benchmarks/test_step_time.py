"""Time per training step: the tutorials' hand loop vs ganframe, same model, batch and device.

The batch is already on the device (data loading is timed in test_epoch_time.py).
The hand loop reads both losses with .item() each step, as the tutorials do;
ganframe reads metrics every --log-every steps. ganframe builds the tutorials'
networks here (``DOCUMENTS_MODEL``: no average of G's weights, ``cgan`` without
its projection output), so both sides do the same arithmetic;
``test_ganframe_step_default_recipe`` times the defaults' extra work.
"""

import pytest

from benchmarks.builders import make_trainer, steps_and_rounds
from benchmarks.conftest import record, time_steps
from benchmarks.hand_loop import HandLoop

MODELS = [("mlp", "bce"), ("cgan", "bce-smooth"), ("batchnorm", "bce"), ("mlp-small", "bce")]
BATCHES = [64, 1024]
#: settings that make ganframe's model the tutorials' (what the hand loop builds)
DOCUMENTS_MODEL = {"g_ema": 0.0}


def documents_model(model: str) -> dict:
    options = {"model_options": {"projection": "false"}} if model == "cgan" else {}
    return {**DOCUMENTS_MODEL, **options}


@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("model,loss", MODELS)
def test_hand_loop_step(benchmark, device, real_batch, model, loss, batch_size):
    benchmark.group = f"step {model}/{loss} batch {batch_size}"
    real, labels = real_batch(batch_size)  # the batch ganframe's trainer draws
    loop = HandLoop(model, batch_size, device, real_target=0.9 if loss == "bce-smooth" else 1.0)
    steps, rounds = steps_and_rounds(device, batch_size)
    ms = time_steps(benchmark, lambda: loop.step(real, labels), device=device, steps=steps, rounds=rounds)
    record(
        benchmark, ("step", model, loss, batch_size), impl="hand", ms_per_step=ms, batch_size=batch_size, device=device
    )


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("model,loss", MODELS)
def test_ganframe_step(benchmark, device, data_root, model, loss, batch_size, precision):
    benchmark.group = f"step {model}/{loss} batch {batch_size}"
    trainer = make_trainer(model, loss, batch_size, device, data_root, precision=precision, **documents_model(model))
    real, labels = next(trainer.batches.epoch(0))
    steps, rounds = steps_and_rounds(device, batch_size)
    ms = time_steps(benchmark, lambda: trainer.train_step(real, labels), device=device, steps=steps, rounds=rounds)
    record(
        benchmark,
        ("step", model, loss, batch_size),
        impl=f"ganframe-{precision}",
        ms_per_step=ms,
        batch_size=batch_size,
        device=device,
        precision=precision,
    )


@pytest.mark.parametrize("batch_size", [64])
@pytest.mark.parametrize("model,loss", [("cgan", "bce-smooth")])
def test_ganframe_step_default_recipe(benchmark, device, data_root, model, loss, batch_size):
    """The model's own networks and defaults: cgan's projection output and the average of G's
    weights updated every step; the ratio to the hand loop shows what they cost."""
    benchmark.group = f"step {model}/{loss} batch {batch_size}"
    trainer = make_trainer(model, loss, batch_size, device, data_root)
    assert trainer.g_average is not None
    real, labels = next(trainer.batches.epoch(0))
    steps, rounds = steps_and_rounds(device, batch_size)
    ms = time_steps(benchmark, lambda: trainer.train_step(real, labels), device=device, steps=steps, rounds=rounds)
    record(
        benchmark,
        ("step", model, loss, batch_size),
        impl="ganframe-defaults",
        ms_per_step=ms,
        batch_size=batch_size,
        device=device,
    )


@pytest.mark.parametrize("mode", ["compile", "cuda-graph", "cuda-graph-bf16"])
@pytest.mark.parametrize("batch_size", BATCHES)
@pytest.mark.parametrize("model,loss", MODELS)
def test_ganframe_step_cuda(benchmark, device, data_root, model, loss, batch_size, mode):
    if device.type != "cuda":
        pytest.skip("CUDA-only modes")
    benchmark.group = f"step {model}/{loss} batch {batch_size}"
    settings = {
        "compile": mode == "compile",
        "cuda_graph": mode.startswith("cuda-graph"),
        "precision": "bf16" if mode.endswith("bf16") else "fp32",
    }
    trainer = make_trainer(model, loss, batch_size, device, data_root, **settings, **documents_model(model))
    real, labels = next(trainer.batches.epoch(0))
    steps, rounds = steps_and_rounds(device, batch_size)
    ms = time_steps(
        benchmark, lambda: trainer.train_step(real, labels), device=device, steps=steps, rounds=rounds, warmup_rounds=2
    )
    record(
        benchmark,
        ("step", model, loss, batch_size),
        impl=f"ganframe-{mode}",
        ms_per_step=ms,
        batch_size=batch_size,
        device=device,
        precision=settings["precision"],
    )
