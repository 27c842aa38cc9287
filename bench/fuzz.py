"""Longer hostile-input search than CI's: schemathesis over every API operation
and Hypothesis over the validator, randomised, with many more examples.

    .venv/bin/python -m bench.fuzz --examples 300

Runs the same tests as CI (tests/reliability/test_api_fuzz.py and
test_validation_properties.py) in-process against the real WSGI application
and the test database (DATABASE_URL as for `make test`); prints the pytest
summary and exits non-zero on any 5xx or schema violation found.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TESTS = ["tests/reliability/test_api_fuzz.py", "tests/reliability/test_validation_properties.py",
         "tests/reliability/test_hostile_input.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=300,
                        help="examples per API operation (CI uses 15)")
    parser.add_argument("--repeatable", action="store_true",
                        help="derandomised (the same examples every run), as in CI")
    args = parser.parse_args()
    env = {**os.environ, "FUZZ_MAX_EXAMPLES": str(args.examples),
           "FUZZ_RANDOM": "0" if args.repeatable else "1"}
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TESTS],
        cwd=ROOT, env=env,
    )
    print(f"fuzz: {args.examples} examples per operation, {time.monotonic() - started:.0f} s, "
          f"exit {result.returncode}")
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
