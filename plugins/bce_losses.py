"""The binary cross-entropy loss family: ``bce``, ``bce-smooth`` and ``minimax``.

All work on logits. D's loss is the mean of its real and fake terms (real
target 1, fake 0), as in the MLP GAN and conditional GAN tutorials. ``bce-smooth`` reads the option
``smooth`` (CLI: ``--smooth``).
"""

from ganframe import hookimpl


@hookimpl
def register_losses(register):
    register("bce", BCELoss, help="binary cross-entropy, non-saturating G loss (the five tutorials)")
    register(
        "bce-smooth",
        SmoothBCELoss,
        help="BCE with one-sided label smoothing: D's real target --smooth 0.9 (BatchNorm-generator tutorial)",
    )
    register(
        "minimax",
        MinimaxLoss,
        help="original saturating G loss: minimise log(1 - D(G(z))) (saturating vs non-saturating loss tutorial)",
    )


class BCELoss:
    """Binary cross-entropy; G trained to make D say "real" (non-saturating, the saturating vs non-saturating loss tutorial)."""

    real_target = 1.0

    def __init__(self, spec):
        # imported here so that listing plugins never imports torch
        from ganframe import bce_with_target

        self.bce = bce_with_target

    def discriminator_loss(self, inputs):
        return (self.bce(inputs.real_logits, self.real_target) + self.bce(inputs.fake_logits, 0.0)) / 2

    def generator_loss(self, inputs):
        return self.bce(inputs.fake_logits, 1.0)


class SmoothBCELoss(BCELoss):
    """BCE with one-sided label smoothing: D's real targets are --smooth (default 0.9) (BatchNorm-generator tutorial)."""

    def __init__(self, spec):
        super().__init__(spec)
        self.real_target = spec.options.get("smooth", 0.9)
        if not 0.0 < self.real_target <= 1.0:
            from ganframe import UsageError

            raise UsageError(f"--smooth must be in (0, 1]; got {self.real_target}. The tutorials use 0.9.")


class MinimaxLoss(BCELoss):
    """The original saturating objective: G minimises log(1 - D(G(z))) (saturating vs non-saturating loss tutorial)."""

    def generator_loss(self, inputs):
        # bce(l, 0) = -log(1 - sigmoid(l)), so log(1 - D(G(z))) = -bce(l, 0)
        return -self.bce(inputs.fake_logits, 0.0)
