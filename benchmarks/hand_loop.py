"""The tutorials' training loops, written by hand, without ganframe.

This is the baseline every ganframe benchmark is divided by: the code a
reader of the reference documents would write, each model with its own
document's classes and loop. It uses PyTorch's defaults everywhere:
``nn.Dropout``, ``torch.optim.Adam(lr=2e-4)``, a ``DataLoader`` over
torchvision's MNIST with ``ToTensor`` + ``Normalize``.

- ``mlp`` and ``cgan`` use the MLP GAN and conditional GAN tutorials's loop: D-phase fakes
  ``.detach()``-ed, D loss the mean of the real and fake terms, ``.item()``
  on both losses every step.
- ``mlp-small`` and ``batchnorm`` use the small MLP GAN and BatchNorm-generator tutorials's loop: D-phase fakes
  not detached (backward also runs through G, whose gradients are then
  reset), D loss the sum of the two terms.

Discriminators return logits and the loss is ``BCEWithLogitsLoss`` (the
stable form of the tutorials' Sigmoid + BCELoss).
"""

from __future__ import annotations

import torch
from torch import nn


# -- the MLP GAN tutorial: MLP GAN -----------------------------------------------------------------
class MNISTGenerator(nn.Module):
    def __init__(self, latent_dim=100):
        super().__init__()
        self.generator = nn.Sequential(
            nn.Linear(latent_dim, 256),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(256, 512),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(512, 1024),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(1024, 784),
            nn.Tanh(),
        )

    def forward(self, noise):
        return self.generator(noise).reshape(noise.shape[0], 1, 28, 28)


class MNISTDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.discriminator = nn.Sequential(
            nn.Linear(784, 1024),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(1024, 512),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(256, 1),
        )

    def forward(self, x):
        return self.discriminator(x.reshape(x.shape[0], -1))


# -- the conditional GAN tutorial: conditional GAN -----------------------------------------------------------
class CGenerator(nn.Module):
    def __init__(self, latent_dim=100, num_classes=10, embedding_dim=16):
        super().__init__()
        self.embeddings = nn.Embedding(num_classes, embedding_dim)
        self.generator = MNISTGenerator(latent_dim + embedding_dim).generator

    def forward(self, noise, labels):
        noise = torch.cat([noise, self.embeddings(labels)], dim=-1)
        return self.generator(noise).reshape(noise.shape[0], 1, 28, 28)


class CDiscriminator(nn.Module):
    def __init__(self, num_classes=10, embedding_dim=16):
        super().__init__()
        self.embeddings = nn.Embedding(num_classes, embedding_dim)
        self.discriminator = nn.Sequential(
            nn.Linear(784 + embedding_dim, 1024),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(1024, 512),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(512, 256),
            nn.LeakyReLU(),
            nn.Dropout(p=0.2),
            nn.Linear(256, 1),
        )

    def forward(self, x, labels):
        x = torch.cat([x.reshape(x.shape[0], -1), self.embeddings(labels)], dim=1)
        return self.discriminator(x)


# -- the small MLP GAN tutorial: small MLP GAN -------------------------------------------------------------
def small_generator(latent_size=64, hidden_size=256, image_size=784):
    return nn.Sequential(
        nn.Linear(latent_size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, hidden_size),
        nn.ReLU(),
        nn.Linear(hidden_size, image_size),
        nn.Tanh(),
    )


def small_discriminator(hidden_size=256, image_size=784):
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(image_size, hidden_size),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden_size, hidden_size),
        nn.LeakyReLU(0.2),
        nn.Linear(hidden_size, 1),
    )


# -- the BatchNorm-generator tutorial: BatchNorm generator -------------------------------------------------------
def linear_block(in_features, out_features):
    return nn.Sequential(nn.Linear(in_features, out_features, bias=False), nn.BatchNorm1d(out_features))


class BNGenerator(nn.Module):
    def __init__(self, input_features=100, image_size=28):
        super().__init__()
        self.hcl1 = linear_block(input_features, 256)
        self.hcl2 = linear_block(256, 512)
        self.hcl3 = linear_block(512, 1024)
        self.output = linear_block(1024, image_size * image_size)
        self.leaky_relu = nn.LeakyReLU(0.2)

    def forward(self, x):
        x = self.leaky_relu(self.hcl1(x))
        x = self.leaky_relu(self.hcl2(x))
        x = self.leaky_relu(self.hcl3(x))
        return torch.tanh(self.output(x))


class BNDiscriminator(nn.Module):
    def __init__(self, image_size=28):
        super().__init__()
        self.hcl1 = nn.Linear(image_size * image_size, 1024)
        self.hcl2 = nn.Linear(1024, 512)
        self.hcl3 = nn.Linear(512, 256)
        self.out = nn.Linear(256, 1)
        self.leaky_relu = nn.LeakyReLU(negative_slope=0.2)

    def forward(self, x):
        x = x.reshape(x.shape[0], -1)
        x = self.leaky_relu(self.hcl1(x))
        x = self.leaky_relu(self.hcl2(x))
        x = self.leaky_relu(self.hcl3(x))
        return self.out(x)


#: model name -> (generator, discriminator, latent size, conditional, detach D-phase fakes), as in the tutorials
MODELS = {
    "mlp": (lambda: MNISTGenerator(100), MNISTDiscriminator, 100, False, True),
    "cgan": (lambda: CGenerator(100), CDiscriminator, 100, True, True),
    "mlp-small": (lambda: small_generator(64), small_discriminator, 64, False, False),
    "batchnorm": (lambda: BNGenerator(100), BNDiscriminator, 100, False, False),
}


class HandLoop:
    """One model trained the tutorials' way: ``step(images, labels)`` is one D step and one G step."""

    def __init__(self, model: str, batch_size: int, device: torch.device, real_target: float = 1.0):
        make_g, make_d, self.latent_dim, self.conditional, self.detach = MODELS[model]
        self.generator = make_g().to(device)
        self.discriminator = make_d().to(device)
        self.gen_optimizer = torch.optim.Adam(self.generator.parameters(), lr=0.0002)
        self.disc_optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=0.0002)
        self.loss_func = nn.BCEWithLogitsLoss()
        self.batch_size = batch_size
        self.device = device
        self.true_labels = torch.full((batch_size, 1), real_target, device=device)
        self.ones = torch.ones(batch_size, 1, device=device)
        self.generated_labels = torch.zeros(batch_size, 1, device=device)

    def _g(self, noise, digits):
        return self.generator(noise, digits) if self.conditional else self.generator(noise)

    def _d(self, images, digits):
        return self.discriminator(images, digits) if self.conditional else self.discriminator(images)

    def step(self, images: torch.Tensor, true_digits: torch.Tensor | None) -> tuple[float, float]:
        batch_size, latent_dim, device = self.batch_size, self.latent_dim, self.device
        # discriminator
        noise = torch.randn(batch_size, latent_dim, device=device)
        rand_digits = torch.randint(0, 10, size=(batch_size,), device=device) if self.conditional else None
        generated_images = self._g(noise, rand_digits)
        if self.detach:  # the MLP GAN and conditional GAN tutorials
            generated_images = generated_images.detach()
        real_discriminator_pred = self._d(images, true_digits)
        gen_discriminator_pred = self._d(generated_images, rand_digits)
        real_loss = self.loss_func(real_discriminator_pred, self.true_labels)
        fake_loss = self.loss_func(gen_discriminator_pred, self.generated_labels)
        disc_loss = (real_loss + fake_loss) / 2 if self.detach else real_loss + fake_loss
        self.disc_optimizer.zero_grad()
        if not self.detach:  # the small MLP GAN and BatchNorm-generator tutorials: reset_grad() zeroes both networks
            self.gen_optimizer.zero_grad()
        disc_loss.backward()
        self.disc_optimizer.step()
        # generator
        noise = torch.randn(batch_size, latent_dim, device=device)
        rand_digits = torch.randint(0, 10, size=(batch_size,), device=device) if self.conditional else None
        generated_images = self._g(noise, rand_digits)
        gen_discriminator_pred = self._d(generated_images, rand_digits)
        generator_loss = self.loss_func(gen_discriminator_pred, self.ones)
        self.gen_optimizer.zero_grad()
        generator_loss.backward()
        self.gen_optimizer.step()
        return disc_loss.item(), generator_loss.item()


def mnist_loader(root, batch_size: int):
    """the small MLP GAN tutorial's data path: torchvision MNIST, ToTensor + Normalize, DataLoader(shuffle=True)."""
    from torch.utils.data import DataLoader
    from torchvision.datasets import MNIST
    from torchvision.transforms import Compose, Normalize, ToTensor

    mnist = MNIST(
        root=str(root), train=True, download=False, transform=Compose([ToTensor(), Normalize(mean=(0.5,), std=(0.5,))])
    )
    return DataLoader(mnist, batch_size, shuffle=True, drop_last=True)


# -- the same loop with a schedule or a penalty: what ganframe's n-critic step and r1 regulariser do --------
class NCriticHandLoop(HandLoop):
    """The tutorials' loop with WGAN's schedule: a D update on every batch, a G update after every ``n``-th."""

    def __init__(self, model: str, batch_size: int, device: torch.device, n: int = 5):
        super().__init__(model, batch_size, device)
        self.n, self.calls = n, 0
        self.generator_loss = torch.zeros(())

    def step(self, images, true_digits):
        batch_size, latent_dim, device = self.batch_size, self.latent_dim, self.device
        noise = torch.randn(batch_size, latent_dim, device=device)
        rand_digits = torch.randint(0, 10, size=(batch_size,), device=device) if self.conditional else None
        generated_images = self._g(noise, rand_digits).detach()
        disc_loss = (
            self.loss_func(self._d(images, true_digits), self.true_labels)
            + self.loss_func(self._d(generated_images, rand_digits), self.generated_labels)
        ) / 2
        self.disc_optimizer.zero_grad()
        disc_loss.backward()
        self.disc_optimizer.step()
        self.calls += 1
        if self.calls % self.n == 0:
            noise = torch.randn(batch_size, latent_dim, device=device)
            rand_digits = torch.randint(0, 10, size=(batch_size,), device=device) if self.conditional else None
            self.generator_loss = self.loss_func(self._d(self._g(noise, rand_digits), rand_digits), self.ones)
            self.gen_optimizer.zero_grad()
            self.generator_loss.backward()
            self.gen_optimizer.step()
        return disc_loss.item(), self.generator_loss.item()


class R1HandLoop(HandLoop):
    """The tutorials' loop with an R1 penalty (gamma/2 |grad_x D(x)|^2 on the real batch) in D's loss."""

    def __init__(self, model: str, batch_size: int, device: torch.device, gamma: float = 10.0):
        super().__init__(model, batch_size, device)
        self.gamma = gamma

    def step(self, images, true_digits):
        batch_size, latent_dim, device = self.batch_size, self.latent_dim, self.device
        noise = torch.randn(batch_size, latent_dim, device=device)
        rand_digits = torch.randint(0, 10, size=(batch_size,), device=device) if self.conditional else None
        generated_images = self._g(noise, rand_digits).detach()
        images = images.detach().requires_grad_(True)
        real_pred = self._d(images, true_digits)
        disc_loss = (
            self.loss_func(real_pred, self.true_labels)
            + self.loss_func(self._d(generated_images, rand_digits), self.generated_labels)
        ) / 2
        (grad,) = torch.autograd.grad(real_pred.sum(), images, create_graph=True)
        disc_loss = disc_loss + self.gamma / 2 * grad.flatten(1).square().sum(1).mean()
        self.disc_optimizer.zero_grad()
        disc_loss.backward()
        self.disc_optimizer.step()
        noise = torch.randn(batch_size, latent_dim, device=device)
        rand_digits = torch.randint(0, 10, size=(batch_size,), device=device) if self.conditional else None
        generator_loss = self.loss_func(self._d(self._g(noise, rand_digits), rand_digits), self.ones)
        self.gen_optimizer.zero_grad()
        generator_loss.backward()
        self.gen_optimizer.step()
        return disc_loss.item(), generator_loss.item()
