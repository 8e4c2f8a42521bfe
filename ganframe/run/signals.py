"""SIGINT and SIGTERM during training: finish the step, checkpoint, exit 130 / 143.

The first signal only asks the engine to stop (``state.request_stop``): the
current step completes, the engine's ordinary stop path writes a checkpoint
(the run directory's train-end hook), and the CLI prints where it is and how
to resume, exiting with 128 + the signal number as shells do. A second SIGINT
raises ``KeyboardInterrupt`` at once; since every file ganframe writes goes
to a temporary file that is renamed into place, stopping anywhere leaves the
previous checkpoint intact. A repeated SIGTERM is ignored: the stop is under
way, and schedulers follow up with SIGKILL when they must.

Under torchrun each worker gets the signal from the launcher (workers run in
their own session, so a Ctrl-C reaches them once); the ranks agree on the
stop at their next metrics read (:mod:`ganframe.train.engine`).

Handlers are installed only while training runs, only from the main thread,
and the previous handlers are put back afterwards.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

#: the process exit code for a run stopped by each signal
EXIT_CODES = {"SIGINT": 130, "SIGTERM": 143}
#: a hard interrupt (second SIGINT) exits as SIGINT does
INTERRUPTED_EXIT_CODE = 130


@contextlib.contextmanager
def stop_on_signals(state, stream=None) -> Iterator[None]:
    """While the block runs, SIGINT / SIGTERM request a clean stop of ``state``'s run."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    stream = stream or sys.stderr
    received: list[str] = []

    def handle(signum, frame):
        name = signal.Signals(signum).name
        if not received:
            received.append(name)
            state.request_stop(name)
            if state.is_main_process:
                stream.write(
                    f"\n{name} received: stopping after the current step and writing a checkpoint"
                    + (" (press Ctrl-C again to quit at once)." if signum == signal.SIGINT else ".")
                    + "\n"
                )
                stream.flush()
        elif signum == signal.SIGINT:
            raise KeyboardInterrupt

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
