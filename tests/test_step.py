"""The two-phase step: what each phase may touch, and where labels go."""

import pytest
import torch

from ganframe.train.step import StepLevers
from tests.helpers import build_step, changed, snapshot


def real_batch(n=16, shape=(1, 28, 28)):
    return torch.rand(n, *shape) * 2 - 1


def test_discriminator_phase_updates_only_d_and_fakes_carry_no_gradient_into_g(plugin_set):
    torch.manual_seed(0)
    step = build_step(plugin_set.registry, "mlp")
    g_before, d_before = snapshot(step.generator), snapshot(step.discriminator)
    step.discriminator_phase(real_batch(), None)
    assert changed(d_before, step.discriminator) == set(d_before), "every D parameter should move"
    assert changed(g_before, step.generator) == set(), "G must not change in the D phase"
    assert all(p.grad is None for p in step.generator.parameters()), "no gradient may reach G in the D phase"


def test_generator_phase_updates_only_g_and_computes_no_d_weight_gradients(plugin_set):
    torch.manual_seed(0)
    step = build_step(plugin_set.registry, "mlp")
    real = real_batch()
    step.discriminator_phase(real, None)
    d_grads = {n: p.grad.clone() for n, p in step.discriminator.named_parameters()}
    calls = []
    handles = [p.register_hook(lambda g, n=n: calls.append(n)) for n, p in step.discriminator.named_parameters()]
    g_before, d_before = snapshot(step.generator), snapshot(step.discriminator)
    step.generator_phase(real, None)
    for handle in handles:
        handle.remove()
    assert changed(g_before, step.generator) == set(g_before), "every G parameter should move"
    assert changed(d_before, step.discriminator) == set(), "D must not change in the G phase"
    assert calls == [], "no gradient may be computed for D's weights in the G phase"
    for name, p in step.discriminator.named_parameters():
        assert torch.equal(p.grad, d_grads[name])
        assert p.requires_grad, "D must be trainable again after the G phase"


def test_full_step_returns_finite_metrics_without_touching_the_host(plugin_set):
    torch.manual_seed(0)
    step = build_step(plugin_set.registry, "mlp")
    metrics = step(real_batch(), None)
    assert metrics.shape == (4,) and torch.isfinite(metrics).all()
    d_x, d_gz = metrics[2].item(), metrics[3].item()
    assert 0 < d_x < 1 and 0 < d_gz < 1


class Recorder:
    """Wraps a network's forward to record the labels it receives."""

    def __init__(self, module):
        self.calls = []
        original = module.forward

        def forward(x, labels):
            self.calls.append(labels.clone())
            return original(x, labels)

        module.forward = forward


@pytest.mark.parametrize("levers", [StepLevers(), StepLevers.plain()], ids=["fast", "plain"])
def test_labels_reach_both_conditional_networks(plugin_set, levers):
    torch.manual_seed(0)
    step = build_step(plugin_set.registry, "cgan", levers=levers)
    g_rec, d_rec = Recorder(step.generator), Recorder(step.discriminator)
    real_labels = torch.arange(16) % 10
    step.discriminator_phase(real_batch(), real_labels)
    # G once for the fakes; D sees the real batch with the real labels and the fakes with G's labels
    assert len(g_rec.calls) == 1
    d_labels = torch.cat(d_rec.calls)  # one joint call on the fast path, two calls on the plain path
    assert len(d_rec.calls) == (1 if levers.joint_discriminator else 2)
    assert torch.equal(d_labels[:16], real_labels)
    assert torch.equal(d_labels[16:], g_rec.calls[0])
    d_calls = len(d_rec.calls)
    step.generator_phase(real_batch(), real_labels)
    assert len(g_rec.calls) == 2 and len(d_rec.calls) == d_calls + 1
    assert torch.equal(d_rec.calls[-1], g_rec.calls[1])
    assert not torch.equal(g_rec.calls[0], g_rec.calls[1]), "fresh labels for each phase"


def test_fake_labels_are_uniform(plugin_set):
    torch.manual_seed(0)
    step = build_step(plugin_set.registry, "cgan")
    _, labels = step.sample_inputs(20_000, torch.device("cpu"))
    share = torch.bincount(labels, minlength=10).float() / 20_000
    assert labels.min() == 0 and labels.max() == 9
    assert torch.all((share - 0.1).abs() < 0.01)


def test_unconditional_model_gets_no_labels(plugin_set):
    step = build_step(plugin_set.registry, "mlp")
    noise, labels = step.sample_inputs(8, torch.device("cpu"))
    assert labels is None and noise.shape == (8, 100)


class PerSampleLoss:
    """A buggy loss plugin: forgets to reduce D's loss over the batch."""

    def discriminator_loss(self, inputs):
        return -torch.nn.functional.logsigmoid(inputs.real_logits)

    def generator_loss(self, inputs):
        return -torch.nn.functional.logsigmoid(inputs.fake_logits).mean()


def test_a_loss_that_returns_a_batch_is_named_as_a_plugin_bug(plugin_set):
    from ganframe.errors import PluginContractError

    step = build_step(plugin_set.registry, "mlp")
    step.loss = PerSampleLoss()
    with pytest.raises(PluginContractError, match=r"PerSampleLoss.discriminator_loss returned \(16,\).*\.mean\(\)"):
        step(real_batch(), None)


def test_a_one_element_loss_is_accepted(plugin_set):
    step = build_step(plugin_set.registry, "mlp")
    bce = step.loss

    class OneElement:
        def discriminator_loss(self, inputs):
            return bce.discriminator_loss(inputs).reshape(1)

        def generator_loss(self, inputs):
            return bce.generator_loss(inputs).reshape(1, 1)

    step.loss = OneElement()
    assert torch.isfinite(step(real_batch(), None)).all()
