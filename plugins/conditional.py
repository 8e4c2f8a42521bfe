"""The conditional GAN family: ``cgan`` (conditional GAN tutorial).

The MLP networks of ``mlp``, each with an ``nn.Embedding(num_classes, 16)`` of
the class label concatenated to its input (noise for G, the flattened sample
for D). The engine passes real labels with real samples and uniformly drawn
labels with fakes; ``ganframe sample --digit D`` picks the class to draw.
Options: ``--model-option embedding_dim=16``, ``slope=0.2`` (LeakyReLU),
``projection=true`` (D reads the label a second time through a projection
output, :class:`ganframe.nn.layers.LabelProjected`; ``false`` is the conditional GAN tutorial's
concatenation only). Slope, lr and beta1 are ``mlp``'s measured defaults (see
``ganframe_builtins.mlp``); the projection output and the average of G's
weights (``--g-ema 0.999``) are ours: with concatenation only, 5 epochs reach
label accuracy 0.86-0.91, with both 0.97 (README, "Quality of the defaults"). The tutorials' model and settings are
``--lr 2e-4 --beta1 0.9 --g-ema 0 --model-option slope=0.01 --model-option projection=false``.
"""

from ganframe import hookimpl
from ganframe_builtins.mlp import CGAN_DEFAULTS, leaky_relu


@hookimpl
def register_generators(register):
    register(
        "cgan",
        cgan_generator,
        help="MLP G with a 16-d label embedding concatenated to the noise (conditional GAN tutorial)",
        conditional=True,
        defaults=CGAN_DEFAULTS,
    )


@hookimpl
def register_discriminators(register):
    register(
        "cgan",
        cgan_discriminator,
        help="MLP D with a 16-d label embedding concatenated to the image (conditional GAN tutorial) and a projection output",
        conditional=True,
    )


def cgan_generator(spec):
    """Conditional MLP generator: [noise, label embedding(16)] -> 256 -> 512 -> 1024 -> sample (conditional GAN tutorial)."""
    from torch import nn

    from ganframe import LabelConditioned, Reshape, mlp

    embedding_dim = spec.options.get("embedding_dim", 16)
    body = nn.Sequential(
        *mlp([spec.latent_dim + embedding_dim, 256, 512, 1024], activation=leaky_relu(spec), dropout=0.2),
        nn.Linear(1024, spec.sample_size),
        nn.Tanh(),
        Reshape(spec.sample_shape),
    )
    return LabelConditioned(spec.num_classes, embedding_dim, body)


def cgan_discriminator(spec):
    """Conditional MLP discriminator: [sample, label embedding(16)] -> 1024 -> 512 -> 256 -> 1 logit (conditional GAN tutorial),
    the logit plus a projection of the label embedding onto the 256 features unless ``projection=false``."""
    from torch import nn

    from ganframe import LabelConditioned, LabelProjected, mlp

    embedding_dim = spec.options.get("embedding_dim", 16)
    layers = mlp([spec.sample_size + embedding_dim, 1024, 512, 256], activation=leaky_relu(spec), dropout=0.2)
    if spec.options.get("projection", True):
        return LabelProjected(spec.num_classes, embedding_dim, nn.Sequential(*layers), features=256)
    return LabelConditioned(spec.num_classes, embedding_dim, nn.Sequential(*layers, nn.Linear(256, 1)))
