"""What a factory is told when the engine asks it to build a component.

Factories size themselves from these specs, so nothing in ganframe or its
plugins needs to hard-code 28x28 or 784: the same ``mlp`` factory builds a
network for MNIST images and for 2-D points.

Free-form options (``--loss-option KEY=VALUE``, ``--model-option``,
``--dataset-option``) arrive as :class:`Options`. A factory reads them with
:meth:`Options.get`, which converts the string to the default's type and
records the key as known; after building, ganframe reports any option the
factory never read as a misspelling instead of silently ignoring it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from math import prod
from pathlib import Path
from typing import Any

from ganframe.errors import UsageError, did_you_mean, quoted_list


class Options:
    """String options for one component, converted on read, with unread keys detectable."""

    def __init__(self, values: Mapping[str, Any] | None = None, *, owner: str = "component"):
        self._values = dict(values or {})
        self._read: set[str] = set()
        self._effective: dict[str, Any] = {}
        self.owner = owner

    def get(self, key: str, default: Any) -> Any:
        """The option ``key`` converted to ``type(default)``, or ``default`` when absent."""
        value = self._convert(key, default)
        self._read.add(key)
        self._effective[key] = value
        return value

    def _convert(self, key: str, default: Any) -> Any:
        if key not in self._values:
            return default
        raw = self._values[key]
        if not isinstance(raw, str):
            return raw
        try:
            if isinstance(default, bool):
                if raw.lower() in {"1", "true", "yes", "on"}:
                    return True
                if raw.lower() in {"0", "false", "no", "off"}:
                    return False
                raise ValueError(raw)
            value = type(default)(raw) if default is not None else raw
        except ValueError:
            raise UsageError(
                f"Option '{key}={raw}' for {self.owner} must be a {type(default).__name__} (default {default!r})."
            ) from None
        if isinstance(value, float) and not math.isfinite(value):  # no component can use NaN or infinity
            raise UsageError(f"Option '{key}={raw}' for {self.owner} must be a finite number (default {default!r}).")
        return value

    def as_dict(self) -> dict[str, Any]:
        """The options as given (what a checkpoint stores to rebuild the component)."""
        return dict(self._values)

    def effective(self) -> dict[str, Any]:
        """Every option the component read, with the value it used (defaults included)."""
        return {**self._values, **self._effective}

    def unread(self) -> list[str]:
        """Keys given but never read (so far), sorted."""
        return sorted(set(self._values) - self._read)

    def check_all_read(self) -> None:
        """Raise for options the component never asked for (usually a typo)."""
        unread = self.unread()
        if unread:
            key = unread[0]
            known = sorted(self._read)
            raise UsageError(
                f"{self.owner} has no option '{key}'.{did_you_mean(key, known)} Options it reads: {quoted_list(known)}."
            )


@dataclass
class ModelSpec:
    """Given to generator and discriminator factories."""

    sample_shape: tuple[int, ...]
    num_classes: int
    latent_dim: int
    conditional: bool = False
    options: Options = field(default_factory=Options)

    @property
    def sample_size(self) -> int:
        """Number of values in one sample (784 for a 1x28x28 image)."""
        return prod(self.sample_shape)


@dataclass
class LossSpec:
    """Given to loss factories."""

    options: Options = field(default_factory=Options)


@dataclass
class DatasetSpec:
    """Given to data set factories."""

    root: Path
    train: bool = True
    download: bool = True
    options: Options = field(default_factory=Options)


def _quiet(_message: str) -> None:
    pass


@dataclass
class MetricSpec:
    """Given to metric factories (``register_metrics``): what to score against.

    - ``dataset``: the data set's name (``mnist``, ``image-folder``, ...);
    - ``train_set``: its training split (an :class:`ganframe.InMemoryDataset`
      for every built-in data set);
    - ``test_set``: its held-out split, loaded on first access (a factory that
      declines never pays for it);
    - ``data_root``: the data set's folder; cache files derived from the data
      (a classifier, real-image statistics) go beside it when it is writable
      (:func:`ganframe.is_writable`), else under :func:`ganframe.user_cache_dir`;
    - ``device``: the ``torch.device`` to compute on;
    - ``options``: ``--metric-option KEY=VALUE`` and ``NAME.KEY=VALUE`` for this metric;
    - ``notify(text)``: one line of progress for the user (stderr or the run's stream);
    - ``what``: the command asking (``ganframe eval``, ``--eval-every``), for messages.
    """

    dataset: str
    train_set: Any
    data_root: Path
    device: Any = "cpu"
    options: Options = field(default_factory=Options)
    notify: Callable[[str], None] = _quiet
    what: str = "ganframe eval"
    load_test_set: Callable[[], Any] | None = None

    @property
    def test_set(self) -> Any:
        """The held-out split, loaded on first access (the loader caches it for every metric)."""
        return self.load_test_set() if self.load_test_set is not None else None


@dataclass
class StepSpec:
    """Given to training-step factories (``--step-option KEY=VALUE`` in ``options``)."""

    options: Options = field(default_factory=Options)


@dataclass
class RegularizerSpec:
    """Given to regulariser factories (``--regularizer-option NAME.KEY=VALUE`` in ``options``)."""

    options: Options = field(default_factory=Options)


@dataclass
class AugmentationSpec:
    """Given to augmentation factories: the shape of one sample D sees, and ``--augment-option`` values."""

    sample_shape: tuple[int, ...]
    options: Options = field(default_factory=Options)
