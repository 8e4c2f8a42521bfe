"""Training steps: ``two-phase`` (the default) and ``n-critic``.

A step is a schedule of phases (:class:`ganframe.Phase`); see
``register_steps`` in the hook specs. Nothing here imports torch.
"""

from ganframe import hookimpl


@hookimpl
def register_steps(register):
    register("two-phase", two_phase, help="one D update then one G update per batch (the classic loop)")
    register("n-critic", n_critic, help="D updated on every batch, G on every n-th (--step-option n=5; WGAN-GP)")


def two_phase(spec):
    """One D update then one G update per batch (the classic loop)."""
    from ganframe import Phase

    return [Phase("D", "discriminator"), Phase("G", "generator")]


def n_critic(spec):
    """D (the critic) updated on every batch, G once every n batches: n critic updates per G update."""
    from ganframe import Phase, UsageError

    n = spec.options.get("n", 5)
    if n < 1:
        raise UsageError(
            f"--step-option n={n} must be a whole number >= 1 (critic updates per G update; WGAN-GP uses 5)."
        )
    return [Phase("D", "discriminator"), Phase("G", "generator", interval=n)]
