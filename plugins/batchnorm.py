"""The BatchNorm generator family: ``batchnorm`` (document 003).

G is built from document 003's ``linear_block`` (Linear without bias +
BatchNorm1d) with LeakyReLU(0.2), including its BatchNorm'd output block
before tanh. D is the plain 1024 -> 512 -> 256 MLP with LeakyReLU(0.2) and no
dropout.
"""

from ganframe import hookimpl


@hookimpl
def register_generators(register):
    # fp32 until measured in bf16 (``--precision auto`` is for the models measured as good in bf16:
    # docs/quality.md, "bf16 against fp32"); its defaults were being re-measured at the time
    register("batchnorm", batchnorm_generator, help="MLP 256-512-1024 of Linear + BatchNorm1d, LeakyReLU(0.2) (doc 003)", defaults={"latent_dim": 100, "batch_size": 64, "precision": "fp32"})


@hookimpl
def register_discriminators(register):
    register("batchnorm", batchnorm_discriminator, help="MLP 1024-512-256, LeakyReLU(0.2), no dropout (doc 003)")


def batchnorm_generator(spec):
    """BatchNorm MLP generator: latent -> 256 -> 512 -> 1024 -> sample, Linear+BatchNorm1d, LeakyReLU(0.2) (doc 003)."""
    from torch import nn

    from ganframe import Reshape, mlp

    return nn.Sequential(
        *mlp([spec.latent_dim, 256, 512, 1024], activation=lambda: nn.LeakyReLU(0.2), batchnorm=True),
        nn.Linear(1024, spec.sample_size, bias=False),
        nn.BatchNorm1d(spec.sample_size),
        nn.Tanh(),
        Reshape(spec.sample_shape),
    )


def batchnorm_discriminator(spec):
    """MLP discriminator without dropout: sample -> 1024 -> 512 -> 256 -> 1 logit, LeakyReLU(0.2) (doc 003)."""
    from torch import nn

    from ganframe import mlp

    return nn.Sequential(
        nn.Flatten(),
        *mlp([spec.sample_size, 1024, 512, 256], activation=lambda: nn.LeakyReLU(0.2)),
        nn.Linear(256, 1),
    )
