"""Differentiable augmentation of D's inputs: ``diffaugment``.

The implementation (:mod:`ganframe_builtins.diffaugment`) imports torch and
is loaded only when a run uses it.
"""

from ganframe import hookimpl


@hookimpl
def register_augmentations(register):
    register(
        "diffaugment",
        "ganframe_builtins.diffaugment:diffaugment",
        help="DiffAugment (Zhao et al. 2020): colour, translation, cutout on real and fake (--augment-option policy=...)",
    )
