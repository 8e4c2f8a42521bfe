"""The settings of one run, as plain data.

:class:`RunConfig` is what the CLI builds from its options and what is saved
as ``config.json`` in the run directory and inside every checkpoint. Fields a
model may recommend (``latent_dim``, ``batch_size``, ...) start as ``None``
and are filled by :func:`resolve`: an explicit option wins, then the
generator's registered ``defaults``, then :data:`GLOBAL_DEFAULTS`.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass, field
from typing import Any

from ganframe.errors import UsageError, did_you_mean, quoted_list

#: values used when neither the user nor the model chose one (the documents' shared defaults)
GLOBAL_DEFAULTS: dict[str, Any] = {
    "loss": "bce",
    "latent_dim": 100,
    "batch_size": 64,
    "lr": 2e-4,
    "beta1": 0.9,
    "beta2": 0.999,
    "optimizer": "adam",
    #: decay of the average of G's weights that samples are drawn from; 0: no average (the documents')
    "g_ema": 0.0,
    #: the training step's schedule (a registered step: two-phase, n-critic, ...)
    "step": "two-phase",
}

OPTIMIZERS = ("adam", "sgd")
DEVICES = ("auto", "cpu", "cuda")
SAMPLE_MODES = ("eval", "train")
DATA_PATHS = ("auto", "device", "loader")
PRECISIONS = ("fp32", "bf16")
ON_NAN = ("stop", "skip")
#: which weights of a checkpoint ``ganframe sample`` / ``eval`` draw from (see ganframe.run.sampling)
WEIGHTS = ("auto", "ema", "trained")


@dataclass
class RunConfig:
    """Every setting of a training run. ``None`` means "not chosen yet" until :func:`resolve`."""

    model: str = "mlp"
    generator: str | None = None
    discriminator: str | None = None
    loss: str | None = None
    dataset: str = "mnist"
    data_root: str | None = None
    epochs: int = 20
    max_steps: int | None = None
    batch_size: int | None = None
    latent_dim: int | None = None
    lr: float | None = None
    beta1: float | None = None
    beta2: float | None = None
    optimizer: str | None = None
    momentum: float = 0.0
    #: sample from an exponential moving average of G's weights with this decay (0: off); see ganframe.train.weight_average
    g_ema: float | None = None
    device: str = "auto"
    seed: int | None = None
    out: str | None = None
    log_every: int = 50
    sample_mode: str = "eval"
    data_path: str = "auto"
    precision: str = "fp32"
    fast_path: bool = True
    compile: bool = False
    cuda_graph: bool = False
    keep_checkpoints: int = 0
    on_nan: str = "stop"
    sync_batchnorm: bool = False
    loggers: list[str] = field(default_factory=list)
    #: score samples with the data set's classifier every K epochs (and after the last); None: never
    eval_every: int | None = None
    eval_samples: int = 2000
    loss_options: dict[str, Any] = field(default_factory=dict)
    model_options: dict[str, Any] = field(default_factory=dict)
    dataset_options: dict[str, Any] = field(default_factory=dict)
    #: the training step (``--step``; default: the loss's, model's or data set's, else two-phase)
    step: str | None = None
    step_options: dict[str, Any] = field(default_factory=dict)
    #: regularisers added to D's or G's loss (``--regularizer``, repeatable), in order
    regularizers: list[str] = field(default_factory=list)
    #: ``{regulariser name: {key: value}}`` (``--regularizer-option NAME.KEY=VALUE``)
    regularizer_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: differentiable augmentation of D's inputs (``--augment``); None: none
    augment: str | None = None
    augment_options: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Rebuild from ``to_dict`` output; keys from newer versions are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "step" not in data and data.get("loss") is not None:  # resolved before steps were pluggable
            values["step"] = "two-phase"
        return cls(**values)

    @property
    def generator_name(self) -> str:
        return self.generator or self.model

    @property
    def discriminator_name(self) -> str:
        return self.discriminator or self.model


def check_choice(option: str, value: str, valid: tuple[str, ...]) -> None:
    if value not in valid:
        raise UsageError(
            f"Invalid value '{value}' for {option}.{did_you_mean(value, valid)} Valid values: {quoted_list(valid)}."
        )


def validate(config: RunConfig) -> None:
    """Reject values no run could use, each with one sentence naming the option."""
    positive = {"--epochs": config.epochs, "--batch-size": config.batch_size, "--latent-dim": config.latent_dim,
                "--max-steps": config.max_steps, "--log-every": config.log_every,
                "--eval-every": config.eval_every, "--eval-samples": config.eval_samples}
    for option, value in positive.items():
        if value is not None and value <= 0:
            raise UsageError(f"{option} must be a positive whole number; got {value}.")
    if config.lr is not None and config.lr <= 0:
        raise UsageError(f"--lr must be positive; got {config.lr}.")
    for option, value in (("--beta1", config.beta1), ("--beta2", config.beta2)):
        if value is not None and not 0.0 <= value < 1.0:
            raise UsageError(f"{option} must be in [0, 1); got {value}.")
    if config.g_ema is not None and not 0.0 <= config.g_ema < 1.0:
        raise UsageError(
            f"--g-ema must be a decay in [0, 1), e.g. 0.999 (0 turns the average off); got {config.g_ema}."
        )
    if config.keep_checkpoints < 0:
        raise UsageError(f"--keep-checkpoints must be 0 (keep all) or positive; got {config.keep_checkpoints}.")
    if config.optimizer is not None:
        check_choice("--optimizer", config.optimizer, OPTIMIZERS)
    check_choice("--device", config.device, DEVICES)
    check_choice("--sample-mode", config.sample_mode, SAMPLE_MODES)
    check_choice("--data-path", config.data_path, DATA_PATHS)
    check_choice("--precision", config.precision, PRECISIONS)
    check_choice("--on-nan", config.on_nan, ON_NAN)
    repeated = sorted({name for name in config.regularizers if config.regularizers.count(name) > 1})
    if repeated:
        raise UsageError(
            f"--regularizer {repeated[0]} is given more than once; give each regulariser once and set its "
            f"strength with --regularizer-option {repeated[0]}.gamma=VALUE (or its own options)."
        )
    if config.cuda_graph and config.on_nan == "skip":
        raise UsageError(
            "--on-nan skip reads every loss on the host before its update, which a captured CUDA graph cannot do; "
            "use --on-nan stop (the default) with --cuda-graph."
        )


def setting(config: RunConfig, name: str, model_defaults: dict[str, Any]) -> Any:
    """One defaultable setting: explicit > the model's default > :data:`GLOBAL_DEFAULTS`."""
    value = getattr(config, name)
    return value if value is not None else model_defaults.get(name, GLOBAL_DEFAULTS[name])


def resolve(config: RunConfig, model_defaults: dict[str, Any], data_root: str | None = None) -> RunConfig:
    """A copy with every ``None`` setting filled (explicit > model defaults > global), the component
    names and data root spelled out, and a seed chosen."""
    resolved = dataclasses.replace(config)
    resolved.generator = config.generator_name
    resolved.discriminator = config.discriminator_name
    if data_root is not None:
        resolved.data_root = data_root
    for name in GLOBAL_DEFAULTS:
        setattr(resolved, name, setting(resolved, name, model_defaults))
    if resolved.seed is None:
        resolved.seed = secrets.randbelow(2**31)
    validate(resolved)
    return resolved


def parse_key_values(values: list[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a malformed item is a UsageError."""
    parsed: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} expects KEY=VALUE; got '{item}'.")
        parsed[key.strip()] = value.strip()
    return parsed


def parse_named_key_values(values: list[str] | None, option: str, names: list[str]) -> dict[str, dict[str, str]]:
    """``["r1.gamma=5"]`` -> ``{"r1": {"gamma": "5"}}`` for options of several named components
    (``--regularizer-option``); the name must be one of ``names`` (those given with the matching option)."""
    parsed: dict[str, dict[str, str]] = {}
    for key, value in parse_key_values(values, option).items():
        name, dot, sub = key.rpartition(".")
        if not dot or not name or not sub:
            raise UsageError(f"{option} expects NAME.KEY=VALUE (e.g. r1.gamma=5); got '{key}={value}'.")
        if name not in names:
            given = quoted_list(names) if names else "none"
            raise UsageError(
                f"{option} {key}={value} names '{name}', which is not among the components given "
                f"({given}).{did_you_mean(name, names)} Add it with its option first, e.g. --regularizer {name}."
            )
        parsed.setdefault(name, {})[sub] = value
    return parsed
