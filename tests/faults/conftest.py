"""The fault harness's world: one small seeded sandbox and database for the whole package."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults.harness import World, prepared_world

SHM = Path("/dev/shm")  # SQLite commits in memory: the harness commits thousands of times


@pytest.fixture(scope="session")
def world() -> Iterator[World]:
    """The prepared world, in an in-memory directory where the system has one."""
    base = str(SHM) if SHM.is_dir() else None
    with tempfile.TemporaryDirectory(prefix="profroute-faults-", dir=base) as workdir, \
            prepared_world(Path(workdir)) as prepared:
        yield prepared
