"""A third-party plugin's exception is one paragraph naming the plugin, never a traceback through
pluggy; a failing lifecycle hook still leaves the epoch's checkpoint; logger objects are checked
like plugin modules; a loss that forgets a conditional model's labels fails before training."""

from __future__ import annotations

import pytest
import torch

from tests.helpers import said

RING = [
    "--dataset",
    "ring",
    "--dataset-option",
    "samples=640",
    "--device",
    "cpu",
    "--model",
    "mlp-small",
    "--seed",
    "3",
]

RAISING = """
from ganframe import hookimpl
import ganframe_builtins.mlp as mlp
import ganframe_builtins.toy_datasets as toy


def _explode(what):
    raise ValueError(f"{what} exploded")


def generator(spec):
    _explode("generator factory")


def dataset(spec):
    return _explode("dataset factory")


def logger(run_dir, config):
    _explode("logger factory")


@hookimpl
def register_generators(register):
    register("boom", generator)


@hookimpl
def register_discriminators(register):
    register("boom", "ganframe_builtins.mlp:small_discriminator")


@hookimpl
def register_datasets(register):
    register("boomset", dataset)


@hookimpl
def register_loggers(register):
    register("boomlog", logger)
"""

HOOK = """
from ganframe import hookimpl

seen = []


@hookimpl
def on_epoch_end(state):
    seen.append(state.epoch)
    if state.epoch == {epoch}:
        raise RuntimeError("epoch hook exploded")
"""

LOGGERS = """
from ganframe import hookimpl


class Misspelled:
    @hookimpl
    def on_epoch_ends(self, state):
        pass

    @hookimpl
    def on_metrics(self, state, metrics):
        pass


class WrongArgument:
    @hookimpl
    def on_metrics(self, state, metricz):
        pass


@hookimpl
def register_loggers(register):
    register("misspelled", lambda run_dir, config: Misspelled())
    register("wrongarg", lambda run_dir, config: WrongArgument())
"""

FORGETFUL = """
import torch.nn.functional as F
from ganframe import hookimpl


class Forgetful:
    def __init__(self, spec):
        pass

    def discriminator_loss(self, inputs):
        penalty = inputs.discriminator(inputs.real, None).mean()  # the labels forgotten
        return F.softplus(-inputs.real_logits).mean() + F.softplus(inputs.fake_logits).mean() + 0 * penalty

    def generator_loss(self, inputs):
        return F.softplus(-inputs.fake_logits).mean()


@hookimpl
def register_losses(register):
    register("forgetful", Forgetful)
"""


def failed(result) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    return said(result)


def _line_of(source: str, text: str) -> int:
    return next(i for i, line in enumerate(source.splitlines(), 1) if text in line)


@pytest.mark.parametrize(
    "args, what",
    [
        (["--model", "boom"], "generator factory"),
        (["--dataset", "boomset"], "dataset factory"),
        (["--logger", "boomlog"], "logger factory"),
    ],
)
def test_a_raising_factory_is_one_paragraph_naming_the_plugin(cli, site, tmp_path, args, what):
    site.add("raising-plugin", {"raising_plugin": RAISING})
    out = tmp_path / "run"
    message = failed(cli("run", *RING, "--max-steps", 2, "--out", out, *args))
    assert "plugin 'raising_plugin' (distribution 'raising-plugin' 1.0)" in message
    assert f"ValueError: {what} exploded" in message and what.split()[0] in message
    line = _line_of(RAISING, 'raise ValueError(f"{what} exploded")')
    assert f"raising_plugin.py:{line})" in message  # the plugin's own line, not torch's or ganframe's
    assert "GANFRAME_DEBUG=1" in message
    assert not out.exists()


def test_ganframe_debug_shows_the_full_traceback(cli, site, tmp_path, monkeypatch):
    site.add("raising-plugin", {"raising_plugin": RAISING})
    monkeypatch.setenv("GANFRAME_DEBUG", "1")
    result = cli("run", *RING, "--model", "boom", "--out", tmp_path / "run")
    assert result.exit_code == 1
    assert "Traceback" in result.output and "in _explode" in result.output
    assert "generator factory exploded" in said(result)


@pytest.mark.parametrize("epoch", [1, 2])
def test_a_raising_epoch_hook_stops_the_run_and_leaves_that_epochs_checkpoint(cli, site, tmp_path, epoch):
    site.add("hook-plugin", {"hook_plugin": HOOK.replace("{epoch}", str(epoch))})
    out = tmp_path / "run"
    message = failed(cli("run", *RING, "--epochs", 3, "--out", out))
    checkpoint = out / "checkpoints" / f"epoch-{epoch:04d}.pt"
    assert "Plugin 'hook_plugin' (distribution 'hook-plugin' 1.0) failed in its on_epoch_end hook" in message
    assert f"RuntimeError: epoch hook exploded (at {site.root / 'hook_plugin.py'}:" in message
    assert str(checkpoint) in message and f"ganframe run --resume {out}" in message
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == [f"epoch-{e:04d}.pt" for e in range(1, epoch + 1)]
    assert torch.load(checkpoint, weights_only=True)["epoch"] == epoch
    import hook_plugin

    assert hook_plugin.seen == list(range(1, epoch + 1))  # not called again after it failed


def test_a_misspelled_logger_hook_is_reported_and_fatal_in_strict_mode(cli, site, tmp_path, monkeypatch):
    site.add("logger-plugin", {"logger_plugin": LOGGERS})
    result = cli("run", *RING, "--max-steps", 2, "--logger", "misspelled", "--out", tmp_path / "a")
    assert result.exit_code == 0, result.output
    assert "implements 'on_epoch_ends', which is not a ganframe hook" in said(result)
    monkeypatch.setenv("GANFRAME_STRICT_PLUGINS", "1")
    out = tmp_path / "b"
    message = failed(cli("run", *RING, "--max-steps", 2, "--logger", "misspelled", "--out", out))
    assert "GANFRAME_STRICT_PLUGINS=1" in message and "on_epoch_ends" in message and "'on_epoch_end'" in message
    assert not out.exists()


def test_a_logger_hook_with_a_wrong_argument_is_named_by_its_plugin(cli, site, tmp_path):
    site.add("logger-plugin", {"logger_plugin": LOGGERS})
    out = tmp_path / "run"
    message = failed(cli("run", *RING, "--max-steps", 2, "--logger", "wrongarg", "--out", out))
    assert "logger 'logger-plugin:wrongarg' of plugin 'logger_plugin' (distribution 'logger-plugin' 1.0)" in message
    assert "'metricz'" in message and "Plugin '1" not in message
    assert not out.exists()


def test_a_loss_that_forgets_the_labels_gets_the_test_kits_message_before_training(cli, site, tiny_root, tmp_path):
    site.add("forgetful-loss", {"forgetful_loss": FORGETFUL})
    out = tmp_path / "run"
    message = failed(
        cli("run", "--model", "cgan", "--loss", "forgetful", "--data-root", tiny_root, "--max-steps", 2, "--out", out)
    )
    assert "The loss 'forgetful-loss:forgetful' of plugin 'forgetful_loss'" in message
    assert "discriminator_loss(inputs) in the discriminator phase raised TypeError" in message
    assert f"forgetful_loss.py:{_line_of(FORGETFUL, 'the labels forgotten')})" in message
    assert "check_loss(..., conditional=True)" in message
    assert not out.exists()
    # the same loss is fine for a model without labels
    assert cli("run", *RING, "--loss", "forgetful", "--max-steps", 2, "--out", tmp_path / "ok").exit_code == 0
