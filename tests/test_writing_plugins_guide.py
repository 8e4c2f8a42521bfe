"""docs/writing-plugins.md stays true: it documents exactly the hooks ganframe has, with their
arguments, and the plugin it walks through builds, installs, loads cleanly and passes its tests."""

import inspect
import json
import os
import re
import subprocess
import sys

from ganframe.plugin import spec as hookspecs
from tests.conftest import REPO

GUIDE = REPO / "docs" / "writing-plugins.md"
HOOK_HEADING = re.compile(r"^#{2,6} `(\w+)\(([^)]*)\)`\s*$", re.MULTILINE)
FILE_BLOCK = re.compile(r"^```\w*\n# file: (\S+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def hook_specs() -> dict[str, list[str]]:
    """Every hook spec ganframe declares, with its arguments."""
    marker = f"{hookspecs.PROJECT_NAME}_spec"
    return {
        name: list(inspect.signature(function).parameters)
        for name, function in vars(hookspecs).items()
        if callable(function) and hasattr(function, marker)
    }


def documented_hooks() -> dict[str, list[str]]:
    text = GUIDE.read_text()
    return {name: [a.strip() for a in args.split(",") if a.strip()] for name, args in HOOK_HEADING.findall(text)}


def test_every_hook_is_documented_with_its_arguments_and_every_documented_hook_exists():
    specs, documented = hook_specs(), documented_hooks()
    assert len(specs) >= 10, "the spec parser found too few hooks"
    assert sorted(set(specs) - set(documented)) == [], "hooks missing from the guide"
    assert sorted(set(documented) - set(specs)) == [], "the guide documents hooks that do not exist"
    assert {name: args for name, args in documented.items()} == specs, "documented arguments differ from the specs"


def test_the_readme_links_the_guide():
    assert "(docs/writing-plugins.md)" in (REPO / "README.md").read_text()


def test_the_tutorial_plugin_builds_installs_loads_and_passes_its_own_tests(tmp_path):
    package = tmp_path / "ganframe-tutorial"
    files = FILE_BLOCK.findall(GUIDE.read_text())
    assert {path for path, _ in files} >= {"pyproject.toml", "tests/test_tutorial.py"}
    for path, text in files:
        (package / path).parent.mkdir(parents=True, exist_ok=True)
        (package / path).write_text(text)
    site = tmp_path / "site"
    install = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(site),
            str(package),
        ],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    env = {k: v for k, v in os.environ.items() if not k.startswith("GANFRAME_")}
    env.update(PYTHONPATH=str(site), GANFRAME_STRICT_PLUGINS="1")  # as the guide's CI advice says

    listing = subprocess.run(
        [sys.executable, "-m", "ganframe", "plugins", "--json"], capture_output=True, text=True, env=env
    )
    assert listing.returncode == 0, listing.stderr
    document = json.loads(listing.stdout)
    [plugin] = [p for p in document["plugins"] if p["distribution"] == "ganframe-tutorial"]
    assert (plugin["name"], plugin["version"], plugin["status"]) == ("tutorial", "0.1.0", "loaded")
    assert "tiny" in document["models"] and document["problems"] == []

    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        capture_output=True,
        text=True,
        env=env,
        cwd=package,
    )
    assert tests.returncode == 0, tests.stdout[-4000:] + tests.stderr[-2000:]
    assert "7 passed" in tests.stdout
