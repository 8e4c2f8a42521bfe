"""The BatchNorm generator family: ``batchnorm`` (the BatchNorm-generator tutorial recipe).

G is built from the tutorial's ``linear_block`` (Linear without bias +
BatchNorm1d) with LeakyReLU(0.2). D is the plain 1024 -> 512 -> 256 MLP with
LeakyReLU(0.2) and no dropout.

Model options (``--model-option KEY=VALUE``):

- ``output_batchnorm`` (default false): the tutorial's BatchNorm'd output
  block before tanh. Off by default, as DCGAN's rule says (no BatchNorm on
  G's output layer): with it, every image of a batch is normalised per pixel
  across the batch, so D tells a fake batch by its statistics and wins
  outright; G collapses onto one digit within 5 epochs (docs/quality.md).
  Without it the output layer is a plain Linear with bias, as in ``mlp``.
- ``instance_noise`` (default 0): standard deviation of Gaussian noise added
  to every input of D during training (real and fake alike), a lever measured
  in docs/quality.md.

The run defaults (``BATCHNORM_DEFAULTS``) are measured too; the tutorial's
own settings are one option line away:
``--lr 2e-4 --beta1 0.9 --loss bce-smooth --model-option output_batchnorm=true``
(``scripts/quality.py``'s ``DOCUMENTS``).
"""

from ganframe import hookimpl

#: run settings of ``batchnorm`` (measured; the tutorial's: lr 2e-4, beta1 0.9, loss bce-smooth, batch 64)
BATCHNORM_DEFAULTS = {"latent_dim": 100, "batch_size": 64, "lr": 5e-4, "beta1": 0.5}


@hookimpl
def register_generators(register):
    # fp32 until bf16 is measured on three seeds (one so far; ``--precision auto`` is for the models measured as good in bf16:
    # docs/quality.md, "bf16 against fp32")
    register(
        "batchnorm",
        batchnorm_generator,
        help="MLP 256-512-1024 of Linear + BatchNorm1d, LeakyReLU(0.2), tanh (BatchNorm-generator tutorial)",
        defaults={**BATCHNORM_DEFAULTS, "precision": "fp32"},
    )


@hookimpl
def register_discriminators(register):
    register(
        "batchnorm",
        batchnorm_discriminator,
        help="MLP 1024-512-256, LeakyReLU(0.2), no dropout (BatchNorm-generator tutorial)",
    )


def batchnorm_generator(spec):
    """BatchNorm MLP generator: latent -> 256 -> 512 -> 1024 -> sample, Linear+BatchNorm1d, LeakyReLU(0.2);
    the output block is BatchNorm'd only with ``output_batchnorm=true`` (the tutorial's)."""
    from torch import nn

    from ganframe import Reshape, mlp

    if spec.options.get("output_batchnorm", False):
        output = [nn.Linear(1024, spec.sample_size, bias=False), nn.BatchNorm1d(spec.sample_size)]
    else:
        output = [nn.Linear(1024, spec.sample_size)]
    return nn.Sequential(
        *mlp([spec.latent_dim, 256, 512, 1024], activation=lambda: nn.LeakyReLU(0.2), batchnorm=True),
        *output,
        nn.Tanh(),
        Reshape(spec.sample_shape),
    )


def batchnorm_discriminator(spec):
    """MLP discriminator without dropout: sample -> 1024 -> 512 -> 256 -> 1 logit, LeakyReLU(0.2);
    with ``instance_noise=STD``, Gaussian noise on its inputs while training."""
    from torch import nn

    from ganframe import mlp

    noise = spec.options.get("instance_noise", 0.0)
    if noise < 0:
        from ganframe import UsageError

        raise UsageError(
            f"Option 'instance_noise={noise}' for model 'batchnorm' must be >= 0 (a standard deviation; 0 turns it off)."
        )
    return nn.Sequential(
        *([_instance_noise(noise)] if noise > 0 else []),
        nn.Flatten(),
        *mlp([spec.sample_size, 1024, 512, 256], activation=lambda: nn.LeakyReLU(0.2)),
        nn.Linear(256, 1),
    )


def _instance_noise(std):
    """A module adding N(0, std^2) to its input in training mode only (instance noise, Sonderby et al. 2016)."""
    import torch
    from torch import nn

    class InstanceNoise(nn.Module):
        def __init__(self, std: float):
            super().__init__()
            self.std = std

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x + self.std * torch.randn_like(x) if self.training else x

        def extra_repr(self) -> str:
            return f"std={self.std}"

    return InstanceNoise(std)
