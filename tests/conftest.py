"""Shared fixtures: one small end-to-end demo run, reused by the tests that inspect it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from boldhub.demo import DemoResult, run_demo

# Every log line of the run is scanned for tokens, passwords and identifiers.
pytest_plugins = ["tests.support.log_scan"]

SMALL_PERSONS = 1500
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, DemoResult]]:
    out = tmp_path_factory.mktemp("demo") / "run"
    result = run_demo(out, seed=SMALL_SEED, persons=SMALL_PERSONS, councils=3)
    yield out, result


def _hypothesis_profiles() -> None:
    """Hypothesis in CI (which sets CI=true): the "ci" profile draws the same examples on
    every run, so a red build is the code's doing, never the draw's; locally the draws
    vary, and a failure found is replayed from .hypothesis until it is fixed."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    if os.environ.get("CI"):
        settings.load_profile("ci")


_hypothesis_profiles()
