"""A linkage run's scratch disk is capped (the load benchmark: DuckDB's own cap, 90% of
the free disk, let one run over millions of records fill a shared machine's disk), and a
run that needs more than its memory and scratch fails with a message saying what to raise,
not DuckDB's error."""

from __future__ import annotations

import pytest

from boldhub.errors import UserError
from boldhub.linkage.backends import DuckDBBackend
from boldhub.linkage.run import LinkOptions, run
from boldhub.privacy.agreement import LinkageTerms
from tests.support.linkage import LinkageWorld, build_linkage_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> LinkageWorld:
    return build_linkage_world(tmp_path_factory.mktemp("limits"), persons=300, seed=5)


def _run(world: LinkageWorld, memory: str, temp: str) -> int:
    options = LinkOptions(
        threshold=0.7, memory_limit=memory, temp_limit=temp, compiled_max_records=0
    )
    inputs = {f"s{i}": x for i, x in enumerate(world.inputs)}
    return run(inputs, terms=LinkageTerms(), options=options).records


def test_duckdb_gets_the_scratch_cap() -> None:
    backend = DuckDBBackend("1GB", "3GB")
    try:
        (cap,) = backend.con.execute("SELECT current_setting('max_temp_directory_size')").fetchone()
    finally:
        backend.close()
    assert cap.replace(" ", "").upper().startswith(("3.0GB", "3GB", "2.7GIB", "2.8GIB"))


def test_a_run_short_of_room_says_which_settings_to_raise(world: LinkageWorld) -> None:
    # 30 MB is too little for this run whatever it may spill (45 MB and room to spill
    # would do; too near the edge for a test).
    with pytest.raises(UserError) as refused:
        _run(world, "30MB", "0KB")
    message = str(refused.value)
    assert "BOLDHUB_DUCKDB_MEMORY_LIMIT" in message and "BOLDHUB_DUCKDB_TEMP_LIMIT" in message
    assert "30MB" in message
