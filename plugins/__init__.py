"""ganframe's built-in plugins (installed as ``ganframe_builtins``).

One module per family, each registering its components through the same
hooks a third-party plugin uses (see ``ganframe.plugin.spec``). Registration
imports no torch: factories import it when a run builds the component.
"""
