"""The TensorBoard logger: ``ganframe run --logger tensorboard`` (the saturating vs non-saturating loss tutorial's way to watch training).

Writes ``<run>/tensorboard/events.out.tfevents.*``: every metrics read as
scalars (``loss/d_loss``, ``loss/g_loss``, ``D/D(x)``, ``D/D(G(z))``, and the
``eval/...`` figures of ``--eval-every``) against the step, and the fixed-noise
sample grid as an image before training and after every epoch. View with
``tensorboard --logdir runs``.

TensorBoard is an optional extra (``pip install "ganframe[tensorboard]"``):
registering this logger imports nothing; the factory checks the import and
raises a one-sentence UsageError when it is missing, before any file exists.
"""

from ganframe import hookimpl

INSTALL_HINT = 'pip install "ganframe[tensorboard]"'

#: metric key -> TensorBoard tag (other keys, such as eval/..., are used as they are)
TAGS = {"d_loss": "loss/d_loss", "g_loss": "loss/g_loss", "D(x)": "D/D(x)", "D(G(z))": "D/D(G(z))"}


@hookimpl
def register_loggers(register):
    register(
        "tensorboard",
        tensorboard_logger,
        help=f"TensorBoard scalars and sample grids in <run>/tensorboard ({INSTALL_HINT})",
    )


def tensorboard_logger(run_dir, config):
    """TensorBoard scalars and sample grids in <run>/tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        from ganframe import UsageError

        raise UsageError(
            f"--logger tensorboard needs the TensorBoard package, which is not installed; install it with: {INSTALL_HINT}"
        ) from None
    return TensorBoardLogger(run_dir, SummaryWriter)


class TensorBoardLogger:
    """Per-run plugin; opens its writer at train start so a rejected run writes nothing."""

    def __init__(self, run_dir, writer_class):
        from pathlib import Path

        self.log_dir = Path(run_dir) / "tensorboard"
        self.writer_class = writer_class
        self.writer = None

    @hookimpl
    def on_train_start(self, state):
        if not state.is_main_process:
            return
        self.writer = self.writer_class(log_dir=str(self.log_dir))
        if state.step == 0:
            self._add_samples(state, epoch=0)

    @hookimpl
    def on_metrics(self, state, metrics):
        if self.writer is None:
            return
        for key, value in metrics.items():
            if key not in ("step", "epoch") and value is not None:  # None: every step of the window was skipped
                self.writer.add_scalar(TAGS.get(key, key), value, global_step=metrics["step"])

    @hookimpl
    def on_epoch_end(self, state):
        if self.writer is not None:
            self._add_samples(state, epoch=state.epoch)
            self.writer.flush()

    @hookimpl
    def on_train_end(self, state):
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    def _add_samples(self, state, epoch: int) -> None:
        """The fixed-noise grid (10 per row) as image ``samples``, with the epoch as its step."""
        from ganframe import image_grid, is_image_shape

        if not is_image_shape(tuple(state.model_spec.sample_shape)):
            return  # 2-D points: see the scatter plots in samples/
        # sample_grid leaves the RNG as it was for the plugins called after this one (the run's own grid)
        self.writer.add_image("samples", image_grid(state.sample_grid(), nrow=10), global_step=epoch)
