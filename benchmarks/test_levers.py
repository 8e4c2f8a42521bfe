"""What each fast-path lever buys: mlp/bce at batch 64, each lever alone on top of the plain path.

The plain path is ganframe's step with every lever off (default Adam, fakes
generated with autograd then detached, D weight gradients computed in the G
phase, two D forwards, PyTorch's native dropout); the hand loop is the
baseline all of them are divided by.
"""

import pytest
import torch
from torch import nn

from benchmarks.builders import make_setup, steps_and_rounds
from benchmarks.conftest import record, time_steps
from benchmarks.hand_loop import HandLoop
from ganframe.nn import layers
from ganframe.train.engine import make_optimizer
from ganframe.train.step import StepLevers, TrainStep

BATCH = 64
VARIANTS = {
    "plain": {},
    "+fused-adam": {"levers": {"fused_optimizer": True}},
    "+no-grad-fakes": {"levers": {"no_grad_fakes": True}},
    "+frozen-D": {"levers": {"freeze_discriminator": True}},
    "+joint-D": {"levers": {"joint_discriminator": True}},
    "+fast-dropout": {"dropout": True},
    "all (default)": {"dropout": True, "levers": vars(StepLevers())},
    "all + bf16": {"dropout": True, "bf16": True, "levers": vars(StepLevers())},
}


def test_lever_hand_loop(benchmark, device, real_batch):
    benchmark.group = "levers mlp/bce batch 64"
    real, _ = real_batch(BATCH)
    loop = HandLoop("mlp", BATCH, device)
    steps, rounds = steps_and_rounds(device, BATCH)
    ms = time_steps(benchmark, lambda: loop.step(real, None), device=device, steps=steps, rounds=rounds)
    record(benchmark, ("levers",), impl="hand", ms_per_step=ms, batch_size=BATCH, device=device)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_lever(benchmark, device, data_root, real_batch, monkeypatch, variant):
    benchmark.group = "levers mlp/bce batch 64"
    spec = VARIANTS[variant]
    if not spec.get("dropout"):
        monkeypatch.setattr(layers.Dropout, "forward", nn.Dropout.forward)
    setup = make_setup("mlp", "bce", BATCH, device, data_root)
    levers = StepLevers(**{**vars(StepLevers.plain()), **spec.get("levers", {})})
    step = TrainStep(
        setup.generator,
        setup.discriminator,
        setup.loss,
        make_optimizer(setup.generator.parameters(), setup.config, device, fused=levers.fused_optimizer),
        make_optimizer(setup.discriminator.parameters(), setup.config, device, fused=levers.fused_optimizer),
        latent_dim=setup.model_spec.latent_dim,
        autocast_dtype=torch.bfloat16 if spec.get("bf16") else None,
        levers=levers,
    )
    real, _ = real_batch(BATCH)
    steps, rounds = steps_and_rounds(device, BATCH)
    ms = time_steps(benchmark, lambda: step(real, None), device=device, steps=steps, rounds=rounds)
    record(
        benchmark,
        ("levers",),
        impl=variant,
        ms_per_step=ms,
        batch_size=BATCH,
        device=device,
        precision="bf16" if spec.get("bf16") else "fp32",
    )
