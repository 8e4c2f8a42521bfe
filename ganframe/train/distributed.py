"""Several processes training one model: torchrun + DistributedDataParallel.

``torchrun --nproc-per-node N -m ganframe run ...`` starts N copies of the
command with ``RANK``, ``LOCAL_RANK``, ``WORLD_SIZE``, ``MASTER_ADDR`` and
``MASTER_PORT`` set; :func:`from_environment` joins them into one process
group (nccl on CUDA, one GPU per process; gloo on CPU). From there:

- ``--batch-size`` is the **global** batch: each rank trains on
  ``batch_size // N`` samples per step, its own slice of the batch a single
  process would use (:func:`ganframe.train.data.rank_order`), so an epoch has the
  same number of steps on any number of processes and the learning rate
  means the same thing.
- Initial weights are built from the seed on every rank (DDP also broadcasts
  rank 0's); noise and dropout differ per rank (the generator is seeded with
  ``seed + rank``; rank 0 draws exactly what a single process would).
- DDP averages gradients over the ranks, which for the built-in mean losses
  is the gradient of the global batch. See :mod:`ganframe.train.step` for which
  calls go through the DDP wrappers.
- BatchNorm normalises each rank's own slice, with running statistics kept
  from rank 0 (DDP broadcasts buffers); ``--sync-batchnorm`` converts it to
  SyncBatchNorm (CUDA only), which normalises over the global batch as a
  single process would.
- Metrics are averaged over the ranks when read, and a stop request (a
  signal, a plugin) is agreed at the same moment, so every rank stops after
  the same step; a non-finite loss on any rank stops every rank.
- Only rank 0 writes files and shows progress; checkpoints carry every rank's
  RNG state, so a distributed run resumes exactly with the same number of
  processes.
"""

from __future__ import annotations

import datetime
import gc
import os
from dataclasses import dataclass, field
from typing import Any

import torch

from ganframe.errors import UsageError


@dataclass
class Processes:
    """This process's place among the training processes (one process: rank 0 of 1)."""

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    local_world_size: int = 1
    _wrapped: list[Any] = field(default_factory=list, repr=False)

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def shard(self) -> tuple[int, int]:
        return self.rank, self.world_size

    # -- collectives (identity in one process) -----------------------------------
    def from_main(self, value: Any) -> Any:
        """Rank 0's ``value`` on every rank (a random seed, a run directory name)."""
        if not self.enabled:
            return value
        box = [value]
        torch.distributed.broadcast_object_list(box, src=0)
        return box[0]

    def gather(self, value: Any) -> list[Any]:
        """Every rank's ``value``, in rank order, on every rank."""
        if not self.enabled:
            return [value]
        values: list[Any] = [None] * self.world_size
        torch.distributed.all_gather_object(values, value)
        return values

    def sum_(self, tensor: torch.Tensor) -> torch.Tensor:
        """Sum ``tensor`` over the ranks, in place."""
        if self.enabled:
            torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.SUM)
        return tensor

    def all_true(self, flag: torch.Tensor) -> torch.Tensor:
        """``flag`` (a bool scalar) and-ed over the ranks."""
        if not self.enabled:
            return flag
        value = flag.to(torch.int32)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MIN)
        return value.bool()

    # -- setting up a run ----------------------------------------------------------
    def check(self, config, device: torch.device) -> None:
        """Settings a distributed run cannot use, found before any file is written."""
        if not self.enabled:
            return
        if config.batch_size % self.world_size:
            raise UsageError(
                f"--batch-size {config.batch_size} is the global batch and must be divisible by the "
                f"{self.world_size} processes; use a multiple of {self.world_size} such as "
                f"{max(self.world_size, config.batch_size // self.world_size * self.world_size)}."
            )
        if config.sync_batchnorm and device.type != "cuda":
            raise UsageError(
                "--sync-batchnorm needs CUDA: PyTorch's SyncBatchNorm runs only on GPUs. Drop it for a CPU "
                "run (each process then normalises its own slice of the batch)."
            )
        if config.cuda_graph:
            raise UsageError(
                "--cuda-graph is not supported under torchrun yet: DistributedDataParallel's all-reduce inside a "
                "captured step has not been validated. Drop --cuda-graph for distributed runs."
            )
        if config.sync_batchnorm and config.sample_mode == "train":
            raise UsageError(
                "--sync-batchnorm cannot be combined with --sample-mode train: sample grids are drawn on rank 0 "
                "alone, and SyncBatchNorm in train mode would wait for the other ranks. Use --sample-mode eval."
            )

    def prepare(self, step, config, device: torch.device) -> None:
        """Per-rank noise and DDP wrappers on ``step`` (a :class:`ganframe.train.step.TrainStep`)."""
        if not self.enabled:
            return
        from torch.nn.parallel import DistributedDataParallel

        torch.manual_seed((config.seed + self.rank) % 2**64)
        ids = (
            [device.index if device.index is not None else torch.cuda.current_device()]
            if device.type == "cuda"
            else None
        )
        for name in ("generator", "discriminator"):
            module = getattr(step, name)
            if config.sync_batchnorm:
                converted = torch.nn.SyncBatchNorm.convert_sync_batchnorm(module)
                if converted is not module:  # only when the network *is* a BatchNorm layer
                    raise UsageError(f"--sync-batchnorm cannot convert a {name} that is a single BatchNorm layer.")
            setattr(step, f"{name}_sync", DistributedDataParallel(module, device_ids=ids))
        self._wrapped.append(step)

    def close(self, *, wait: bool) -> None:
        """Leave the process group; ``wait``: first wait for every rank (a run that ended normally),
        so no rank tears down its connections while rank 0 still writes the final files. The order
        is barrier, drop the DDP wrappers, collect, ``destroy_process_group``; the CLI then ends a
        worker with ``os._exit`` (:func:`ganframe.cli.run_command.leaves_cleanly_under_torchrun`).
        Safe to call twice."""
        if self.enabled and torch.distributed.is_initialized():
            if wait:
                torch.distributed.barrier()
            # drop the DDP wrappers first: one outliving the group would tear down its gloo
            # threads during interpreter shutdown and abort the process
            for step in self._wrapped:
                step.generator_sync, step.discriminator_sync = step.generator, step.discriminator
            self._wrapped.clear()
            gc.collect()
            torch.distributed.destroy_process_group()


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise UsageError(f"Environment variable {name}={raw!r} must be a whole number (torchrun sets it).") from None


#: words in the errors gloo / c10d raise when a collective times out or a peer is gone
_COLLECTIVE_FAILURE = (
    "Timed out",
    "timed out",
    "gloo",
    "Connection closed by peer",
    "Connection reset by peer",
    "Broken pipe",
    "NCCL",
    "ProcessGroup",
)


def is_collective_failure(exc: BaseException) -> bool:
    """True for the error a collective raises when another process froze or died (a plain RuntimeError
    from gloo, or one of torch.distributed's DistError kinds)."""
    dist_error = getattr(torch.distributed, "DistError", None)
    if dist_error is not None and isinstance(exc, dist_error):
        return True
    return isinstance(exc, RuntimeError) and any(word in str(exc) for word in _COLLECTIVE_FAILURE)


def collective_failure_message(exc: BaseException, state, timeout: float, resume: str) -> str:
    """One paragraph for a run stopped because the processes stopped answering each other."""
    where = f" at step {state.step} (epoch {state.current_epoch})" if state is not None else ""
    kept = ""
    if state is not None and state.is_main_process:  # only rank 0 knows (and says) which it wrote
        from ganframe.train.nonfinite import kept_sentence

        kept = " " + kept_sentence(state.last_checkpoint)
    from ganframe.errors import exception_gist

    return (
        f"Training stopped{where}: another training process did not answer within --dist-timeout {timeout:g} s "
        f"(or left the run), so this one gave up waiting ({exception_gist(exc, limit=200)}). A worker froze, "
        f"was killed or lost its connection.{kept} Resume with: {resume} (give a larger --dist-timeout if "
        "single steps or hooks may take longer than that)."
    )


def from_environment(device_option: str, timeout: float = 300.0) -> Processes:
    """Join the process group torchrun describes in the environment; one process otherwise.
    ``timeout`` (``--dist-timeout``) bounds every collective: a frozen peer stops the run with a
    message after that many seconds instead of gloo's default of 30 minutes."""
    world_size = _env_int("WORLD_SIZE", 1)
    if world_size <= 1:
        return Processes()
    for name in ("MASTER_ADDR", "MASTER_PORT", "RANK"):
        if not os.environ.get(name):
            raise UsageError(
                f"WORLD_SIZE={world_size} is set but {name} is not; start distributed runs with torchrun, "
                "e.g. torchrun --nproc-per-node 2 -m ganframe run ..."
            )
    processes = Processes(
        rank=_env_int("RANK", 0),
        local_rank=_env_int("LOCAL_RANK", 0),
        world_size=world_size,
        local_world_size=_env_int("LOCAL_WORLD_SIZE", world_size),
    )
    use_cuda = device_option != "cpu" and torch.cuda.is_available()
    kwargs: dict[str, Any] = {}
    if use_cuda:
        count = torch.cuda.device_count()
        if processes.local_rank >= count:
            raise UsageError(
                f"torchrun started {processes.local_world_size} processes on this machine but it has {count} "
                f"GPU(s); use --nproc-per-node {count} or fewer (one GPU per process)."
            )
        torch.cuda.set_device(processes.local_rank)
        kwargs["device_id"] = torch.device("cuda", processes.local_rank)
    torch.distributed.init_process_group(
        "nccl" if use_cuda else "gloo",
        rank=processes.rank,
        world_size=world_size,
        timeout=datetime.timedelta(seconds=timeout),
        **kwargs,
    )
    return processes
