"""Epoch-level timings, data included: the tutorials' DataLoader path vs ganframe's device-resident data.

``test_*_data_epoch`` times one epoch of batches alone (no training);
``test_*_train_epoch`` times one full MNIST training epoch of mlp/bce at
batch 64, data included. Results are reported per step (epoch time / steps).
With --benchmark-disable each runs 20 steps only.
"""

import itertools

from benchmarks.builders import make_trainer
from benchmarks.conftest import record, synchronize, time_epoch
from benchmarks.hand_loop import HandLoop, mnist_loader

BATCH = 64
SMOKE_STEPS = 20


def _limit(iterable, benchmark):
    return itertools.islice(iterable, SMOKE_STEPS) if getattr(benchmark, "disabled", False) else iterable


def test_hand_data_epoch(benchmark, device, data_root):
    benchmark.group = "epoch: data only, batch 64"
    loader = mnist_loader(data_root, BATCH)

    def epoch():
        for images, labels in _limit(loader, benchmark):
            images.to(device), labels.to(device)

    ms = time_epoch(benchmark, epoch, device=device, steps=len(loader), rounds=2, warmup_rounds=0)
    record(benchmark, ("data-epoch",), impl="hand", ms_per_step=ms, batch_size=BATCH, device=device)


def test_ganframe_data_epoch(benchmark, device, data_root):
    benchmark.group = "epoch: data only, batch 64"
    trainer = make_trainer("mlp", "bce", BATCH, device, data_root)

    def epoch():
        for _ in _limit(trainer.batches.epoch(0), benchmark):
            pass

    ms = time_epoch(benchmark, epoch, device=device, steps=len(trainer.batches), rounds=3, warmup_rounds=1)
    record(benchmark, ("data-epoch",), impl="ganframe", ms_per_step=ms, batch_size=BATCH, device=device)


def _warm(step, device, n=5):
    for _ in range(n):
        step()
    synchronize(device)


def test_hand_train_epoch(benchmark, device, data_root):
    benchmark.group = "epoch: mlp/bce training, batch 64"
    loader = mnist_loader(data_root, BATCH)
    loop = HandLoop("mlp", BATCH, device)
    images, labels = next(iter(loader))
    _warm(lambda: loop.step(images.to(device), None), device)

    def epoch():
        for images, _ in _limit(loader, benchmark):
            loop.step(images.to(device), None)

    ms = time_epoch(benchmark, epoch, device=device, steps=len(loader), rounds=1, warmup_rounds=0)
    record(benchmark, ("train-epoch",), impl="hand", ms_per_step=ms, batch_size=BATCH, device=device)


def test_ganframe_train_epoch(benchmark, device, data_root):
    benchmark.group = "epoch: mlp/bce training, batch 64"
    trainer = make_trainer("mlp", "bce", BATCH, device, data_root)
    real, labels = next(trainer.batches.epoch(0))
    _warm(lambda: trainer.train_step(real, labels), device)
    trainer._flush()  # the warm-up's metrics, outside the timed epoch
    log_every = trainer.setup.config.log_every

    def epoch():  # Trainer._epochs' loop: metrics read every log_every steps and at the epoch's end
        for step, (real, labels) in enumerate(_limit(trainer.batches.epoch(1), benchmark), start=1):
            trainer.train_step(real, labels)
            if step % log_every == 0:
                trainer._flush()
        trainer._flush()

    ms = time_epoch(benchmark, epoch, device=device, steps=len(trainer.batches), rounds=1, warmup_rounds=0)
    record(benchmark, ("train-epoch",), impl="ganframe", ms_per_step=ms, batch_size=BATCH, device=device)
