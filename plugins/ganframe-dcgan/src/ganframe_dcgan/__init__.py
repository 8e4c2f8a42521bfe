"""ganframe-dcgan: a convolutional DCGAN, an auxiliary-classifier GAN and four adversarial losses, as a ganframe plugin.

This module is what the ``ganframe`` entry point names, so ganframe imports it
on every command (``ganframe plugins`` included). It therefore only registers
names: the networks and losses live in :mod:`ganframe_dcgan.models` and
:mod:`ganframe_dcgan.losses`, which import torch, and are registered as
``"module:attribute"`` strings that ganframe imports only when a run uses them.
"""

from ganframe import hookimpl

MODEL_HELP = "convolutional DCGAN sized from the image shape; critic without BatchNorm (gradient-penalty safe)"
DEFAULTS = {"latent_dim": 100, "batch_size": 64, "beta1": 0.5}  # DCGAN paper: Adam(2e-4, beta1 0.5)
#: ACGAN (Odena et al., 2017): the DCGAN recipe with its own loss
ACGAN_DEFAULTS = {**DEFAULTS, "loss": "acgan"}
#: WGAN-GP (Gulrajani et al., 2017, Algorithm 1): 5 critic updates per G update, Adam(beta1=0, beta2=0.9)
WGAN_GP_DEFAULTS = {"step": "n-critic", "beta1": 0.0, "beta2": 0.9}


@hookimpl
def register_generators(register):
    register("dcgan", "ganframe_dcgan.models:dcgan_generator", help=f"G: {MODEL_HELP}", defaults=DEFAULTS)
    register(
        "cdcgan",
        "ganframe_dcgan.models:dcgan_generator",
        help="G: conditional DCGAN, label embedding concatenated to the noise",
        conditional=True,
        defaults=DEFAULTS,
    )
    register(
        "acgan",
        "ganframe_dcgan.models:dcgan_generator",
        help="G: ACGAN, the conditional DCGAN generator (trained to make D recognise its class)",
        conditional=True,
        defaults=ACGAN_DEFAULTS,
    )


@hookimpl
def register_discriminators(register):
    register("dcgan", "ganframe_dcgan.models:dcgan_discriminator", help=f"D: {MODEL_HELP}")
    register(
        "cdcgan",
        "ganframe_dcgan.models:dcgan_discriminator",
        help="D: conditional DCGAN critic with a projection of the label embedding",
        conditional=True,
    )
    register(
        "acgan",
        "ganframe_dcgan.models:acgan_discriminator",
        help="D: ACGAN, DCGAN critic that also predicts the class (extra output class_logits)",
    )


@hookimpl
def register_losses(register):
    register(
        "lsgan",
        "ganframe_dcgan.losses:LSGANLoss",
        help="least squares: D pulls real to 1, fake to 0; G pulls fake to 1",
    )
    register("hinge", "ganframe_dcgan.losses:HingeLoss", help="hinge: D relu(1 - real) + relu(1 + fake); G -fake")
    register(
        "wgan-gp",
        "ganframe_dcgan.losses:WGANGPLoss",
        help="Wasserstein critic + gradient penalty on real/fake interpolates (--loss-option gp_weight=10); "
        "5 critic steps per G step, Adam betas (0, 0.9)",
        defaults=WGAN_GP_DEFAULTS,
    )
    register(
        "acgan",
        "ganframe_dcgan.losses:ACGANLoss",
        help="ACGAN: BCE plus class cross-entropy on D's class_logits, for D and G (--loss-option class_weight=1)",
    )
