"""DiffAugment (Zhao et al., 2020, "Differentiable Augmentation for Data-Efficient GAN Training").

D is shown every batch, real and fake, through the same random, differentiable
transformations, so it cannot memorise a small training set, and G still
gets gradients through the transformation. Each sample draws its own
parameters:

- ``color``: brightness (add U(-0.5, 0.5)), saturation (scale the deviation
  from the channel mean by U(0, 2); only with more than one channel) and
  contrast (scale the deviation from the image mean by U(0.5, 1.5));
- ``translation``: shift by up to 1/8 of the height and width, filling with
  zeros;
- ``cutout``: zero a rectangle of half the height and width at a random place.

Option ``policy`` (default ``color,translation,cutout``) picks and orders
them. Images only: samples must be shaped (channels, height, width).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ganframe import UsageError, did_you_mean

POLICIES = ("color", "translation", "cutout")


def _uniform(x: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """One value per sample in [low, high), shaped to broadcast over (C, H, W)."""
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device) * (high - low) + low


def color(x: torch.Tensor) -> torch.Tensor:
    x = x + _uniform(x, -0.5, 0.5)
    if x.shape[1] > 1:
        channel_mean = x.mean(dim=1, keepdim=True)
        x = channel_mean + (x - channel_mean) * _uniform(x, 0.0, 2.0)
    image_mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return image_mean + (x - image_mean) * _uniform(x, 0.5, 1.5)


def _shifted_index(size: int, shift: torch.Tensor) -> torch.Tensor:
    """Per-sample source indices into a 1-padded axis: position i reads i - shift, or the zero border."""
    positions = torch.arange(size, device=shift.device) + 1
    return (positions[None, :] - shift[:, None]).clamp(0, size + 1)


def translation(x: torch.Tensor, fraction: float = 0.125) -> torch.Tensor:
    n, c, h, w = x.shape
    max_dy, max_dx = int(h * fraction), int(w * fraction)
    dy = torch.randint(-max_dy, max_dy + 1, (n,), device=x.device)
    dx = torch.randint(-max_dx, max_dx + 1, (n,), device=x.device)
    padded = F.pad(x, (1, 1, 1, 1))
    rows = _shifted_index(h, dy)[:, None, :, None].expand(n, c, h, w + 2)
    out = padded.gather(2, rows)
    cols = _shifted_index(w, dx)[:, None, None, :].expand(n, c, h, w)
    return out.gather(3, cols)


def cutout(x: torch.Tensor, fraction: float = 0.5) -> torch.Tensor:
    n, _, h, w = x.shape
    ch, cw = int(h * fraction), int(w * fraction)
    top = torch.randint(0, h + 1 - ch % 2, (n, 1), device=x.device) - ch // 2
    left = torch.randint(0, w + 1 - cw % 2, (n, 1), device=x.device) - cw // 2
    rows = torch.arange(h, device=x.device)[None, :]
    cols = torch.arange(w, device=x.device)[None, :]
    in_rows = (rows >= top) & (rows < top + ch)
    in_cols = (cols >= left) & (cols < left + cw)
    keep = ~(in_rows[:, :, None] & in_cols[:, None, :])
    return x * keep[:, None].to(x.dtype)


FUNCTIONS = {"color": color, "translation": translation, "cutout": cutout}


class DiffAugment:
    """``augment(x)``: the policy's transformations in order; same shape out as in."""

    def __init__(self, policy: list[str]):
        self.policy = list(policy)
        self._functions = [FUNCTIONS[name] for name in self.policy]

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        for function in self._functions:
            x = function(x)
        return x

    def __repr__(self) -> str:
        return f"DiffAugment(policy={','.join(self.policy)!r})"


def diffaugment(spec) -> DiffAugment:
    """DiffAugment: colour, translation and cutout, differentiable, per sample (option policy)."""
    raw = spec.options.get("policy", ",".join(POLICIES))
    policy = [name.strip() for name in raw.split(",") if name.strip()]
    for name in policy:
        if name not in FUNCTIONS:
            raise UsageError(
                f"--augment-option policy={raw}: unknown transformation '{name}'.{did_you_mean(name, POLICIES)} "
                f"Choose from {', '.join(POLICIES)}, separated by commas."
            )
    if len(spec.sample_shape) != 3:
        raise UsageError(
            f"--augment diffaugment transforms images shaped (channels, height, width), but this data set's samples "
            f"have shape {tuple(spec.sample_shape)}; drop --augment or use an image data set such as 'mnist'."
        )
    return DiffAugment(policy)
