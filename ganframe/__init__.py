"""ganframe: a plugin-style GAN framework for PyTorch.

This module is the front door: ``__all__`` lists everything a plugin author
may import, and only names listed here (and in :mod:`ganframe.testing`) are
stable. Everything under the subpackages is ganframe's own machinery and may
change between releases:

- ``ganframe.plugin``: the contract with plugins (hook specs, manager, registry, specs)
- ``ganframe.nn``: network and loss building blocks, conditioning
- ``ganframe.train``: the engine, the step, data on the device, weight averaging, NaN handling, RNG, DDP
- ``ganframe.run``: one run end to end: assembly, checkpoints, resume, signals, sampling a checkpoint
- ``ganframe.outputs``: what a run writes and shows (run files, progress, summary, images, plots)
- ``ganframe.evaluation``: offline quality metrics
- ``ganframe.cli``: the ``ganframe`` command, one module per command
- ``ganframe.testing``: the plugin author's test kit

Names are loaded on first use, so ``import ganframe`` (and ``ganframe --help``)
imports no torch. Import paths of the flat layout (``ganframe.nn.losses``,
``ganframe.plugin.specs``, ...) still work for one release with a
``DeprecationWarning``; see :mod:`ganframe._moved`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ganframe import _moved
from ganframe.plugin.spec import hookimpl

__version__ = "0.2.0"

#: public name -> the module that defines it
_EXPORTS: dict[str, str] = {
    # what factories receive
    "ModelSpec": "ganframe.plugin.specs",
    "LossSpec": "ganframe.plugin.specs",
    "DatasetSpec": "ganframe.plugin.specs",
    "Options": "ganframe.plugin.specs",
    "MetricSpec": "ganframe.plugin.specs",
    "StepSpec": "ganframe.plugin.specs",
    "RegularizerSpec": "ganframe.plugin.specs",
    "AugmentationSpec": "ganframe.plugin.specs",
    # training steps
    "Phase": "ganframe.train.schedule",
    # losses
    "GANLoss": "ganframe.nn.losses",
    "LossInputs": "ganframe.nn.losses",
    "bce_with_target": "ganframe.nn.losses",
    "split_discriminator_output": "ganframe.nn.losses",
    # reusable network pieces
    "Dropout": "ganframe.nn.layers",
    "Reshape": "ganframe.nn.layers",
    "mlp": "ganframe.nn.layers",
    "LabelConditioned": "ganframe.nn.layers",
    "LabelProjected": "ganframe.nn.layers",
    "LabelProjection": "ganframe.nn.layers",
    "Conditioned": "ganframe.nn.conditioning",
    # data sets
    "InMemoryDataset": "ganframe.train.data",
    "resolve_data_root": "ganframe.run.data_root",
    "DATA_ENV": "ganframe.run.data_root",
    "mode_coverage": "ganframe.evaluation.mode_coverage",
    "dataset_metric": "ganframe.evaluation.dataset_metric",
    "user_cache_dir": "ganframe.run.data_root",
    "scale_to_unit_range": "ganframe.train.data",
    "atomic_write": "ganframe.files",
    "is_writable": "ganframe.evaluation.cache",
    "tensor_checksum": "ganframe.evaluation.cache",
    # metrics (register_metrics): the built-in classifier metric, declining a data set
    "classifier_metric": "ganframe.evaluation.classifier_metric",
    "MetricDeclined": "ganframe.errors",
    # what lifecycle hooks receive, and helpers for loggers
    "RunState": "ganframe.train.state",
    "image_grid": "ganframe.outputs.images",
    "is_image_shape": "ganframe.outputs.images",
    # errors
    "GanframeError": "ganframe.errors",
    "UsageError": "ganframe.errors",
    "PluginError": "ganframe.errors",
    "PluginContractError": "ganframe.errors",
    "TrainingError": "ganframe.errors",
    "did_you_mean": "ganframe.errors",
    "quoted_list": "ganframe.errors",
}

__all__ = ["__version__", "hookimpl", *sorted(_EXPORTS)]

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time the names load lazily
    from ganframe.errors import (
        GanframeError,
        MetricDeclined,
        PluginContractError,
        PluginError,
        TrainingError,
        UsageError,
        did_you_mean,
        quoted_list,
    )
    from ganframe.evaluation.cache import is_writable, tensor_checksum
    from ganframe.evaluation.classifier_metric import classifier_metric
    from ganframe.evaluation.dataset_metric import dataset_metric
    from ganframe.evaluation.mode_coverage import mode_coverage
    from ganframe.files import atomic_write
    from ganframe.nn.conditioning import Conditioned
    from ganframe.nn.layers import Dropout, LabelConditioned, LabelProjected, LabelProjection, Reshape, mlp
    from ganframe.nn.losses import GANLoss, LossInputs, bce_with_target, split_discriminator_output
    from ganframe.outputs.images import image_grid, is_image_shape
    from ganframe.plugin.specs import (
        AugmentationSpec,
        DatasetSpec,
        LossSpec,
        MetricSpec,
        ModelSpec,
        Options,
        RegularizerSpec,
        StepSpec,
    )
    from ganframe.run.data_root import DATA_ENV, resolve_data_root, user_cache_dir
    from ganframe.train.data import InMemoryDataset, scale_to_unit_range
    from ganframe.train.schedule import Phase
    from ganframe.train.state import RunState


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'ganframe' has no attribute '{name}'")
    value = getattr(importlib.import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


_moved.install()
