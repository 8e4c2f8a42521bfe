"""--precision auto: bf16 where the hardware computes it natively, fp32 elsewhere; the run records
which, and --resume keeps it (bitwise, on any machine)."""

from __future__ import annotations

import json

import pytest
import torch

from ganframe.config import RunConfig, resolve
from ganframe.errors import UsageError
from ganframe.train import precision
from ganframe.train.precision import OVERRIDE, cpu_flags, has_native_bf16, resolve_precision
from tests.runs import assert_same_training, newest, rewrite_newest, ring_config, run

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


@pytest.fixture
def native(monkeypatch):
    """``native(cpu=..., cuda=...)``: pretend the CPU / GPU does (not) compute bf16 natively; the
    suite's pin of auto (conftest) is lifted so detection decides."""
    monkeypatch.delenv(OVERRIDE, raising=False)

    def pretend(cpu: bool, cuda: bool = False) -> None:
        monkeypatch.setattr(precision, "cpu_flags", lambda: {"fpu", "avx512f"} | ({"amx_bf16"} if cpu else set()))
        monkeypatch.setattr(precision, "cuda_has_bf16", lambda device: cuda)

    return pretend


@pytest.mark.parametrize("cpu, cuda", [(True, False), (False, True), (False, False)])
def test_auto_is_bf16_exactly_where_the_device_has_native_bf16(native, cpu, cuda):
    native(cpu=cpu, cuda=cuda)
    assert resolve_precision("auto", CPU) == ("bf16" if cpu else "fp32")
    assert resolve_precision("auto", CUDA) == ("bf16" if cuda else "fp32")
    for explicit in ("fp32", "bf16"):  # an explicit choice is never second-guessed
        assert resolve_precision(explicit, CPU) == resolve_precision(explicit, CUDA) == explicit


def test_cpu_bf16_is_read_from_the_cpu_flags(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n\nprocessor\t: 1\n")
    assert {"avx512_bf16", "avx512f"} <= cpu_flags(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nFeatures\t: fp asimd bf16\n")  # ARM spells it differently: not AVX512-BF16
    assert "bf16" in cpu_flags(cpuinfo)
    assert cpu_flags(tmp_path / "missing") == set()  # no /proc (macOS, Windows): fp32
    for flags, expected in [
        ({"avx512f", "avx2"}, False),
        ({"avx512_bf16"}, True),
        ({"amx_bf16"}, True),
        (set(), False),
    ]:
        monkeypatch.setattr(precision, "cpu_flags", lambda flags=flags: flags)
        assert has_native_bf16(CPU) is expected


@pytest.mark.parametrize("available, supported", [(False, True), (True, False), (True, True)])
def test_cuda_bf16_is_what_torch_says_without_emulation(monkeypatch, available, supported):
    asked = []
    monkeypatch.setattr(torch.cuda, "is_available", lambda: available)
    monkeypatch.setattr(
        torch.cuda, "is_bf16_supported", lambda including_emulation=True: asked.append(including_emulation) or supported
    )
    assert has_native_bf16(CUDA) is (available and supported)
    assert asked == ([False] if available else [])  # emulated bf16 (pre-Ampere GPUs) is no reason for auto to pick it


def test_the_override_decides_auto_and_a_bad_value_is_a_usage_error(native, monkeypatch):
    native(cpu=True)
    monkeypatch.setenv(OVERRIDE, "fp32")
    assert resolve_precision("auto", CPU) == "fp32"
    assert resolve_precision("bf16", CPU) == "bf16"
    monkeypatch.setenv(OVERRIDE, "fp16")
    with pytest.raises(UsageError, match="GANFRAME_AUTO_PRECISION='fp16'.*'fp32' or 'bf16'"):
        resolve_precision("auto", CPU)


def test_the_default_is_the_models_else_auto():
    assert resolve(RunConfig(seed=1), {}).precision == "auto"
    assert resolve(RunConfig(seed=1), {"precision": "fp32"}).precision == "fp32"
    assert resolve(RunConfig(seed=1, precision="bf16"), {"precision": "fp32"}).precision == "bf16"
    with pytest.raises(UsageError, match="'auto', 'fp32', 'bf16'"):
        resolve(RunConfig(seed=1, precision="fp16"), {})


def recorded(out) -> tuple[str, str]:
    """The precision in config.json and in the newest checkpoint."""
    return json.loads((out / "config.json").read_text())["precision"], newest(out).config["precision"]


@pytest.mark.parametrize("cpu", [True, False], ids=["native-bf16", "no-bf16"])
def test_a_run_records_what_auto_resolved_to_and_trains_in_it(tmp_path, plugin_set, native, cpu):
    native(cpu=cpu)
    expected = "bf16" if cpu else "fp32"
    run(ring_config(tmp_path / "auto", max_steps=6), plugin_set)
    assert recorded(tmp_path / "auto") == (expected, expected)
    run(ring_config(tmp_path / "explicit", max_steps=6, precision=expected), plugin_set)
    other = "fp32" if cpu else "bf16"
    run(ring_config(tmp_path / "other", max_steps=6, precision=other), plugin_set)
    assert recorded(tmp_path / "other") == (other, other)
    assert_same_training(newest(tmp_path / "auto"), newest(tmp_path / "explicit"))
    with pytest.raises(AssertionError, match="differ in"):  # the two precisions train different weights
        assert_same_training(newest(tmp_path / "auto"), newest(tmp_path / "other"))


def test_a_resumed_bf16_run_equals_an_uninterrupted_one_bitwise_on_any_machine(tmp_path, plugin_set, native):
    """Started where auto means bf16, resumed (twice) where it would mean fp32: the run stays bf16."""
    native(cpu=False)
    run(ring_config(tmp_path / "whole", precision="bf16"), plugin_set)
    native(cpu=True)
    out = tmp_path / "resumed"
    state, _ = run(ring_config(out, max_steps=15), plugin_set)
    assert state.step == 15 and recorded(out) == ("bf16", "bf16")
    native(cpu=False)
    with pytest.raises(UsageError, match="--precision fp32 \\(the run has bf16\\)"):
        run(RunConfig(precision="fp32"), plugin_set, resume_from=out, explicit={"precision"})
    # --precision auto agrees with the run: it means what it meant when the run started
    run(RunConfig(max_steps=27, precision="auto"), plugin_set, resume_from=out, explicit={"max_steps", "precision"})
    state, _ = run(RunConfig(), plugin_set, resume_from=out)
    assert state.stop_reason == "finished" and state.step == 40 and recorded(out) == ("bf16", "bf16")
    assert_same_training(newest(out), newest(tmp_path / "whole"))


def test_a_run_saved_before_precision_was_recorded_resumes_in_fp32(tmp_path, plugin_set, native):
    native(cpu=True)
    out = tmp_path / "old"
    run(ring_config(out, max_steps=10, epochs=2, precision="fp32"), plugin_set)
    rewrite_newest(out, lambda payload: payload["config"].pop("precision"))
    state, _ = run(RunConfig(), plugin_set, resume_from=out)
    assert state.step == 20 and state.config.precision == "fp32" and recorded(out) == ("fp32", "fp32")


def test_a_model_may_declare_its_precision(site, tmp_path, native):
    """A generator's ``defaults={"precision": "fp32"}`` keeps its runs in fp32 where auto means bf16."""
    from ganframe.plugin.manager import load_plugins

    site.add(
        "gf-exact",
        {
            "gf_exact": """
        from ganframe import hookimpl

        @hookimpl
        def register_generators(register):
            register("exact", "ganframe_builtins.mlp:mlp_small_generator", defaults={"precision": "fp32"})

        @hookimpl
        def register_discriminators(register):
            register("exact", "ganframe_builtins.mlp:mlp_small_discriminator")
    """
        },
    )
    native(cpu=True)
    run(ring_config(tmp_path / "exact", model="exact", max_steps=3), load_plugins())
    assert recorded(tmp_path / "exact") == ("fp32", "fp32")


@pytest.mark.parametrize(
    "model, expected", [("mlp", "bf16"), ("cgan", "bf16"), ("mlp-small", "bf16"), ("batchnorm", "fp32")]
)
def test_builtin_models_take_bf16_where_measured_as_good_as_fp32(plugin_set, native, model, expected):
    """docs/quality.md, "bf16 against fp32": batchnorm has one bf16 seed so far, so it stays fp32."""
    native(cpu=True)
    defaults = plugin_set.registry.get("generator", model).defaults
    assert resolve_precision(resolve(RunConfig(model=model, seed=0), defaults).precision, CPU) == expected
    native(cpu=False)
    assert resolve_precision(resolve(RunConfig(model=model, seed=0), defaults).precision, CPU) == "fp32"
