"""The MLP GAN family: ``mlp`` (the MLP GAN tutorial recipe) and ``mlp-small`` (the small MLP GAN tutorial).

Both networks size themselves from the data set's sample shape, so the same
model trains on 1x28x28 MNIST images and on 2-D points.

``mlp`` defaults differ from the tutorial in four measured ways (README,
"Quality of the defaults"): LeakyReLU slope 0.2 instead of PyTorch's 0.01
(option ``slope``), Adam lr 5e-4 instead of 2e-4, beta1 0.5 instead of 0.9,
and the BatchNorm-generator tutorial's one-sided label smoothing
(``bce-smooth``) instead of plain ``bce``. With the tutorial's settings the
generator collapses onto a few digits within 5 epochs. The tutorial's model
is one option away: ``--loss bce --lr 2e-4 --beta1 0.9 --model-option slope=0.01``.

``mlp-small`` keeps the small MLP GAN tutorial's architecture (G latent 64 ->
256 -> 256 -> 784, ReLU, tanh; D 784 -> 256 -> 256 -> 1, LeakyReLU(0.2), no
dropout) and its batch of 100, but trains with Adam lr 2e-3 and beta1 0.5
and samples from a short average of G's weights (``--g-ema 0.99``, about
the last 100 of its 3,000 steps). Measured at 5 epochs (docs/quality.md,
"mlp-small"): its class balance improves steadily with the learning rate
(class KL 0.54 at 2e-4, 0.41 at 5e-4, 0.08 at 1e-3, 0.06 at 2e-3, seed 1),
but at 2e-3 the last trained weights still swing between digits (0.057 /
0.066 / 0.038 on seeds 1-3); the 0.99 average smooths that swing (0.036 /
0.028 / 0.032, and a lower Frechet distance; 0.995: 0.038 / 0.031 / 0.040), while the 0.999 average lags
too far behind (0.057 / 0.062 / 0.086). Label smoothing and dropout on D
(option ``d_dropout``) helped little or hurt. At batch 100 a 5-epoch run is
only 3,000 steps; the small networks stay stable at a learning rate that
would wreck the bigger ones. The tutorial's settings are one option line
away: ``--lr 2e-4 --beta1 0.9 --g-ema 0``.

``mlp`` does not sample from an average of G's weights by default
(``--g-ema``; ``cgan``'s and ``mlp-small``'s default): measured, the 0.999
average unbalances its digits.

On low-dimensional data (``ring``) ``mlp``'s generator has no dropout (model
option ``g_dropout``; see :func:`generator_dropout`), both networks are 256
wide instead of 1024 (model option ``width``; see :func:`network_width`),
and the data set brings its own run settings (``ring``'s ``defaults=``: lr
1e-3 and the average of G's weights). ``d_dropout`` sets D's dropout.
"""

from ganframe import hookimpl

#: Adam settings measured for ``mlp`` and ``cgan`` (the tutorials': lr 2e-4, beta1 0.9)
MEASURED_ADAM = {"lr": 5e-4, "beta1": 0.5}
#: run settings of ``mlp`` (measured; the tutorials': loss bce, lr 2e-4, beta1 0.9)
MLP_DEFAULTS = {"loss": "bce-smooth", "latent_dim": 100, "batch_size": 64, **MEASURED_ADAM}
#: run settings of ``cgan`` (measured; the tutorials': lr 2e-4, beta1 0.9, no average of G's weights)
CGAN_DEFAULTS = {"latent_dim": 100, "batch_size": 64, **MEASURED_ADAM, "g_ema": 0.999}
#: run settings of ``mlp-small``: the small MLP GAN tutorial's latent 64 and batch 100; measured lr, beta1
#: and average of G's weights (the tutorial's 2e-4 / 0.9 / none collapses onto 2 digits in 5 epochs;
#: docs/quality.md, "mlp-small")
MLP_SMALL_DEFAULTS = {"latent_dim": 64, "batch_size": 100, "lr": 2e-3, "beta1": 0.5, "g_ema": 0.99}
#: dropout after each hidden layer of ``mlp-small``'s D (model option ``d_dropout``; the tutorial's: none)
MLP_SMALL_D_DROPOUT = 0.0
#: LeakyReLU slope of ``mlp``, ``cgan`` and ``mlp-small``'s D (the tutorials' nn.LeakyReLU() is 0.01)
DEFAULT_SLOPE = 0.2
#: dropout of ``mlp``'s hidden layers (the MLP GAN tutorial's)
DROPOUT = 0.2
#: samples of at most this many values (``ring``'s 2-D points) get no dropout in ``mlp``'s generator
LOW_DIMENSIONAL = 16
#: widest hidden layer of ``mlp`` (model option ``width``): the MLP GAN tutorial's 1024 (G 256-512-1024,
#: D 1024-512-256) on images; narrower on low-dimensional samples (see :func:`network_width`)
WIDTH = 1024
LOW_DIMENSIONAL_WIDTH = 256


@hookimpl
def register_generators(register):
    register(
        "mlp",
        mlp_generator,
        help="MLP 256-512-1024, LeakyReLU(0.2) + dropout 0.2 (none on 2-D data), tanh (MLP GAN tutorial)",
        defaults=MLP_DEFAULTS,
    )
    register(
        "mlp-small",
        mlp_small_generator,
        help="small MLP 256-256, ReLU, tanh; latent 64, batch 100 (small MLP GAN tutorial)",
        defaults=MLP_SMALL_DEFAULTS,
    )


@hookimpl
def register_discriminators(register):
    register(
        "mlp", mlp_discriminator, help="MLP 1024-512-256, LeakyReLU(0.2) + dropout 0.2, one logit (MLP GAN tutorial)"
    )
    register(
        "mlp-small",
        mlp_small_discriminator,
        help="small MLP 256-256, LeakyReLU(0.2), one logit (small MLP GAN tutorial)",
    )


def leaky_relu(spec):
    """LeakyReLU factory with the ``slope`` model option (default 0.2; the tutorials' 0.01)."""
    from torch import nn

    slope = spec.options.get("slope", DEFAULT_SLOPE)
    return lambda: nn.LeakyReLU(slope)


def generator_dropout(spec) -> float:
    """G's dropout (model option ``g_dropout``): the tutorial's 0.2 for images, none for samples of
    at most :data:`LOW_DIMENSIONAL` values. On ``ring``'s 2-D points each dropped unit moves a sample
    by far more than a mode's std (0.02); measured, it collapses every seed onto 1-3 of 8 modes,
    without it 7-8 (README, "The ring example")."""
    return dropout_option(spec, "g_dropout", 0.0 if spec.sample_size <= LOW_DIMENSIONAL else DROPOUT)


def dropout_option(spec, key: str, default: float) -> float:
    """A dropout probability model option (``g_dropout``, ``d_dropout``), refused outside [0, 1)."""
    p = spec.options.get(key, default)
    if not 0.0 <= p < 1.0:
        from ganframe import UsageError

        raise UsageError(f"Model option {key} must be a probability in [0, 1), e.g. 0.2 (0: no dropout); got {p}.")
    return p


def with_dropout(hidden: list, p: float) -> list:
    """``hidden`` with every Dropout layer set to ``p``; the layers stay (at p=0 a no-op) so checkpoints
    keep their layer numbers whatever the option."""
    from torch import nn

    for layer in hidden:
        if isinstance(layer, nn.Dropout):
            layer.p = p
    return hidden


def network_width(spec) -> int:
    """Widest hidden layer of ``mlp``'s G and D (model option ``width``; the others are 1/2 and 1/4 of it):
    the tutorial's 1024 for images, :data:`LOW_DIMENSIONAL_WIDTH` for samples of at most
    :data:`LOW_DIMENSIONAL` values."""
    default = LOW_DIMENSIONAL_WIDTH if spec.sample_size <= LOW_DIMENSIONAL else WIDTH
    width = int(spec.options.get("width", default))
    if width < 4 or width % 4:
        from ganframe import UsageError

        raise UsageError(
            f"Model option width must be a multiple of 4 of at least 4, e.g. 1024 (G 256-512-1024); got {width}."
        )
    return width


def mlp_generator(spec):
    """MLP generator: latent -> 256 -> 512 -> 1024 -> sample, LeakyReLU + Dropout(0.2), Tanh (MLP GAN tutorial)."""
    from torch import nn

    from ganframe import Reshape, mlp

    w = network_width(spec)
    hidden = mlp([spec.latent_dim, w // 4, w // 2, w], activation=leaky_relu(spec), dropout=DROPOUT)
    return nn.Sequential(
        *with_dropout(hidden, generator_dropout(spec)),
        nn.Linear(w, spec.sample_size),
        nn.Tanh(),
        Reshape(spec.sample_shape),
    )


def mlp_discriminator(spec):
    """MLP discriminator: sample -> 1024 -> 512 -> 256 -> 1 logit, LeakyReLU + Dropout(0.2) (MLP GAN tutorial)."""
    from torch import nn

    from ganframe import mlp

    w = network_width(spec)
    dropout = dropout_option(spec, "d_dropout", DROPOUT)
    hidden = mlp([spec.sample_size, w, w // 2, w // 4], activation=leaky_relu(spec), dropout=DROPOUT)
    return nn.Sequential(nn.Flatten(), *with_dropout(hidden, dropout), nn.Linear(w // 4, 1))


def mlp_small_generator(spec):
    """Small MLP generator: latent(64) -> 256 -> 256 -> sample, ReLU, Tanh; batch 100 (small MLP GAN tutorial)."""
    from torch import nn

    from ganframe import Reshape, mlp

    return nn.Sequential(
        *mlp([spec.latent_dim, 256, 256], activation=nn.ReLU),
        nn.Linear(256, spec.sample_size),
        nn.Tanh(),
        Reshape(spec.sample_shape),
    )


def mlp_small_discriminator(spec):
    """Small MLP discriminator: sample -> 256 -> 256 -> 1 logit, LeakyReLU(``slope``, the tutorial's 0.2),
    Dropout(``d_dropout``) after each hidden layer (the small MLP GAN tutorial's: none)."""
    from torch import nn

    from ganframe import mlp

    dropout = dropout_option(spec, "d_dropout", MLP_SMALL_D_DROPOUT)
    return nn.Sequential(
        nn.Flatten(),
        *mlp([spec.sample_size, 256, 256], activation=leaky_relu(spec), dropout=dropout),
        nn.Linear(256, 1),
    )
