"""How the command-line tools use their process: no cyclic garbage collection while they import
and run, and a frozen heap at exit.

The SDK modules leave ~300k long-lived objects; CPython's collector walks them again and again
while the program imports and runs (and once more at exit), which costs a large share of a
preview's CPU for memory the process keeps anyway. A preview allocates little cyclic garbage
(peak memory moves by about 1%), and its output is byte-identical either way
(tests/test_bench.py runs the CLI both ways and compares every artifact). `make bench`'s
baseline runs through `run_command` too, so its ratio compares like with like.
"""

from __future__ import annotations

import gc
import sys
from typing import Callable, NoReturn


def run_command(main: Callable[[], int]) -> NoReturn:
    """Run a command-line `main` with the cyclic collector off, then `exit_process` its code."""
    gc.disable()
    exit_process(main())


def exit_process(code: int) -> NoReturn:
    """End a command-line run with `code`, the heap frozen first.

    At exit CPython runs full collections over every object left (even with the collector
    disabled); frozen objects are skipped. stdio is flushed and atexit handlers run as usual.
    """
    gc.freeze()
    sys.exit(code)
