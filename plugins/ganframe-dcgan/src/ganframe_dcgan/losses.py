"""Four adversarial losses beyond binary cross-entropy.

All work on the discriminator's raw outputs (``inputs.real_logits`` and
``inputs.fake_logits``, shape ``(N,)``) and return 0-dim tensors, as
ganframe's loss contract asks.

- ``lsgan`` (Mao et al., 2017): least squares with targets real 1, fake 0.
- ``hinge`` (Lim & Ye, 2017; used by SAGAN and BigGAN).
- ``wgan-gp`` (Gulrajani et al., 2017): the Wasserstein critic loss plus a
  penalty pulling the critic's gradient norm to 1 on random interpolates
  between real and fake samples. The penalty needs the critic itself, which
  ganframe hands every loss as ``inputs.discriminator(x, labels)``. Option:
  ``--loss-option gp_weight=10``. The critic must not use BatchNorm (use
  ``--model dcgan``, whose critic has none). It defaults the run to the
  paper's algorithm: the ``n-critic`` step (5 critic updates per G update)
  and Adam betas (0, 0.9).
- ``acgan`` (Odena et al., 2017): BCE on D's real/fake logit plus
  cross-entropy of D's class prediction, which the discriminator returns as
  the extra output ``class_logits`` (``inputs.real_extra`` /
  ``inputs.fake_extra``). D learns to classify real and fake samples by the
  label they have or were generated for; G learns to make its samples
  recognisably of their class. Option ``class_weight`` (1.0).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganframe import GANLoss, LossInputs, UsageError, bce_with_target


class LSGANLoss(GANLoss):
    """Least-squares GAN: D minimises (D(x) - 1)^2 + D(G(z))^2, G minimises (D(G(z)) - 1)^2 (halved)."""

    def __init__(self, spec):
        pass

    def discriminator_loss(self, inputs: LossInputs) -> torch.Tensor:
        return ((inputs.real_logits - 1) ** 2).mean() / 2 + (inputs.fake_logits**2).mean() / 2

    def generator_loss(self, inputs: LossInputs) -> torch.Tensor:
        return ((inputs.fake_logits - 1) ** 2).mean() / 2


class HingeLoss(GANLoss):
    """Hinge loss: D minimises relu(1 - D(x)) + relu(1 + D(G(z))), G minimises -D(G(z))."""

    def __init__(self, spec):
        pass

    def discriminator_loss(self, inputs: LossInputs) -> torch.Tensor:
        return F.relu(1 - inputs.real_logits).mean() + F.relu(1 + inputs.fake_logits).mean()

    def generator_loss(self, inputs: LossInputs) -> torch.Tensor:
        return -inputs.fake_logits.mean()


class WGANGPLoss(GANLoss):
    """Wasserstein loss with gradient penalty: D minimises D(G(z)) - D(x) + weight * (|grad D(x_hat)| - 1)^2."""

    def __init__(self, spec):
        self.gp_weight = spec.options.get("gp_weight", 10.0)
        if self.gp_weight < 0:
            raise UsageError(f"--loss-option gp_weight={self.gp_weight} must be 0 or more (the paper uses 10).")

    def discriminator_loss(self, inputs: LossInputs) -> torch.Tensor:
        wasserstein = inputs.fake_logits.mean() - inputs.real_logits.mean()
        if self.gp_weight == 0:
            return wasserstein
        return wasserstein + self.gp_weight * gradient_penalty(inputs)

    def generator_loss(self, inputs: LossInputs) -> torch.Tensor:
        return -inputs.fake_logits.mean()


def gradient_penalty(inputs: LossInputs) -> torch.Tensor:
    """Mean of (||grad_x D(x_hat)||_2 - 1)^2 over x_hat = e * real + (1 - e) * fake, e ~ U(0, 1) per sample.

    The graph of the gradient is kept (``create_graph=True``) so that the
    penalty itself is differentiated with respect to D's weights. Conditional
    critics see the real labels, since each x_hat is mostly near its real
    sample for large e.
    """
    real = inputs.real.detach()
    fake = inputs.fake.detach().to(real.dtype)
    mix = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    interpolates = (mix * real + (1 - mix) * fake).requires_grad_(True)
    logits = inputs.discriminator(interpolates, inputs.real_labels)
    (gradients,) = torch.autograd.grad(logits.sum(), interpolates, create_graph=True)
    norms = gradients.flatten(start_dim=1).float().norm(2, dim=1)
    return ((norms - 1) ** 2).mean()


class ACGANLoss(GANLoss):
    """ACGAN: D minimises BCE(real/fake) + class CE on real and fake; G minimises BCE(fake as real) + class CE."""

    def __init__(self, spec):
        self.class_weight = spec.options.get("class_weight", 1.0)
        if self.class_weight < 0:
            raise UsageError(f"--loss-option class_weight={self.class_weight} must be 0 or more (default 1).")

    @staticmethod
    def _class_loss(extra, labels) -> torch.Tensor:
        if "class_logits" not in extra:
            raise UsageError(
                "Loss 'acgan' needs a discriminator that predicts the class (extra output 'class_logits'), such as "
                "--model acgan; this discriminator returns only a real/fake logit."
            )
        if labels is None:
            raise UsageError(
                "Loss 'acgan' needs class labels: use a conditional generator (--model acgan) on a labelled data set."
            )
        return F.cross_entropy(extra["class_logits"].float(), labels)

    def discriminator_loss(self, inputs: LossInputs) -> torch.Tensor:
        adversarial = (bce_with_target(inputs.real_logits, 1.0) + bce_with_target(inputs.fake_logits, 0.0)) / 2
        classes = (
            self._class_loss(inputs.real_extra, inputs.real_labels)
            + self._class_loss(inputs.fake_extra, inputs.fake_labels)
        ) / 2
        return adversarial + self.class_weight * classes

    def generator_loss(self, inputs: LossInputs) -> torch.Tensor:
        return bce_with_target(inputs.fake_logits, 1.0) + self.class_weight * self._class_loss(
            inputs.fake_extra, inputs.fake_labels
        )
