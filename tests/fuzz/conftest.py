"""Options of the differential fuzzer (test_differential.py).

    cd tests && python3 -m pytest -q fuzz/                          # default: 3000 cases, seed 0
    cd tests && python3 -m pytest -q fuzz/ --fuzz-cases 50000 --fuzz-seed 7
    MINITORCH_FUZZ_CASES=50000 MINITORCH_FUZZ_SEED=7 python3 -m pytest -q tests/

pytest reads options only from conftest files it loads at startup: this one when tests/fuzz
(or a file in it) is named on the command line. When the whole tests/ directory runs, the
command-line options are unknown to pytest, so use the environment variables instead
(MINITORCH_FUZZ_CASES, MINITORCH_FUZZ_SEED, MINITORCH_FUZZ_START); they work everywhere, and the
command-line options win where both are given.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from fuzz_options import DEFAULT_CASES, fuzz_settings  # noqa: E402,F401


def pytest_addoption(parser):
    group = parser.getgroup("fuzz", "minitorch differential fuzzer")
    group.addoption("--fuzz-cases", type=int, default=None,
                    help=f"cases to run (default {DEFAULT_CASES}, or $MINITORCH_FUZZ_CASES)")
    group.addoption("--fuzz-seed", type=int, default=None, help="fuzz seed (default 0, or $MINITORCH_FUZZ_SEED)")
    group.addoption("--fuzz-start", type=int, default=None, help="first case index (default 0, or $MINITORCH_FUZZ_START)")


