"""Train one run (default: 5 epochs, the model's batch, MNIST) with training levers ganframe has no option
for, to reproduce the exploration rows of docs/quality.md; score the result with ``ganframe eval``.

    GANFRAME_DATA=/path/to/data OMP_NUM_THREADS=1 python scripts/quality_levers.py runs/levers/c2-decay \\
        --model cgan --seed 2 --lr-decay --model-option projection=false
    ganframe eval runs/levers/c2-decay --weights ema        # or --weights trained
    OMP_NUM_THREADS=1 python scripts/quality_levers.py runs/levers/ring-g0 --dataset ring --epochs 20 --g-dropout 0

The levers are a lifecycle plugin (the way a user would add them): ``--lr-decay`` lowers both
learning rates linearly to 0 over the run, ``--g-dropout`` / ``--d-dropout`` set every dropout
layer of G / D, ``--d-lr-scale`` multiplies D's learning rate. Everything else is a normal run
setting (model defaults apply unless given).
"""

from __future__ import annotations

import argparse
import os

import torch

from ganframe import hookimpl
from ganframe.config import RunConfig, parse_key_values
from ganframe.plugin.manager import get_plugins
from ganframe.run.runner import train


class Levers:
    def __init__(self, args: argparse.Namespace):
        self.args = args
        self.base_lrs: list[list[float]] = []

    def _optimizers(self, state):
        return state.g_optimizer, state.d_optimizer

    @hookimpl
    def on_train_start(self, state):
        for network, p in ((state.generator, self.args.g_dropout), (state.discriminator, self.args.d_dropout)):
            if p is not None:
                for module in network.modules():
                    if isinstance(module, torch.nn.Dropout):
                        module.p = p
        for group in state.d_optimizer.param_groups:
            group["lr"] *= self.args.d_lr_scale
        self.base_lrs = [[g["lr"] for g in o.param_groups] for o in self._optimizers(state)]

    @hookimpl
    def on_step_end(self, state):
        if not self.args.lr_decay:
            return
        left = 1.0 - state.step / state.total_steps
        for optimizer, base in zip(self._optimizers(state), self.base_lrs):
            for group, lr in zip(optimizer.param_groups, base):
                group["lr"] = lr * left


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out")
    parser.add_argument("--model", default="mlp")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--loss")
    parser.add_argument("--generator", help="generator name (default: --model's)")
    parser.add_argument("--discriminator", help="discriminator name (default: --model's)")
    parser.add_argument("--sample-mode", default="eval")
    parser.add_argument("--dataset", default="mnist")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, help="default: the model's (64, mlp-small 100)")
    parser.add_argument("--lr", type=float)
    parser.add_argument("--beta1", type=float)
    parser.add_argument("--dataset-option", action="append", default=[])
    parser.add_argument("--g-ema", type=float)
    parser.add_argument("--latent-dim", type=int)
    parser.add_argument("--model-option", action="append", default=[])
    parser.add_argument("--lr-decay", action="store_true", help="lower both learning rates linearly to 0")
    parser.add_argument("--g-dropout", type=float, help="dropout probability of every dropout layer in G")
    parser.add_argument("--d-dropout", type=float, help="dropout probability of every dropout layer in D")
    parser.add_argument("--d-lr-scale", type=float, default=1.0, help="multiply D's learning rate")
    args = parser.parse_args()
    config = RunConfig(
        model=args.model,
        generator=args.generator,
        discriminator=args.discriminator,
        sample_mode=args.sample_mode,
        loss=args.loss,
        g_ema=args.g_ema,
        epochs=args.epochs,
        batch_size=args.batch_size,
        latent_dim=args.latent_dim,
        lr=args.lr,
        beta1=args.beta1,
        seed=args.seed,
        out=args.out,
        dataset=args.dataset,
        data_root=os.environ.get("GANFRAME_DATA"),
        model_options=parse_key_values(args.model_option, "--model-option"),
        dataset_options=parse_key_values(args.dataset_option, "--dataset-option"),
    )
    train(config, get_plugins(), extra_plugins=[Levers(args)])


if __name__ == "__main__":
    main()
