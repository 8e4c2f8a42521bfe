"""Training steps, regularisers and augmentations as plugins: schedules, lazy penalties, DiffAugment,
discriminators with extra outputs, defaults, CLI names, resume."""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

from ganframe.config import RunConfig
from ganframe.errors import PluginContractError, UsageError
from ganframe.nn.losses import LossInputs, split_discriminator_output
from ganframe.run.assemble import build_setup
from ganframe.train.engine import Trainer
from ganframe.train.schedule import Phase, Regularization, Schedule
from tests.helpers import build_step, said
from tests.runs import RING, assert_same_training, newest, run


def ring_trainer(plugin_set, **settings):
    config = RunConfig(model="mlp-small", batch_size=64, seed=2, log_every=1, **{**RING, **settings})
    return Trainer(build_setup(config, plugin_set.registry), plugin_set.manager)


def adam_steps(optimizer) -> int:
    return int(next(iter(optimizer.state.values()))["step"])


# -- schedules -------------------------------------------------------------------------------------
def test_n_critic_updates_d_n_times_per_g_update(plugin_set):
    trainer = ring_trainer(plugin_set, step="n-critic", step_options={"n": "3"}, epochs=2)
    g_before = [p.detach().clone() for p in trainer.setup.generator.parameters()]
    g_changed_at = []
    for index, (real, labels) in enumerate(trainer.batches.epoch(0)):
        before = [p.detach().clone() for p in trainer.setup.generator.parameters()]
        trainer.train_step(real, labels)
        if any(not torch.equal(a, p) for a, p in zip(before, trainer.setup.generator.parameters())):
            g_changed_at.append(index)
    assert g_changed_at == [2, 5, 8], "G must be updated after every 3rd D update, and only then"
    counters = trainer.step.schedule.counters
    assert (counters.phases["D"], counters.phases["G"]) == (10, 3)
    assert (adam_steps(trainer.step.d_optimizer), adam_steps(trainer.step.g_optimizer)) == (10, 3)
    assert any(not torch.equal(a, p) for a, p in zip(g_before, trainer.setup.generator.parameters()))


def test_phase_and_schedule_reject_malformed_steps():
    with pytest.raises(ValueError, match="network must be"):
        Phase("D", "critic")
    with pytest.raises(ValueError, match="interval"):
        Phase("G", "generator", interval=0)
    with pytest.raises(PluginContractError, match="never updates the generator"):
        Schedule([Phase("D", "discriminator")])
    plan_names = []
    schedule = Schedule([Phase("D", "discriminator"), Phase("G", "generator", interval=2, offset=0)])
    for _ in range(4):
        plan = schedule.next_plan()
        plan_names.append("".join(phase.name for phase, _ in plan))
        schedule.advance(plan)
    assert plan_names == ["DG", "D", "DG", "D"]


def test_counters_of_an_old_checkpoint_are_recounted_as_the_schedule_ran():
    """A checkpoint written before steps kept counters resumes at the same place in the schedule."""
    phases = [Phase("D", "discriminator"), Phase("G", "generator", interval=3)]
    reg = Regularization.of(
        "lazy", type("Lazy", (), {"network": "discriminator", "interval": 2, "penalty": lambda self, inputs: 0})()
    )
    ran, recounted = Schedule(phases, [reg]), Schedule(phases, [reg])
    for _ in range(7):
        ran.advance(ran.next_plan())
    recounted.fast_forward(7)
    assert recounted.counters == ran.counters
    assert recounted.next_plan() == ran.next_plan()


def test_step_option_typo_and_step_did_you_mean_are_usage_errors(cli, tmp_path):
    result = cli("run", "--dataset", "ring", "--step", "n-critc", "--out", tmp_path / "a")
    assert result.exit_code == 2, result.output
    assert "Unknown step 'n-critc'" in said(result) and "Did you mean 'n-critic'" in said(result)
    result = cli("run", "--dataset", "ring", "--step", "n-critic", "--step-option", "m=3", "--out", tmp_path / "b")
    assert result.exit_code == 2 and "has no option 'm'" in said(result)
    result = cli(
        "run", "--dataset", "ring", "--regularizer", "r1", "--regularizer-option", "r2.gamma=1", "--out", tmp_path / "c"
    )
    assert result.exit_code == 2 and "names 'r2'" in said(result)
    assert "Traceback" not in result.output and not (tmp_path / "c").exists()


def test_steps_regularizers_augmentations_are_listed_and_qualified(plugin_set):
    registry = plugin_set.registry
    assert {"two-phase", "n-critic"} <= set(registry.names("step"))
    assert {"r1", "r2"} <= set(registry.names("regularizer"))
    assert "diffaugment" in registry.names("augmentation")
    assert registry.get("step", "ganframe:n-critic").name == "n-critic"


# -- regularisers -------------------------------------------------------------------------------------
class _ZeroLoss:
    """D and G losses that are exactly 0 (with gradients), so a step's d_loss is the regulariser's term."""

    def discriminator_loss(self, inputs):
        return inputs.real_logits.sum() * 0 + inputs.fake_logits.sum() * 0

    def generator_loss(self, inputs):
        return inputs.fake_logits.sum() * 0


class _Spy:
    network, interval, real_input_grad = "discriminator", 4, True

    def __init__(self):
        self.calls = []

    def penalty(self, inputs):
        self.calls.append(inputs.real.requires_grad)
        return inputs.real_logits.sum() * 0 + 1.5


def test_a_lazy_regulariser_applies_every_interval_steps_scaled_by_the_interval(plugin_set):
    step = build_step(plugin_set.registry, "mlp-small", sample_shape=(2,))
    step.loss = _ZeroLoss()
    spy = _Spy()
    step.schedule = Schedule(step.schedule.phases, [Regularization.of("spy", spy)])
    real = torch.randn(8, 2)
    d_losses = [float(step(real, None)[0]) for _ in range(9)]
    assert d_losses == [0, 0, 0, 6.0, 0, 0, 0, 6.0, 0], "1.5 x interval 4 on every 4th D update only"
    assert spy.calls == [True, True], "real_input_grad makes inputs.real require gradients"
    assert step.schedule.counters.regularizers == {"spy": 2}


def test_r1_is_gamma_half_the_squared_input_gradient_norm_and_r2_uses_the_fakes():
    from ganframe.plugin.specs import Options, RegularizerSpec
    from ganframe_builtins.regularizers import R1, R2

    weight = torch.tensor([[1.0, -2.0]])
    real = torch.randn(5, 2, requires_grad=True)
    fake = torch.randn(5, 2, requires_grad=True)
    inputs = LossInputs(
        "discriminator",
        (real @ weight.T).squeeze(1) ** 2,
        (fake @ weight.T).squeeze(1),
        real,
        fake,
        None,
        None,
        lambda x, y: x,
    )
    r1 = R1(RegularizerSpec(Options({"gamma": "4", "interval": "16"})))
    # d/dx (w.x)^2 = 2 (w.x) w, squared norm 4 (w.x)^2 |w|^2
    expected = 4 / 2 * (4 * (real @ weight.T).squeeze(1) ** 2 * 5).mean()
    assert torch.allclose(r1.penalty(inputs), expected)
    assert r1.interval == 16 and r1.network == "discriminator"
    r2 = R2(RegularizerSpec(Options({"gamma": "2"})))
    assert torch.allclose(r2.penalty(inputs), torch.tensor(2 / 2 * 5.0)), "|w|^2 = 5 for every fake"
    with pytest.raises(UsageError, match="gamma"):
        R1(RegularizerSpec(Options({"gamma": "-1"})))


def test_a_regulariser_with_a_bad_network_is_named_as_the_plugin_bug():
    class Bad:
        network = "critic"

        def penalty(self, inputs):
            return 0

    with pytest.raises(PluginContractError, match="Regulariser 'bad'.*'discriminator' or 'generator'"):
        Regularization.of("bad", Bad())


# -- augmentations --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_diffaugment_is_differentiable_shape_preserving_and_random_per_sample(shape):
    from ganframe.plugin.specs import AugmentationSpec, Options
    from ganframe_builtins.diffaugment import diffaugment

    augment = diffaugment(AugmentationSpec(shape, Options()))
    x = (torch.rand(6, *shape) * 2 - 1).requires_grad_(True)
    torch.manual_seed(0)
    y = augment(x)
    assert y.shape == x.shape
    assert not torch.allclose(y, x)
    y.square().sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    same = x.detach()[:1].expand(6, *shape)
    out = augment(same)
    assert not torch.allclose(out[0], out[1]), "each sample draws its own transformation"
    cut = diffaugment(AugmentationSpec(shape, Options({"policy": "cutout"})))(torch.ones(4, *shape))
    assert ((cut == 0).float().mean() - 0.25).abs() < 0.1, "cutout zeroes about a quarter of each image"


def test_diffaugment_rejects_unknown_policies_and_non_images():
    from ganframe.plugin.specs import AugmentationSpec, Options
    from ganframe_builtins.diffaugment import diffaugment

    with pytest.raises(UsageError, match="unknown transformation 'colour'.*Did you mean 'color'"):
        diffaugment(AugmentationSpec((1, 8, 8), Options({"policy": "colour"})))
    with pytest.raises(UsageError, match=r"shape \(2,\)"):
        diffaugment(AugmentationSpec((2,), Options()))


def test_the_augmentation_sees_real_and_fake_in_both_phases(plugin_set):
    seen = []

    def augment(x):
        seen.append(x.shape[0])
        return x * 0.5

    step = build_step(plugin_set.registry, "mlp-small", sample_shape=(2,))
    step.augment = augment
    step(torch.randn(8, 2), None)
    assert seen == [16, 8], "D phase: real and fake (one joint forward of 16); G phase: the 8 fakes"
    seen.clear()
    step.joint = False
    step(torch.randn(8, 2), None)
    assert seen == [8, 8, 8]
    seen.clear()
    step.discriminate(torch.randn(3, 2), None)
    assert seen == [3], "losses' inputs.discriminator sees what training sees"


# -- discriminators with extra outputs ---------------------------------------------------------------------
def test_discriminator_outputs_are_normalised_to_logits_and_extras():
    logits = torch.randn(4, 1)
    assert split_discriminator_output(logits)[0].shape == (4,)
    classes = torch.randn(4, 10)
    flat, extra = split_discriminator_output((logits, {"class_logits": classes}))
    assert flat.shape == (4,) and extra["class_logits"] is classes
    flat, extra = split_discriminator_output({"logits": logits, "code": classes})
    assert flat.shape == (4,) and set(extra) == {"code"}
    with pytest.raises(PluginContractError, match="tuple \\(logits, dict"):
        split_discriminator_output([logits, classes])


def test_losses_get_extras_split_per_batch_in_the_joint_forward(plugin_set):
    class TwoHeads(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Linear(2, 4)

        def forward(self, x):
            out = self.net(x)
            return out[:, :1], {"class_logits": out[:, 1:]}

    got = {}

    class Recording(_ZeroLoss):
        def discriminator_loss(self, inputs):
            got["d"] = (inputs.real_extra["class_logits"].shape, inputs.fake_extra["class_logits"].shape)
            return super().discriminator_loss(inputs) + inputs.real_extra["class_logits"].sum() * 0

        def generator_loss(self, inputs):
            got["g"] = (dict(inputs.real_extra), inputs.fake_extra["class_logits"].shape)
            return super().generator_loss(inputs)

    step = build_step(plugin_set.registry, "mlp-small", sample_shape=(2,))
    step.discriminator = TwoHeads()
    step._d = step._d.using(step.discriminator)
    step.discriminator_sync = step.discriminator
    step.d_optimizer = torch.optim.Adam(step.discriminator.parameters())
    step.loss = Recording()
    assert torch.isfinite(step(torch.randn(5, 2), None)).all()
    assert got == {"d": (torch.Size([5, 3]), torch.Size([5, 3])), "g": ({}, torch.Size([5, 3]))}


def test_acgan_trains_end_to_end_and_its_class_head_learns(plugin_set, tiny_root, tmp_path):
    pytest.importorskip("ganframe_dcgan")
    config = RunConfig(
        model="acgan",
        data_root=str(tiny_root),
        epochs=1,
        max_steps=3,
        seed=0,
        device="cpu",
        out=str(tmp_path / "acgan"),
        model_options={"width": "8"},
    )
    state, _ = run(config, plugin_set)
    assert state.step == 3 and state.config.loss == "acgan"
    assert all(torch.isfinite(torch.tensor([row["d_loss"], row["g_loss"]])).all() for row in state.history)
    from ganframe_dcgan.models import ACGANDiscriminator

    assert isinstance(state.discriminator, ACGANDiscriminator)
    initial = build_setup(dataclasses.replace(config, out=None), plugin_set.registry).discriminator
    trained = newest(tmp_path / "acgan").discriminator["classifier.weight"]
    assert not torch.equal(initial.classifier.weight.detach(), trained), "the class head is trained"


# -- defaults, CLI, config.json ------------------------------------------------------------------------
def test_dcgan_with_wgan_gp_records_n_critic_and_the_papers_adam(cli, tiny_root, tmp_path):
    pytest.importorskip("ganframe_dcgan")
    out = tmp_path / "wgan"
    result = cli(
        "run",
        "--model",
        "dcgan",
        "--loss",
        "wgan-gp",
        "--data-root",
        tiny_root,
        "--max-steps",
        "5",
        "--model-option",
        "width=8",
        "--device",
        "cpu",
        "--seed",
        "1",
        "--out",
        out,
    )
    assert result.exit_code == 0, result.output
    config = json.loads((out / "config.json").read_text())
    assert (config["step"], config["step_options"], config["beta1"], config["beta2"]) == (
        "n-critic",
        {"n": 5},
        0.0,
        0.9,
    )
    checkpoint = newest(out)
    assert checkpoint.train_step["counters"]["phases"] == {"D": 5, "G": 1}
    explicit = tmp_path / "explicit"
    result = cli(
        "run",
        "--model",
        "dcgan",
        "--loss",
        "wgan-gp",
        "--step",
        "two-phase",
        "--beta1",
        "0.5",
        "--data-root",
        tiny_root,
        "--max-steps",
        "1",
        "--model-option",
        "width=8",
        "--device",
        "cpu",
        "--out",
        explicit,
    )
    assert result.exit_code == 0, result.output
    config = json.loads((explicit / "config.json").read_text())
    assert (config["step"], config["beta1"]) == ("two-phase", 0.5), "an explicit option wins over the loss's default"


def test_loss_and_dataset_defaults_are_checked_at_registration():
    from ganframe.plugin.registry import check_registration

    common = dict(plugin="p", distribution=None, version=None)
    with pytest.raises(ValueError, match="loss 'x': defaults has unknown setting 'stpe'.*Did you mean 'step'"):
        check_registration("loss", "x", lambda spec: None, None, {"defaults": {"stpe": "n-critic"}}, **common)
    with pytest.raises(ValueError, match="unknown setting 'loss'"):
        check_registration("loss", "x", lambda spec: None, None, {"defaults": {"loss": "bce"}}, **common)
    component = check_registration(
        "dataset", "d", lambda spec: None, None, {"defaults": {"step": "n-critic"}}, **common
    )
    assert component.defaults == {"step": "n-critic"}


# -- resume ---------------------------------------------------------------------------------------------
def test_resume_with_r1_diffaugment_and_n_critic_is_bitwise(plugin_set, tmp_path, tiny_root):
    """256 images at batch 64: 4 steps per epoch, 3 epochs; stopped mid-epoch at step 5, where n-critic's
    next G update and lazy R1's next application depend on the restored counters."""
    settings = dict(
        model="mlp-small",
        dataset="mnist",
        data_root=str(tiny_root),
        batch_size=64,
        epochs=3,
        seed=4,
        device="cpu",
        log_every=2,
        regularizers=["r1"],
        regularizer_options={"r1": {"interval": "2"}},
        augment="diffaugment",
        step="n-critic",
        step_options={"n": "3"},
    )
    run(RunConfig(out=str(tmp_path / "whole"), **settings), plugin_set)
    run(RunConfig(out=str(tmp_path / "parts"), max_steps=5, **settings), plugin_set)
    assert newest(tmp_path / "parts").train_step["counters"]["phases"] == {"D": 5, "G": 1}
    state, _ = run(RunConfig(), plugin_set, resume_from=tmp_path / "parts")
    assert state.step == 12
    whole, parts = newest(tmp_path / "whole"), newest(tmp_path / "parts")
    assert_same_training(parts, whole)
    assert parts.train_step == whole.train_step
    assert whole.train_step["counters"]["phases"] == {"D": 12, "G": 4}
    assert whole.train_step["counters"]["regularizers"] == {"ganframe:r1": 6}


def test_resume_keeps_the_step_and_refuses_another(plugin_set, tmp_path):
    out = tmp_path / "run"
    run(RunConfig(out=str(out), model="mlp-small", epochs=1, seed=1, step="n-critic", **RING), plugin_set)
    with pytest.raises(UsageError, match="--step two-phase \\(the run has n-critic\\)"):
        run(RunConfig(step="two-phase"), plugin_set, resume_from=out, explicit={"step"})
    old = RunConfig.from_dict({k: v for k, v in RunConfig(loss="bce").to_dict().items() if k != "step"})
    assert old.step == "two-phase", "a config saved before steps were pluggable trained two-phase"


# -- the test kit -------------------------------------------------------------------------------------
def test_the_kit_passes_the_built_ins_and_names_broken_components():
    from ganframe.testing import check_augmentation, check_regularizer, check_step

    assert [p.name for p in check_step("n-critic", options={"n": "3"})] == ["D", "G"]
    check_step("two-phase")
    check_regularizer("r1", options={"interval": "3"})
    check_regularizer("r2")
    check_augmentation("diffaugment")
    check_augmentation("diffaugment", options={"policy": "translation"}, sample_shape=(1, 8, 8))

    with pytest.raises(AssertionError, match="never updates the generator"):
        check_step(lambda spec: [Phase("D", "discriminator")])

    class Detached:
        network, interval = "discriminator", 1

        def penalty(self, inputs):
            return inputs.real_logits.detach().square().mean() + inputs.real_logits.sum() * 0

    with pytest.raises(AssertionError, match="sends no gradient into the discriminator"):
        check_regularizer(lambda spec: Detached())
    with pytest.raises(AssertionError, match="unchanged"):
        check_augmentation(lambda spec: lambda x: x)
    with pytest.raises(AssertionError, match="not differentiable"):
        check_augmentation(lambda spec: lambda x: torch.flip(x.detach(), dims=[-1]))


# -- distributed, --on-nan ----------------------------------------------------------------------------
def test_two_processes_with_n_critic_and_r1_match_one_process(tmp_path, plugin_set, monkeypatch):
    """DDP with steps that skip G's update and a double-backward penalty: with the noise made identical,
    two ranks of 32 train like one process of 64 (each update all-reduces its own network's gradients)."""
    from tests import fixtures_plugins
    from tests.runs import metrics_rows, ring_args, ring_config, same
    from tests.test_distributed import DDP, torchrun

    extra = ["--step", "n-critic", "--step-option", "n=3", "--regularizer", "r1"]
    result = torchrun(*ring_args(tmp_path / "ddp", **DDP, epochs=1), *extra, plugins="rank-dump,shared-noise")
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [torch.load(tmp_path / "ddp" / f"rank-{r}.pt", weights_only=True) for r in range(2)]
    assert same(ranks[0]["weights"], ranks[1]["weights"]), "the replicas drifted apart"
    from ganframe.train.step import TrainStep

    monkeypatch.setattr(TrainStep, "sample_inputs", fixtures_plugins.shared_noise_sampler())
    config = ring_config(
        tmp_path / "one", **DDP, epochs=1, step="n-critic", step_options={"n": "3"}, regularizers=["r1"]
    )
    reference, _ = run(config, plugin_set)
    two, one = metrics_rows(tmp_path / "ddp"), metrics_rows(tmp_path / "one")
    for name in ("d_loss", "g_loss"):
        assert torch.allclose(
            torch.tensor([r[name] for r in two]), torch.tensor([r[name] for r in one]), rtol=0, atol=1e-4
        ), name
    for net in ("generator", "discriminator"):
        for key, value in getattr(reference, net).state_dict().items():
            assert torch.allclose(ranks[0]["weights"][net][key], value, rtol=0, atol=1e-4), key
    assert newest(tmp_path / "ddp").train_step["counters"]["phases"] == {"D": 10, "G": 3}


def test_on_nan_skip_with_n_critic_counts_skipped_updates(tmp_path):
    from tests.fixtures_plugins import plugin_set as with_test_plugins

    plugins = with_test_plugins()
    config = RunConfig(
        out=str(tmp_path / "skip"),
        model="mlp-small",
        batch_size=64,
        epochs=1,
        seed=1,
        step="n-critic",
        loss="nan-at",
        loss_options={"at": "4", "which": "d_loss", "poison": "true"},
        on_nan="skip",
        **RING,
    )
    state, _ = run(config, plugins)
    assert state.stop_reason == "finished" and state.nonfinite_skipped == 1
    assert all(torch.isfinite(p).all() for p in state.discriminator.parameters()), "the poisoned update was skipped"
    assert newest(tmp_path / "skip").train_step["counters"]["phases"] == {"D": 10, "G": 2}
