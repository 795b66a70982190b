"""Helpers shared by the benchmark scripts: best-of-N timing and the printed table."""
import time


def bench(fn, number, repeat, sync=None):
    """Best-of-`repeat` seconds per call over loops of `number` calls (after a warmup); sync, when
    given, waits for queued work (a GPU's) at the end of the warmup and of each loop."""
    for _ in range(max(1, number // 10)):
        fn()
    if sync:
        sync()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        if sync:
            sync()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def print_table(header, rows):
    """A Markdown table with padded columns."""
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]

    def fmt(r):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |"

    print(fmt(header))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print(fmt(r))
