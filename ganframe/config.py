"""The settings of one run, as plain data.

:class:`RunConfig` is what the CLI builds from its options and what is saved
as ``config.json`` in the run directory and inside every checkpoint. Fields a
model may recommend (``latent_dim``, ``batch_size``, ...) start as ``None``
and are filled by :func:`resolve`: an explicit option wins, then the
generator's registered ``defaults``, then :data:`GLOBAL_DEFAULTS`.
"""

from __future__ import annotations

import dataclasses
import math
import os
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ganframe.errors import UsageError, did_you_mean, quoted_list

#: values used when neither the user nor the model chose one (the tutorial recipes' shared defaults, docs/background.md)
GLOBAL_DEFAULTS: dict[str, Any] = {
    "loss": "bce",
    "latent_dim": 100,
    "batch_size": 64,
    "lr": 2e-4,
    "beta1": 0.9,
    "beta2": 0.999,
    "optimizer": "adam",
    #: how the learning rates change over a run (ganframe.train.lr_decay); constant as in the tutorial recipes
    "lr_decay": "constant",
    #: decay of the average of G's weights that samples are drawn from; 0: no average (as in the tutorial recipes)
    "g_ema": 0.0,
    #: the training step's schedule (a registered step: two-phase, n-critic, ...)
    "step": "two-phase",
    #: bf16 autocast where the CPU / GPU computes bf16 natively, else fp32 (ganframe.train.precision)
    "precision": "auto",
}

OPTIMIZERS = ("adam", "sgd")
#: data-set options that name a file or folder (``image-folder``'s ``path``): recorded as absolute
#: paths, so a run resumes and ``ganframe eval`` finds its data from any working directory
PATH_OPTIONS = ("path",)
LR_DECAYS = ("constant", "linear")
DEVICES = ("auto", "cpu", "cuda")
SAMPLE_MODES = ("eval", "train")
DATA_PATHS = ("auto", "device", "loader")
PRECISIONS = ("auto", "fp32", "bf16")
ON_NAN = ("stop", "skip")
#: which weights of a checkpoint ``ganframe sample`` / ``eval`` draw from (see ganframe.run.sampling)
WEIGHTS = ("auto", "ema", "trained")


@dataclass(frozen=True)
class Option:
    """How ``ganframe run`` sets a :class:`RunConfig` field: the one declaration the CLI options,
    ``--resume``'s rules, the option names in messages and the README's options table are built from.

    ``flags[0]`` is the option's name in messages. ``check(name, value)`` raises a UsageError for a
    value no run could use (called by :func:`validate` for values that are not ``None``). ``key``
    marks a shortcut that sets one key of a dict field (``--smooth`` sets ``loss_options["smooth"]``),
    with its own command-line ``type``. ``parse(value, name)`` turns the command-line value into the
    field's (``--eval-metrics fid,kid`` -> ``["fid", "kid"]``).
    """

    flags: tuple[str, ...]
    help: str
    may_change_on_resume: bool = False
    metavar: str | None = None
    check: Callable[[str, Any], None] | None = None
    key: str | None = None
    type: Any = None
    parse: Callable[[Any, str], Any] | None = None

    @property
    def name(self) -> str:
        return self.flags[0]


def comma_separated(value: str | None, option: str) -> list[str] | None:
    """``"fid,kid"`` -> ``["fid", "kid"]`` (duplicates dropped); ``None`` (not given) stays ``None``."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise UsageError(f"{option} expects metric names separated by commas, e.g. {option} fid,kid; got '{value}'.")
    return list(dict.fromkeys(names))


def named_key_values(values: dict[str, str], option: str) -> dict[str, dict[str, str]]:
    """``{"r1.gamma": "5"}`` -> ``{"r1": {"gamma": "5"}}``: options of several named components
    (``--regularizer-option``); :func:`validate` checks the names against the components given."""
    parsed: dict[str, dict[str, str]] = {}
    for key, value in values.items():
        name, dot, sub = key.rpartition(".")
        if not dot or not name or not sub:
            raise UsageError(f"{option} expects NAME.KEY=VALUE (e.g. r1.gamma=5); got '{key}={value}'.")
        parsed.setdefault(name, {})[sub] = value
    return parsed


def option(*flags: str, help: str, also: tuple[Option, ...] = (), **settings: Any) -> dict[str, Any]:
    """Field metadata declaring the field's option (and any shortcut options ``also`` setting it)."""
    return {"option": Option(flags, help, **settings), "also": also}


# -- checks an option declares; each names the option and the valid values ------------------
#: the seeds torch's generators accept (``torch.manual_seed``); seeds derived from it wrap around
SEED_LIMIT = 2**64


@dataclass(frozen=True)
class Bounds:
    """A numeric option's valid values: finite, within ``low``..``high`` (each end open or closed).
    Called as a declared ``check``: ``bounds(option, value)`` raises a UsageError naming both."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = True
    integer: bool = False
    #: how to say what is valid, e.g. "a positive learning rate such as 2e-4"
    valid: str = ""

    def holds(self, value: float) -> bool:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if self.integer and not isinstance(value, int):
            return False
        if not isinstance(value, int) and not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def __call__(self, option: str, value: Any) -> None:
        if not self.holds(value):
            raise UsageError(f"{option} must be {self.valid}; got {value}.")


positive_whole = Bounds(0, low_open=True, integer=True, valid="a positive whole number")
keep_count = Bounds(0, integer=True, valid="0 (keep all) or a positive whole number")
SEED = Bounds(0, SEED_LIMIT, integer=True, valid=f"a whole number from 0 to {SEED_LIMIT - 1} (2**64 - 1)")
LEARNING_RATE = Bounds(0, low_open=True, valid="a positive, finite learning rate, e.g. 2e-4")
BETA1 = Bounds(0, 1, valid="in [0, 1), e.g. 0.5")
BETA2 = Bounds(0, 1, valid="in [0, 1), e.g. 0.999")
MOMENTUM = Bounds(0, 1, valid="in [0, 1) (0: plain SGD), e.g. 0.9")
DECAY = Bounds(0, 1, valid="a decay in [0, 1), e.g. 0.999 (0 turns the average off)")


def one_of(valid: tuple[str, ...]) -> Callable[[str, str], None]:
    return lambda name, value: check_choice(name, value, valid)


_MODELS = "Model: a generator + discriminator pair registered under one name (mlp, cgan, mlp-small, batchnorm, ...)."


@dataclass
class RunConfig:
    """Every setting of a training run. ``None`` means "not chosen yet" until :func:`resolve`.

    Each field declares its ``ganframe run`` option in its metadata (:func:`option`); adding an
    option means adding a field here (and reading it where it is used).
    """

    model: str = field(default="mlp", metadata=option("--model", "-m", help=_MODELS))
    generator: str | None = field(default=None, metadata=option("--generator", help="Override the model's generator."))
    discriminator: str | None = field(
        default=None, metadata=option("--discriminator", help="Override the model's discriminator.")
    )
    loss: str | None = field(
        default=None,
        metadata=option(
            "--loss",
            "-l",
            help="Adversarial loss: bce, bce-smooth, minimax, ... (default: the model's; mlp bce-smooth, else bce).",
        ),
    )
    dataset: str = field(
        default="mnist",
        metadata=option(
            "--dataset",
            "-d",
            help="Data set: mnist, fashion-mnist, ring, ...",
        ),
    )
    data_root: str | None = field(
        default=None,
        metadata=option(
            "--data-root",
            may_change_on_resume=True,
            help="Folder holding data sets (default: $GANFRAME_DATA, else a per-user cache).",
        ),
    )
    epochs: int = field(
        default=20,
        metadata=option(
            "--epochs",
            "-e",
            may_change_on_resume=True,
            check=positive_whole,
            help="Number of epochs (the total, also on resume).",
        ),
    )
    max_steps: int | None = field(
        default=None,
        metadata=option(
            "--max-steps",
            may_change_on_resume=True,
            check=positive_whole,
            help="Stop at this step, counted from the run's start (smoke runs; not kept on --resume).",
        ),
    )
    batch_size: int | None = field(
        default=None,
        metadata=option(
            "--batch-size",
            "-b",
            check=positive_whole,
            help="Batch size per step (default: the model's, else 64); under torchrun the global batch, split over the processes.",
        ),
    )
    latent_dim: int | None = field(
        default=None,
        metadata=option(
            "--latent-dim",
            check=positive_whole,
            help="Noise size (default: the data set's or the model's: ring 2, mlp-small 64; else 100).",
        ),
    )
    lr: float | None = field(
        default=None,
        metadata=option(
            "--lr",
            check=LEARNING_RATE,
            help="Learning rate for both networks (default: the data set's or the model's: mlp/cgan/batchnorm 5e-4, mlp-small 2e-3, ring 1e-3; else 2e-4 as in the tutorial recipes, docs/background.md).",
        ),
    )
    beta1: float | None = field(
        default=None,
        metadata=option(
            "--beta1",
            check=BETA1,
            help="Adam beta1 (default: the model's; every built-in model 0.5, else 0.9 as in the tutorial recipes).",
        ),
    )
    beta2: float | None = field(
        default=None,
        metadata=option(
            "--beta2",
            check=BETA2,
            help="Adam beta2 (default 0.999).",
        ),
    )
    optimizer: str | None = field(
        default=None,
        metadata=option(
            "--optimizer",
            check=one_of(OPTIMIZERS),
            help=f"One of {', '.join(OPTIMIZERS)} (default adam).",
        ),
    )
    momentum: float = field(
        default=0.0, metadata=option("--momentum", check=MOMENTUM, help="Momentum for --optimizer sgd.")
    )
    lr_decay: str | None = field(
        default=None,
        metadata=option(
            "--lr-decay",
            check=one_of(LR_DECAYS),
            help="How both learning rates change over the run: constant, or linear (lowered in a straight line "
            "to 0 at the last step of --epochs; raising --epochs on --resume raises the rate to that line). "
            "Default: the data set's or the model's (ring: linear), else "
            "constant as in the tutorial recipes.",
        ),
    )
    #: sample from an exponential moving average of G's weights with this decay (0: off); see ganframe.train.weight_average
    g_ema: float | None = field(
        default=None,
        metadata=option(
            "--g-ema",
            metavar="DECAY",
            check=DECAY,
            help="Draw samples (grids, sample, eval) from an exponential moving average of G's weights with this decay; "
            "0 turns it off (default: the model's; cgan 0.999, mlp-small 0.99, else 0 as in the tutorial recipes).",
        ),
    )
    device: str = field(
        default="auto",
        metadata=option(
            "--device",
            may_change_on_resume=True,
            check=one_of(DEVICES),
            help=f"One of {', '.join(DEVICES)}.",
        ),
    )
    seed: int | None = field(
        default=None,
        metadata=option(
            "--seed",
            check=SEED,
            help="Random seed; the same seed repeats a CPU run exactly (default: random, recorded).",
        ),
    )
    out: str | None = field(
        default=None,
        metadata=option(
            "--out",
            "-o",
            help="Run directory (default runs/<time>-<model>-<loss>).",
        ),
    )
    log_every: int = field(
        default=50,
        metadata=option(
            "--log-every",
            may_change_on_resume=True,
            check=positive_whole,
            help="Read metrics from the device every N steps.",
        ),
    )
    sample_mode: str = field(
        default="eval",
        metadata=option(
            "--sample-mode",
            may_change_on_resume=True,
            check=one_of(SAMPLE_MODES),
            help=f"Generator mode for sample grids: {', '.join(SAMPLE_MODES)}.",
        ),
    )
    data_path: str = field(
        default="auto",
        metadata=option(
            "--data-path",
            may_change_on_resume=True,
            check=one_of(DATA_PATHS),
            help=f"Batching: {', '.join(DATA_PATHS)} (device: whole data set on the device).",
        ),
    )
    precision: str | None = field(
        default=None,
        metadata=option(
            "--precision",
            check=one_of(PRECISIONS),
            help=f"One of {', '.join(PRECISIONS)} (bf16: autocast on CPU or CUDA). Default: the model's, else auto: "
            "bf16 on CPUs with AVX512-BF16/AMX and CUDA GPUs with bf16, fp32 elsewhere; the run records which.",
        ),
    )
    compile: bool = field(default=False, metadata=option("--compile", help="torch.compile G and D (meant for CUDA)."))
    cuda_graph: bool = field(
        default=False,
        metadata=option(
            "--cuda-graph",
            help="Capture the whole D+G step in one CUDA graph (CUDA only).",
        ),
    )
    keep_checkpoints: int = field(
        default=0,
        metadata=option(
            "--keep-checkpoints",
            may_change_on_resume=True,
            check=keep_count,
            help="Keep only the run's newest N checkpoints (0: all); files from other runs are never deleted.",
        ),
    )
    on_nan: str = field(
        default="stop",
        metadata=option(
            "--on-nan",
            may_change_on_resume=True,
            check=one_of(ON_NAN),
            help=f"A NaN/Inf loss: {' or '.join(ON_NAN)}. stop: end the run (exit 1), keeping the last good checkpoint; "
            "skip: skip that update and count it (costs a host sync per update).",
        ),
    )
    sync_batchnorm: bool = field(
        default=False,
        metadata=option(
            "--sync-batchnorm",
            may_change_on_resume=True,
            help="Distributed CUDA runs: BatchNorm statistics over the global batch (SyncBatchNorm).",
        ),
    )
    dist_timeout: float = field(
        default=300.0,
        metadata=option(
            "--dist-timeout",
            may_change_on_resume=True,
            metavar="SECONDS",
            check=Bounds(0, low_open=True, valid="a positive number of seconds, e.g. 300"),
            help="torchrun: seconds a process waits for the others in one collective before the run stops with a message.",
        ),
    )
    loggers: list[str] = field(
        default_factory=list,
        metadata=option(
            "--logger",
            may_change_on_resume=True,
            help="Enable a logger plugin (repeatable): tensorboard, ...",
        ),
    )
    #: score samples with the data set's classifier every K epochs (and after the last); None: never
    eval_every: int | None = field(
        default=None,
        metadata=option(
            "--eval-every",
            may_change_on_resume=True,
            check=positive_whole,
            help="Every K epochs (and after the last), log quality figures as `ganframe eval` does.",
        ),
    )
    eval_samples: int = field(
        default=2000,
        metadata=option(
            "--eval-samples",
            may_change_on_resume=True,
            check=positive_whole,
            help="Samples per --eval-every evaluation.",
        ),
    )
    eval_metrics: list[str] | None = field(
        default=None,
        metadata=option(
            "--eval-metrics",
            may_change_on_resume=True,
            metavar="NAME,...",
            type=str,
            parse=comma_separated,
            help="Metrics --eval-every scores, as `ganframe eval --metrics` (default: every default metric that accepts the data set).",
        ),
    )
    eval_metric_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=option(
            "--eval-metric-option",
            may_change_on_resume=True,
            metavar="[NAME.]KEY=VALUE",
            help="Option for the --eval-metrics, as `ganframe eval --metric-option` (repeatable).",
        ),
    )
    loss_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=option(
            "--loss-option",
            help="KEY=VALUE passed to the loss (repeatable).",
            also=(
                Option(
                    ("--smooth",),
                    key="smooth",
                    type=float,
                    help="Real target for D with --loss bce-smooth (one-sided label smoothing; default 0.9).",
                ),
            ),
        ),
    )
    model_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=option(
            "--model-option",
            help="KEY=VALUE passed to G and D (repeatable).",
        ),
    )
    dataset_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=option(
            "--dataset-option",
            help="KEY=VALUE passed to the data set (repeatable).",
        ),
    )
    step: str | None = field(
        default=None,
        metadata=option(
            "--step",
            help="Training step: two-phase, n-critic, ... (default: the loss's, model's or data set's; else two-phase).",
        ),
    )
    step_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=option(
            "--step-option",
            help="KEY=VALUE passed to the step, e.g. n=5 (repeatable).",
        ),
    )
    regularizers: list[str] = field(
        default_factory=list,
        metadata=option(
            "--regularizer",
            help="Add a regulariser to D's or G's loss (repeatable): r1, r2, ...",
        ),
    )
    regularizer_options: dict[str, dict[str, Any]] = field(
        default_factory=dict,
        metadata=option(
            "--regularizer-option",
            metavar="NAME.KEY=VALUE",
            parse=named_key_values,
            help="NAME.KEY=VALUE passed to a regulariser, e.g. r1.gamma=5 (repeatable).",
        ),
    )
    augment: str | None = field(
        default=None,
        metadata=option(
            "--augment",
            help="Augment D's real and fake inputs: diffaugment, ...",
        ),
    )
    augment_options: dict[str, Any] = field(
        default_factory=dict,
        metadata=option(
            "--augment-option",
            help="KEY=VALUE passed to the augmentation, e.g. policy=translation,cutout (repeatable).",
        ),
    )

    def __post_init__(self) -> None:
        # a path given relative to the working directory is the same folder wherever the run is
        # later resumed or evaluated from, and agrees with the record when given again on --resume
        self.dataset_options = absolute_path_options(self.dataset_options)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunConfig:
        """Rebuild from ``to_dict`` output; keys from newer versions are ignored."""
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in data.items() if k in names}
        if "step" not in data and data.get("loss") is not None:  # resolved before steps were pluggable
            values["step"] = "two-phase"
        if "lr_decay" not in data and data.get("lr") is not None:  # resolved before --lr-decay existed
            values["lr_decay"] = "constant"
        if "precision" not in data:  # saved before --precision existed: trained in fp32, never resumed as auto
            values["precision"] = "fp32"
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


def declared_options() -> Iterator[tuple[str, Option]]:
    """``(field name, option)`` for every option of ``ganframe run``, in ``--help`` order: each field's
    own option, then the shortcuts that also set it."""
    for f in dataclasses.fields(RunConfig):
        yield f.name, f.metadata["option"]
        for shortcut in f.metadata["also"]:
            yield f.name, shortcut


def option_name(field_name: str) -> str:
    """The option that sets a RunConfig field, as messages name it (``max_steps`` -> ``--max-steps``)."""
    return next(opt.name for name, opt in declared_options() if name == field_name and opt.key is None)


def may_change_on_resume() -> tuple[str, ...]:
    """RunConfig fields an option given with ``--resume`` may change (the rest must agree with the run)."""
    return tuple(name for name, opt in declared_options() if opt.may_change_on_resume)


def number_options() -> list[tuple[str, Option]]:
    """``(field, option)`` of every numeric setting: their checks are :class:`Bounds`."""
    return [(name, opt) for name, opt in declared_options() if isinstance(opt.check, Bounds)]


def check_seed(seed: int | None, option: str = "--seed") -> None:
    """Seeds outside what torch accepts fail at once, not deep inside torch (``sample``, ``eval``)."""
    if seed is not None:
        SEED(option, seed)


def validate(config: RunConfig) -> None:
    """Reject values no run could use, each with one sentence naming the option: every declared
    ``check`` on a value that is set, then the rules that involve two options."""
    for name, opt in declared_options():
        value = getattr(config, name)
        if opt.check is not None and value is not None:
            opt.check(opt.name, value)
    if config.optimizer not in (None, "sgd") and config.momentum:
        raise UsageError(
            f"--momentum {config.momentum} applies only to --optimizer sgd, but this run uses "
            f"{config.optimizer}; add --optimizer sgd or leave --momentum out."
        )
    if (config.eval_metrics or config.eval_metric_options) and not config.eval_every:
        raise UsageError(
            "--eval-metrics and --eval-metric-option choose what --eval-every scores; add --eval-every K "
            "(score every K epochs), or use `ganframe eval RUN --metrics ...` after training."
        )
    repeated = sorted({name for name in config.regularizers if config.regularizers.count(name) > 1})
    if repeated:
        raise UsageError(
            f"--regularizer {repeated[0]} is given more than once; give each regulariser once and set its "
            f"strength with --regularizer-option {repeated[0]}.gamma=VALUE (or its own options)."
        )
    for name in config.regularizer_options:
        if name not in config.regularizers:
            given = quoted_list(config.regularizers) if config.regularizers else "none"
            raise UsageError(
                f"--regularizer-option names '{name}', which is not among the regularisers given "
                f"({given}).{did_you_mean(name, config.regularizers)} Add it first, e.g. --regularizer {name}."
            )
    if config.cuda_graph and config.lr_decay == "linear":
        raise UsageError(
            "--lr-decay linear changes the learning rate every step, which a captured CUDA graph keeps fixed; "
            "add --lr-decay constant to use --cuda-graph, or leave --cuda-graph out."
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


def absolute_path_options(options: dict[str, Any]) -> dict[str, Any]:
    """``options`` with each :data:`PATH_OPTIONS` value made absolute against the working directory
    (``~`` expanded); the others as they are."""
    return {
        key: os.path.abspath(os.path.expanduser(value))
        if key in PATH_OPTIONS and isinstance(value, str) and value
        else value
        for key, value in options.items()
    }


def parse_key_values(values: list[str] | None, option: str) -> dict[str, str]:
    """``["a=1", "b=x"]`` -> ``{"a": "1", "b": "x"}``; a malformed item is a UsageError."""
    parsed: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{option} expects KEY=VALUE; got '{item}'.")
        parsed[key.strip()] = value.strip()
    return parsed
