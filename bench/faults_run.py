"""The fault harness's longer run: 2,000 seeded schedules of faults and ``kill -9`` against
the Moodle sandbox, each followed by a rerun without faults, with the invariants checked.

    .venv/bin/python bench/faults_run.py --schedules 2000

The same mix as the 200 schedules of ``make test`` (tests/faults/campaign.py): two pushes
for every sync in-process, one ``kill -9`` of a ``profroute`` process (push and sync in
turn) per 50 schedules. Prints the schedules by stage, the faults injected by kind, what was
lost, doubled or left uncertain, and every failing schedule with its seed.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from faults.campaign import Tally, run_all  # noqa: E402 - needs the paths above
from faults.harness import prepared_world  # noqa: E402


def _print(tally: Tally, seconds: float, cpu: float) -> None:
    total = sum(tally.schedules.values())
    print(f"schedules: {total} in {seconds:.0f} s ({seconds / total:.2f} s each; this "
          f"process's CPU {cpu:.0f} s)")
    for stage, count in sorted(tally.schedules.items()):
        print(f"  {stage}: {count}")
    print(f"faults injected: {sum(tally.injected.values())}")
    for mode, count in sorted(tally.injected.items()):
        print(f"  {mode}: {count}")
    print("  ".join(f"{name}: {count}" for name, count in tally.figures.items()))
    for failure in tally.failures:
        print(f"FAILED {failure}")


def main(argv: list[str] | None = None) -> int:
    """Run the schedules; exit 1 when any lost, doubled or changed something."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=2000)
    parser.add_argument("--first-seed", type=int, default=0)
    args = parser.parse_args(argv)
    logging.disable(logging.WARNING)  # each injected fault logs a warning by design
    base = "/dev/shm" if Path("/dev/shm").is_dir() else None
    with tempfile.TemporaryDirectory(prefix="profroute-faults-", dir=base) as workdir, \
            prepared_world(Path(workdir)) as world:
        started, cpu = time.monotonic(), time.process_time()
        tally = run_all(world, args.schedules, args.first_seed)
        _print(tally, time.monotonic() - started, time.process_time() - cpu)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
