"""Data sets held in memory, and the two ways the engine batches them.

The fast path (:class:`DeviceBatches`) keeps the whole data set as one tensor
on the training device (uint8 pixels stay uint8: MNIST is 47 MB) and gathers
each batch by index, scaling to ``[-1, 1]`` on the device. That replaces the
tutorial recipes' per-item ``ToTensor`` + ``Normalize`` + ``DataLoader`` (docs/background.md), which costs
more per batch than a whole GPU training step.

The plain path (:class:`LoaderBatches`) is a ``DataLoader`` over
``dataset[i]``, used for data sets that are not in memory (or that do not fit
on the device). Both paths draw the same per-epoch permutation from the run's
seed, so they yield the same batches in the same order.

In a distributed run ``batch_size`` is the global batch: each process
(``shard=(rank, world_size)``) yields its own ``batch_size // world_size``
slice of every step's batch (:func:`rank_order`), so the ranks of one step
together see exactly the batch a single process would.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import torch
from torch.utils.data import DataLoader, Dataset, Sampler


class InMemoryDataset(Dataset):
    """A whole data set as tensors.

    - ``data``: ``(N, *sample_shape)``; either ``uint8`` pixels 0..255 (scaled
      to ``[-1, 1]`` when batched, as ``ToTensor`` + ``Normalize(0.5, 0.5)``
      would) or floating point values already in ``[-1, 1]``.
    - ``labels``: ``(N,)`` long class indices, or ``None`` for unlabelled data.
    - ``num_classes``: number of classes (0 when unlabelled).
    - ``class_names``: optional names, e.g. ``["0", ..., "9"]``.
    """

    def __init__(
        self,
        data: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        num_classes: int = 0,
        class_names: Sequence[str] | None = None,
    ):
        if labels is not None:
            num_classes = _checked_classes(labels, len(data), num_classes)
        self.data = data
        self.labels = labels.long() if labels is not None else None
        self.num_classes = num_classes if labels is not None else 0
        self.class_names = list(class_names) if class_names else [str(i) for i in range(self.num_classes)]

    @property
    def sample_shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[1:])

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, index: int):
        x = scale_to_unit_range(self.data[index])
        y = self.labels[index] if self.labels is not None else torch.tensor(-1)
        return x, y

    def to(self, device: torch.device) -> InMemoryDataset:
        """A copy whose tensors live on ``device``."""
        labels = self.labels.to(device) if self.labels is not None else None
        return InMemoryDataset(self.data.to(device), labels, num_classes=self.num_classes, class_names=self.class_names)


def _checked_classes(labels: torch.Tensor, samples: int, num_classes: int) -> int:
    """The number of classes, after refusing labels a conditional model would index out of range
    (an IndexError mid-training) or silently truncate (float labels)."""
    if not isinstance(labels, torch.Tensor) or labels.dim() != 1 or len(labels) != samples:
        shape = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(
            f"{samples} samples need labels of shape ({samples},): one class index per sample; got {shape}"
        )
    if labels.dtype == torch.bool or labels.is_floating_point() or labels.is_complex():
        raise ValueError(
            f"labels must be whole class indices (an integer tensor such as torch.long); got {labels.dtype}"
        )
    if not len(labels):
        return max(num_classes, 0)
    low, high = int(labels.min().item()), int(labels.max().item())
    if num_classes <= 0:
        num_classes = high + 1
    if low < 0 or high >= num_classes:
        bad = int(torch.nonzero((labels < 0) | (labels >= num_classes))[0].item())
        raise ValueError(
            f"labels run from {low} to {high}, outside 0..{num_classes - 1} ({num_classes} classes): "
            f"label {int(labels[bad].item())} at index {bad}"
        )
    return num_classes


def scale_to_unit_range(batch: torch.Tensor) -> torch.Tensor:
    """uint8 pixels -> float in ``[-1, 1]`` (x / 127.5 - 1); floats pass through as float32."""
    if batch.dtype == torch.uint8:
        return batch.float().div_(127.5).sub_(1.0)
    return batch.float()


def sample_shape_of(dataset) -> tuple[int, ...]:
    """Sample shape of any supported dataset (declared, or read off the first item)."""
    shape = getattr(dataset, "sample_shape", None)
    if shape is not None:
        return tuple(shape)
    return tuple(dataset[0][0].shape)


def epoch_permutation(num_samples: int, seed: int, epoch: int) -> torch.Tensor:
    """The sample order of ``epoch`` (0-based): a function of seed and epoch only,
    so a resumed run can continue the same order mid-epoch."""
    generator = torch.Generator().manual_seed((seed * 1_000_003 + epoch) % 2**64)  # any --seed torch accepts
    return torch.randperm(num_samples, generator=generator)


def rank_order(order: torch.Tensor, batch_size: int, shard: tuple[int, int]) -> torch.Tensor:
    """This rank's part of an epoch's sample ``order``: slice ``rank`` of each global batch of
    ``batch_size``, in step order (``order`` itself in a single process)."""
    rank, world_size = shard
    if world_size == 1:
        return order
    steps, per_rank = len(order) // batch_size, batch_size // world_size
    return order[: steps * batch_size].view(steps, world_size, per_rank)[:, rank].reshape(-1)


class DeviceBatches:
    """Batches gathered by index from a data set held on the training device."""

    def __init__(
        self,
        dataset: InMemoryDataset,
        batch_size: int,
        device: torch.device,
        seed: int,
        shard: tuple[int, int] = (0, 1),
    ):
        self.dataset = dataset.to(device)
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.shard = shard

    def __len__(self) -> int:
        """Steps per epoch: the last partial batch is dropped so every step has the same shape."""
        return len(self.dataset) // self.batch_size

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        order = epoch_permutation(len(self.dataset), self.seed, epoch).to(self.device)
        order = rank_order(order, self.batch_size, self.shard)
        data, labels = self.dataset.data, self.dataset.labels
        size = self.batch_size // self.shard[1]
        for i in range(start, len(self)):
            index = order[i * size : (i + 1) * size]
            yield scale_to_unit_range(data[index]), (labels[index] if labels is not None else None)


class _PermutationSampler(Sampler[int]):
    def __init__(self, num_samples: int, seed: int, epoch: int, skip: int, batch_size: int, shard: tuple[int, int]):
        self.num_samples, self.seed, self.epoch, self.skip = num_samples, seed, epoch, skip
        self.batch_size, self.shard = batch_size, shard

    def _order(self) -> torch.Tensor:
        order = epoch_permutation(self.num_samples, self.seed, self.epoch)
        return rank_order(order, self.batch_size, self.shard)[self.skip :]

    def __iter__(self):
        return iter(self._order().tolist())

    def __len__(self) -> int:
        return len(self._order())


class LoaderBatches:
    """Batches from a ``DataLoader`` over ``dataset[i]`` (the tutorial recipes' data path)."""

    def __init__(
        self,
        dataset,
        batch_size: int,
        device: torch.device,
        seed: int,
        num_workers: int = 0,
        shard: tuple[int, int] = (0, 1),
    ):
        self.dataset = dataset
        self.batch_size = batch_size
        self.device = device
        self.seed = seed
        self.num_workers = num_workers
        self.shard = shard
        self.has_labels = getattr(dataset, "num_classes", 0) > 0

    def __len__(self) -> int:
        return len(self.dataset) // self.batch_size

    def epoch(self, epoch: int, start: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
        size = self.batch_size // self.shard[1]
        sampler = _PermutationSampler(len(self.dataset), self.seed, epoch, start * size, self.batch_size, self.shard)
        loader = DataLoader(
            self.dataset,
            batch_size=size,
            sampler=sampler,
            drop_last=True,
            num_workers=self.num_workers,
            pin_memory=self.device.type == "cuda",
            # its own generator: without one, DataLoader draws a seed from the global RNG and
            # shifts the noise stream of training
            generator=torch.Generator().manual_seed((self.seed + epoch) % 2**64),
        )
        for x, y in loader:
            x = x.to(self.device, non_blocking=True)
            yield x, (y.to(self.device, non_blocking=True) if self.has_labels else None)


def make_batches(
    dataset, batch_size: int, device: torch.device, seed: int, *, path: str = "auto", shard: tuple[int, int] = (0, 1)
):
    """Choose the data path: ``device`` (in-memory data set that fits), ``loader``, or ``auto``.
    ``shard`` is ``(rank, world_size)`` in a distributed run (``batch_size`` is the global batch)."""
    in_memory = isinstance(dataset, InMemoryDataset)
    if path == "device" and not in_memory:
        raise ValueError("the device data path needs an InMemoryDataset")
    if path == "loader" or not in_memory:
        # a data set that decodes on access (image-folder without a cache) says how many workers it wants
        workers = int(getattr(dataset, "loader_workers", 0) or 0)
        return LoaderBatches(dataset, batch_size, device, seed, num_workers=workers, shard=shard)
    if path == "auto" and device.type == "cuda" and not _fits_on_gpu(dataset, device):
        return LoaderBatches(dataset, batch_size, device, seed, shard=shard)
    return DeviceBatches(dataset, batch_size, device, seed, shard=shard)


def _fits_on_gpu(dataset: InMemoryDataset, device: torch.device, share: float = 0.5) -> bool:
    needed = dataset.data.nbytes + (dataset.labels.nbytes if dataset.labels is not None else 0)
    free, _total = torch.cuda.mem_get_info(device)
    return needed < free * share
