"""The fast path trains the same model as the plain path; bf16 trains; CUDA-graph mode is exact about warm-up."""

import io
import math

import pytest
import torch

from ganframe.config import RunConfig
from ganframe.errors import UsageError
from ganframe.run.assemble import build_setup
from ganframe.run.runner import train
from ganframe.train.accelerate import CUDAGraphStep
from ganframe.train.data import DeviceBatches, LoaderBatches
from ganframe.train.engine import Trainer
from ganframe.train.step import StepLevers
from tests.helpers import build_step, snapshot


def trainer_for(plugin_set, root, levers=StepLevers(), **settings):
    """A trainer at the tutorials' Adam settings (not the models' measured defaults), so the tolerances below
    do not move when a model's default learning rate does."""
    config = RunConfig(data_root=str(root), seed=3, log_every=1, **{"lr": 2e-4, "beta1": 0.9, **settings})
    return Trainer(build_setup(config, plugin_set.registry), plugin_set.manager, levers=levers)


def plain_trainer_for(plugin_set, root, **settings):
    """The tutorials' loop: every step lever off, batches from a DataLoader."""
    return trainer_for(plugin_set, root, levers=StepLevers.plain(), data_path="loader", **settings)


def losses(trainer, steps):
    out = []
    for real, labels in trainer.batches.epoch(0):
        trainer.train_step(real, labels)
        trainer._flush()
        out.append((trainer.state.metrics["d_loss"], trainer.state.metrics["g_loss"]))
        if len(out) == steps:
            return out
    return out


@pytest.mark.parametrize("model", ["mlp-small", "batchnorm"])
def test_fast_path_trains_the_same_model_as_the_plain_path(plugin_set, tiny_root, model):
    """Exact where claimed: every lever computes the same step (models without dropout, whose masks
    the joint D forward draws in another order)."""
    fast = trainer_for(plugin_set, tiny_root, model=model, batch_size=32)  # each run seeds as it starts,
    a = losses(fast, 8)  # so build one and run it before building the other
    plain = plain_trainer_for(plugin_set, tiny_root, model=model, batch_size=32)
    b = losses(plain, 8)
    assert isinstance(fast.batches, DeviceBatches) and isinstance(plain.batches, LoaderBatches)
    assert fast.step_fn.levers == StepLevers() and plain.step_fn.levers == StepLevers.plain()
    assert fast.step_fn.d_optimizer.defaults.get("fused") and not plain.step_fn.d_optimizer.defaults.get("fused")
    assert len(a) == len(b) == 8
    for (d1, g1), (d2, g2) in zip(a, b):
        assert d1 == pytest.approx(d2, abs=1e-6) and g1 == pytest.approx(g2, abs=1e-6)
    assert a[0] != a[-1], "the losses must move for the comparison to mean anything"


def test_fast_and_plain_weights_stay_together(plugin_set, tiny_root):
    fast = trainer_for(plugin_set, tiny_root, model="mlp-small", batch_size=32)
    losses(fast, 6)
    plain = plain_trainer_for(plugin_set, tiny_root, model="mlp-small", batch_size=32)
    losses(plain, 6)
    for (name, p), q in zip(fast.setup.generator.named_parameters(), plain.setup.generator.parameters()):
        assert torch.allclose(p, q, atol=1e-6), name


@pytest.mark.parametrize("model", ["mlp", "cgan"])
def test_bf16_trains_with_finite_losses(plugin_set, tiny_root, tmp_path, model):
    config = RunConfig(
        model=model,
        precision="bf16",
        data_root=str(tiny_root),
        max_steps=12,
        log_every=4,
        seed=0,
        batch_size=32,
        out=str(tmp_path / "run"),
    )
    state = train(config, plugin_set, stream=io.StringIO(), interactive=False)
    assert state.step == 12
    assert all(math.isfinite(row[k]) for row in state.history for k in ("d_loss", "g_loss"))
    assert state.history[0]["g_loss"] != state.history[-1]["g_loss"]
    assert all(p.dtype == torch.float32 for p in state.generator.parameters()), "weights stay fp32 (autocast)"


def test_cuda_graph_needs_cuda(plugin_set, tiny_root):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(UsageError, match="--cuda-graph needs a CUDA device"):
        build_setup(RunConfig(data_root=str(tiny_root), cuda_graph=True, device="cpu"), plugin_set.registry)


def test_cuda_graph_warm_up_is_undone(plugin_set):
    """The warm-up steps before capture must leave weights, buffers and optimizer state as they were."""
    torch.manual_seed(0)
    step = build_step(plugin_set.registry, "batchnorm")  # has BatchNorm buffers
    wrapper = CUDAGraphStep(step)
    real = torch.rand(16, 1, 28, 28) * 2 - 1
    g0, d0 = snapshot(step.generator), snapshot(step.discriminator)
    buffers = {n: b.clone() for n, b in step.generator.named_buffers()}
    saved = wrapper._snapshot()
    for _ in range(3):
        step(real, None)
    wrapper._restore(saved)
    assert all(torch.equal(p, g0[n]) for n, p in step.generator.named_parameters())
    assert all(torch.equal(p, d0[n]) for n, p in step.discriminator.named_parameters())
    assert all(torch.equal(b, buffers[n]) for n, b in step.generator.named_buffers())
    # a step from the restored (zeroed) optimizer state equals a step from a brand-new optimizer
    torch.manual_seed(1)
    after_restore = step(real, None)
    fresh = build_step(plugin_set.registry, "batchnorm")
    fresh.generator.load_state_dict({**g0, **buffers}, strict=False)
    fresh.discriminator.load_state_dict(d0)
    torch.manual_seed(1)
    assert torch.allclose(fresh(real, None), after_restore, atol=1e-6)


cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")


@cuda
def test_cuda_graph_dropout_masks_differ_between_steps(plugin_set, tiny_root):
    """Replays must draw new dropout masks: with lr 0 the weights stay put, so D's activations on the
    same real batch can only differ between replays through the masks."""
    trainer = trainer_for(plugin_set, tiny_root, model="mlp", batch_size=32, device="cuda", cuda_graph=True, lr=1e-30)
    discriminator = trainer.setup.discriminator
    dropout = [m for m in discriminator.modules() if isinstance(m, torch.nn.Dropout)][0]
    seen = []
    probe = {}

    def keep(module, inputs, output):
        if "buffer" not in probe:
            probe["buffer"] = torch.empty_like(output)
        probe["buffer"].copy_(output)

    dropout.register_forward_hook(keep)
    real, labels = next(trainer.batches.epoch(0))
    for _ in range(3):
        trainer.train_step(real, labels)
        torch.cuda.synchronize()
        seen.append(probe["buffer"][: real.shape[0]].clone())
    assert not torch.equal(seen[1], seen[2]), "dropout masks repeated between graph replays"
    zero_share = (seen[2] == 0).float().mean().item()
    assert 0.15 < zero_share < 0.6


@cuda
def test_cuda_graph_step_trains_like_the_eager_step(plugin_set, tiny_root):
    eager = trainer_for(plugin_set, tiny_root, model="mlp-small", batch_size=32, device="cuda")
    graph = trainer_for(plugin_set, tiny_root, model="mlp-small", batch_size=32, device="cuda", cuda_graph=True)
    a, b = losses(eager, 10), losses(graph, 10)
    assert all(math.isfinite(x) for pair in b for x in pair)
    assert abs(sum(x for x, _ in a) - sum(x for x, _ in b)) / 10 < 0.2  # same dynamics (noise streams differ)
    assert b[0] != b[-1]


def test_cuda_graph_refuses_host_reads_of_on_nan_skip(cli, tmp_path):
    result = cli("run", "--dataset", "ring", "--cuda-graph", "--on-nan", "skip", "--out", tmp_path / "x")
    assert result.exit_code == 2 and "--on-nan skip" in result.output and "Traceback" not in result.output
