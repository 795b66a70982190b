#!/usr/bin/env python3
"""Crash-isolating driver for the differential fuzzer.

    python3 tests/fuzz/driver.py --cases 50000 --seed 0          # long run, chunks in subprocesses
    python3 tests/fuzz/driver.py --seed 0 --case 1234            # replay one case, verbose
    python3 tests/fuzz/driver.py --cases 2000 --family binary --op remainder

Each case is a pure function of (seed, index). Cases run in worker subprocesses, a chunk at a
time; before each library call the worker prints which case and library it starts, so when a
worker dies (segfault, abort, SIGFPE) or hangs, the driver reports that exact case (op, dtypes,
shapes, layouts, seed, index and a Python reproducer) and continues from the next index.
The summary groups mismatches by (kind, op), silent wrong values first.
"""
import argparse
import importlib.machinery
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
# Test the source tree only when it holds a built extension (an in-place build; minitorch/_C.pyi, the type
# stub, is none); otherwise the installed package, as CI does (its checkout has minitorch/ without _C, which
# would shadow it).
USE_ROOT = any(f.startswith("_C.") and f.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))
               for f in os.listdir(os.path.join(ROOT, "minitorch")))
if USE_ROOT and ROOT not in sys.path:
    sys.path.insert(1, ROOT)

KIND_ORDER = ["crash", "hang", "value", "mutated", "base", "grad", "dtype", "shape", "structure", "requires_grad",
              "inplace_identity", "missing_exception", "exception_type", "spurious_exception", "grad_exception",
              "harness"]


def _libs():
    import numpy as np  # noqa: F401
    import minitorch
    import torch
    from fuzz_exec import Lib
    torch.set_num_threads(1)
    return Lib(minitorch, "minitorch"), Lib(torch, "torch")


def _emit(obj):
    sys.stdout.write(json.dumps(obj, default=str) + "\n")
    sys.stdout.flush()


def run_one(mt, th, seed, index, family=None, op=None):
    """(case, mismatches, known) for one index; raises nothing."""
    from fuzz_cases import make_case
    from fuzz_exec import check_case
    from fuzz_known import match_known
    case = make_case(mt.mod._C._ops, seed, index, family)
    if op is not None and case["op"] != op:
        return case, None, None
    k = match_known(case)
    if k is not None:
        return case, [], k
    _, _, ms = check_case(mt, th, case, lambda lib: _emit({"start": index, "lib": lib}))
    k = match_known(case, ms) if ms else None
    return case, ms, k


def worker(args):
    mt, th = _libs()
    from fuzz_exec import describe
    crash_at = int(os.environ.get("MINITORCH_FUZZ_SELFTEST_CRASH_AT", "-1"))  # the driver's own test
    for i in range(args.start, args.end):
        if i == crash_at:
            _emit({"start": i, "lib": "minitorch"})
            os.kill(os.getpid(), signal.SIGSEGV)
        try:
            case, ms, k = run_one(mt, th, args.seed, i, args.family, args.op)
        except Exception as e:  # noqa: BLE001 - a harness error is reported, not fatal
            _emit({"i": i, "status": "harness", "mismatches": [{"kind": "harness", "detail": repr(e)}]})
            continue
        if ms is None:
            continue
        st = "known" if k else ("mismatch" if ms else "ok")
        rec = {"i": i, "status": st, "op": case["op"]}
        if ms:
            rec["mismatches"] = ms
            rec["describe"] = describe(case)
        if k:
            rec["known"] = k[0]
        _emit(rec)
    _emit({"done": args.end})


def _crash_record(seed, index, lib, why, family):
    sys.path.insert(0, HERE)
    from fuzz_cases import make_case
    from fuzz_exec import case_code, describe
    import minitorch  # the manifest only; generation is pure
    case = make_case(minitorch._C._ops, seed, index, family)
    return {"i": index, "status": "crash", "op": case["op"], "describe": describe(case),
            "mismatches": [{"kind": why, "detail": f"{why} in {lib}"}], "code": case_code(case, "minitorch")}


KNOWN_SEEN = {}  # known id -> case indices


def run_chunks(args):
    env = dict(os.environ)
    if USE_ROOT:
        env["PYTHONPATH"] = ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.setdefault("OMP_NUM_THREADS", "2")
    results = []
    t0 = time.time()
    nxt = args.start
    end = args.start + args.cases
    n_ok = n_known = 0
    while nxt < end:
        stop = min(nxt + args.chunk, end)
        cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--seed", str(args.seed), "--start", str(nxt),
               "--end", str(stop)]
        if args.family:
            cmd += ["--family", args.family]
        if args.op:
            cmd += ["--op", args.op]
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
        try:
            out, err = p.communicate(timeout=args.chunk_timeout)
            hung = False
        except subprocess.TimeoutExpired:
            p.kill()
            out, err = p.communicate()
            hung = True
        last_start, last_lib, done = None, None, False
        for line in out.splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "start" in rec:
                last_start, last_lib = rec["start"], rec["lib"]
            elif "done" in rec:
                done = True
            else:
                if rec["status"] == "ok":
                    n_ok += 1
                elif rec["status"] == "known":
                    n_known += 1
                    for kid in rec.get("known", "").split("+"):
                        KNOWN_SEEN.setdefault(kid, []).append(rec["i"])
                    if args.show_known:
                        results.append(rec)
                else:
                    results.append(rec)
        if done:
            nxt = stop
            continue
        if last_start is None:
            sys.stderr.write(f"worker failed before any case (rc {p.returncode}):\n{err[-3000:]}\n")
            return results, n_ok, n_known
        why = "hang" if hung else "crash"
        rc = p.returncode
        sig = -rc if rc is not None and rc < 0 else None
        rec = _crash_record(args.seed, last_start, last_lib, why, args.family)
        rec["mismatches"][0]["detail"] += (f" (signal {signal.Signals(sig).name})" if sig else f" (rc {rc})")
        rec["mismatches"][0]["detail"] += (" | stderr: " + err.strip().splitlines()[-1][:200]) if err.strip() else ""
        results.append(rec)
        sys.stderr.write(f"\n!! {why} at case {last_start} in {last_lib}: {rec['describe']}\n")
        sys.stderr.flush()
        nxt = last_start + 1
        if args.progress:
            sys.stderr.write(f"  ... {nxt - args.start}/{args.cases} cases, {time.time() - t0:.0f}s\n")
    return results, n_ok, n_known


def _norm_msg(m, n=70):
    import re
    m = re.sub(r"\[[^\]]*\]|\([^)]*\)|\d+|\"[^\"]*\"|'[^']*'", "#", m)
    return m[:n]


def signature(kind, op, detail):
    """A grouping key: exception mismatches group across ops by their (normalized) messages."""
    if kind in ("missing_exception", "spurious_exception"):
        return _norm_msg(detail)
    if kind == "exception_type":
        a, _, b = detail.partition(" | torch raised ")
        return _norm_msg(a.replace("minitorch raised ", "mt "), 50) + " | torch " + _norm_msg(b, 50)
    if kind == "grad_exception":
        return op + ": " + _norm_msg(detail, 90)
    if kind == "dtype":
        return f"{op}: {detail.split(': ', 1)[-1]}"
    return op


def summarize(results, n_ok, n_known, total, elapsed, out=sys.stdout, examples=2):
    groups = {}
    for rec in results:
        seen = set()
        for m in rec.get("mismatches", []):
            key = (m["kind"], signature(m["kind"], rec.get("op"), m["detail"]))
            if key in seen:
                continue
            seen.add(key)
            g = groups.setdefault(key, {"count": 0, "examples": [], "ops": {}})
            g["count"] += 1
            g["ops"][rec.get("op")] = g["ops"].get(rec.get("op"), 0) + 1
            if len(g["examples"]) < examples:
                det = m["detail"]
                if rec.get("code"):
                    det += "\n      reproducer: " + "; ".join(rec["code"])
                g["examples"].append((rec["i"], rec.get("describe", ""), det))
    bad = sum(1 for r in results if r["status"] not in ("known",))
    if KNOWN_SEEN:
        out.write("\nknown (xfail) mismatches by entry: cases, first indices\n")
        for kid, idx in sorted(KNOWN_SEEN.items(), key=lambda kv: -len(kv[1])):
            out.write(f"  {kid:40s} {len(idx):6d}   {idx[:4]}\n")
    out.write(f"\n{total} cases in {elapsed:.1f}s: {n_ok} ok, {n_known} known, {bad} with mismatches, "
              f"{len(groups)} (kind, op) groups\n")
    order = {k: i for i, k in enumerate(KIND_ORDER)}
    for (kind, op), g in sorted(groups.items(), key=lambda kv: (order.get(kv[0][0], 99), kv[0][1] or "")):
        ops = ", ".join(f"{k}:{v}" for k, v in sorted(g["ops"].items(), key=lambda kv: -kv[1])[:12])
        out.write(f"\n[{kind}] {op}: {g['count']} case(s) [{ops}]\n")
        for i, d, det in g["examples"]:
            out.write(f"   #{i} {d}\n      {det[:400] if 'reproducer' not in det else det}\n")
    return groups


def replay(args):
    import numpy as np  # noqa: F401
    mt, th = _libs()
    from fuzz_cases import make_case
    from fuzz_exec import case_code, check_case, describe
    from fuzz_known import match_known
    case = make_case(mt.mod._C._ops, args.seed, args.case, args.family)
    print(describe(case))
    print(json.dumps(case, default=str))
    print("\n# reproducer (import numpy as np; import minitorch):")
    print("\n".join(case_code(case, "minitorch")))
    print("\n# torch:")
    print("\n".join(case_code(case, "torch")))
    sys.stdout.flush()
    got, want, ms = check_case(mt, th, case)
    print("\nminitorch:", got)
    print("torch:    ", want)
    print("\nmismatches:", json.dumps(ms, indent=1, default=str))
    print("known:", match_known(case, ms) if ms else None)


def main():
    from fuzz_cases import FAMILIES
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--start", type=int, default=0, help="first case index")
    ap.add_argument("--chunk", type=int, default=2000, help="cases per worker subprocess")
    ap.add_argument("--chunk-timeout", type=float, default=600)
    ap.add_argument("--family", choices=[f[0] for f in FAMILIES])
    ap.add_argument("--op", help="only cases of this op (others are generated and skipped)")
    ap.add_argument("--case", type=int, help="replay one case index in-process, verbosely")
    ap.add_argument("--json", help="write every mismatching case here")
    ap.add_argument("--show-known", action="store_true", help="list known (xfail) cases too")
    ap.add_argument("--examples", type=int, default=2)
    ap.add_argument("--progress", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--end", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)
    if args.case is not None:
        return replay(args)
    t0 = time.time()
    results, n_ok, n_known = run_chunks(args)
    groups = summarize(results, n_ok, n_known, args.cases, time.time() - t0, examples=args.examples)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, default=str, indent=1)
    return 1 if groups else 0


if __name__ == "__main__":
    sys.exit(main())
