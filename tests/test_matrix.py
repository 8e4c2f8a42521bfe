"""Every built-in model trains with every built-in loss on real MNIST, with finite losses."""

import io
import math

import pytest

from ganframe.config import RunConfig
from ganframe.run.runner import train

MODELS = ["mlp", "cgan", "mlp-small", "batchnorm"]
LOSSES = ["bce", "bce-smooth", "minimax"]


@pytest.mark.parametrize("loss", LOSSES)
@pytest.mark.parametrize("model", MODELS)
def test_model_trains_with_loss_on_mnist(plugin_set, mnist_root, tmp_path, model, loss):
    config = RunConfig(
        model=model, loss=loss, data_root=str(mnist_root), max_steps=6, log_every=3, seed=0, out=str(tmp_path / "run")
    )
    state = train(config, plugin_set, stream=io.StringIO(), interactive=False)
    assert state.step == 6 and state.stop_reason == "max_steps"
    assert [row["step"] for row in state.history] == [3, 6]
    for row in state.history:
        for key in ("d_loss", "g_loss", "D(x)", "D(G(z))"):
            assert math.isfinite(row[key]), (key, row)
    assert state.history[0] != state.history[1], "the losses should move as the networks train"
