"""Gradient penalties: ``r1`` (on real data) and ``r2`` (on generated data).

Both penalise D's squared input-gradient norm, ``gamma / 2 * E ||grad_x D(x)||^2``
(Mescheder et al., 2018, "Which training methods for GANs do actually
converge?"): R1 on the real batch, R2 on the fake one. They ask the step for
gradients on D's input (``real_input_grad`` / ``fake_input_grad``), so the
penalty differentiates the logits D already computed, with no extra forward.

Options (``--regularizer-option r1.gamma=10``): ``gamma`` (10) and
``interval`` (1). With ``interval=16`` the penalty is lazy, as in StyleGAN2:
added on every 16th D update only, multiplied by 16. Nothing here imports
torch at registration.
"""

from ganframe import hookimpl


@hookimpl
def register_regularizers(register):
    register("r1", R1, help="gradient penalty on real data: gamma/2 |grad D(x)|^2 (options gamma=10, interval=1)")
    register("r2", R2, help="gradient penalty on fake data: gamma/2 |grad D(G(z))|^2 (options gamma=10, interval=1)")


class R1:
    """R1: gamma/2 * mean squared norm of D's gradient on the real batch (lazily every ``interval`` D updates)."""

    network = "discriminator"
    real_input_grad = True
    on = "real"

    def __init__(self, spec):
        from ganframe import UsageError

        self.gamma = spec.options.get("gamma", 10.0)
        self.interval = spec.options.get("interval", 1)
        name = type(self).__name__.lower()
        if self.gamma < 0:
            raise UsageError(
                f"--regularizer-option {name}.gamma={self.gamma} must be 0 or more (Mescheder et al. use 10)."
            )
        if self.interval < 1:
            raise UsageError(
                f"--regularizer-option {name}.interval={self.interval} must be a whole number >= 1 "
                "(1: every D update; StyleGAN2's lazy regularisation uses 16)."
            )

    def penalty(self, inputs):
        import torch

        x, logits = (inputs.real, inputs.real_logits) if self.on == "real" else (inputs.fake, inputs.fake_logits)
        (gradients,) = torch.autograd.grad(logits.sum(), x, create_graph=True)
        return self.gamma / 2 * gradients.flatten(start_dim=1).float().square().sum(dim=1).mean()


class R2(R1):
    """R2: gamma/2 * mean squared norm of D's gradient on the fake batch (lazily every ``interval`` D updates)."""

    real_input_grad = False
    fake_input_grad = True
    on = "fake"
