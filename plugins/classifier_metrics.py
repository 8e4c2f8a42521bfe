"""The built-in ``classifier`` metric (the default of ``ganframe eval`` and ``--eval-every``).

Registered by import string through ganframe's front door, so registering
imports no torch; the implementation is :func:`ganframe.classifier_metric`.
"""

from ganframe import hookimpl


@hookimpl
def register_metrics(register):
    register(
        "classifier",
        "ganframe:classifier_metric",
        help="classes covered, class KL, confidence, Frechet distance (own classifier's features), label accuracy",
        default=True,
    )
