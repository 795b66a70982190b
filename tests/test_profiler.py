"""minitorch.profiler / autograd.profiler against torch.profiler where the behaviour is deterministic (schedules,
which regions are counted, the table's layout, when on_trace_ready runs, warnings), plus minitorch.random,
minitorch.version and testing.assert_allclose."""
import json
import os
import time
import warnings

import numpy as np
import pytest

import minitorch
import minitorch.profiler as mprof
from minitorch.profiler import ProfilerActivity, profile, record_function

torch = pytest.importorskip("torch")
import torch.profiler as tprof  # noqa: E402


def _table_rows(table):
    """{name: # of calls} of a profiler table."""
    lines = table.strip().split("\n")
    assert lines[0].startswith("---") and "Name" in lines[1] and "# of Calls" in lines[1]
    assert lines[-1].startswith("Self CPU time total: ")
    rows = {}
    for line in lines[3:-2]:
        parts = line.split()
        rows[" ".join(parts[:-6])] = int(parts[-1])
    return rows


def _run(lib, prof_mod):
    model = lib.nn.Sequential(lib.nn.Linear(4, 4), lib.nn.ReLU())
    x = lib.randn(2, 4)
    with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU], record_shapes=True) as prof:
        with prof_mod.record_function("model_inference"):
            for _ in range(3):
                with prof_mod.record_function("step"):
                    model(x)
    return prof


def test_table_counts_and_layout():
    mp = _run(minitorch, mprof)
    tp = _run(torch, tprof)
    mrows = _table_rows(mp.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    trows = _table_rows(tp.key_averages().table(sort_by="cpu_time_total", row_limit=10))
    for name in ("model_inference", "step"):
        assert mrows[name] == trows[name]
    assert mrows["nn.Module: Sequential"] == 3 and mrows["nn.Module: Linear"] == 3
    # the header / separator lines have torch's layout (name column sized to the longest name + 4)
    table = mp.key_averages().table(sort_by="self_cpu_time_total", row_limit=2)
    lines = table.split("\n")
    width = max(len(k) for k in mrows) + 4
    assert lines[0] == "-" * width + "  " + "  ".join(["-" * 12] * 6) + "  "
    assert lines[1] == "Name".rjust(width) + "  " + "  ".join(
        h.rjust(12) for h in ["Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg",
                              "# of Calls"]) + "  "
    assert len(lines) == 8  # 3 header lines, 2 rows, separator, total, ''


def test_times_nest_and_sort():
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        with record_function("outer"):
            time.sleep(0.001)
            with record_function("inner"):
                time.sleep(0.03)  # inner's self time is far the larger, even on a loaded machine
    avg = {e.key: e for e in prof.key_averages()}
    outer, inner = avg["outer"], avg["inner"]
    assert inner.cpu_time_total >= 30000 and outer.cpu_time_total >= inner.cpu_time_total + 1000
    assert abs(outer.self_cpu_time_total - (outer.cpu_time_total - inner.cpu_time_total)) < 1e-6
    assert inner.count == outer.count == 1 and inner.cpu_time == inner.cpu_time_total
    rows = list(_table_rows(prof.key_averages().table(sort_by="self_cpu_time_total")))
    assert rows == ["inner", "outer"]
    ev = prof.events()
    assert [e.name for e in ev] == ["outer", "inner"] and ev[1].cpu_parent is ev[0]


def test_record_function_decorator_and_outside_profiler():
    @record_function("decorated")
    def f(x):
        return x * 2

    assert f(3) == 6  # no profiler: nothing recorded, no error
    with profile() as prof:
        for _ in range(4):
            f(1)
    assert {e.key: e.count for e in prof.key_averages()} == {"decorated": 4}


def _schedule_run(prof_mod, **sched):
    calls = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with prof_mod.profile(activities=[prof_mod.ProfilerActivity.CPU], schedule=prof_mod.schedule(**sched),
                              on_trace_ready=lambda p: calls.append(
                                  (p.step_num, sorted((e.key, e.count) for e in p.key_averages()))))as p:
            for i in range(8):
                with prof_mod.record_function(f"it{i}"):
                    pass
                p.step()
    return calls


@pytest.mark.parametrize("sched", [dict(wait=1, warmup=1, active=2, repeat=1),
                                   dict(wait=0, warmup=1, active=1, repeat=2, skip_first=1),
                                   dict(wait=1, warmup=0, active=2)])
def test_schedule_matches_torch(sched):
    for step in range(12):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert mprof.schedule(**sched)(step).name == tprof.schedule(**sched)(step).name
    assert _schedule_run(mprof, **sched) == _schedule_run(tprof, **sched)


def test_schedule_errors_and_warnings():
    with pytest.raises(AssertionError, match="Invalid profiler schedule arguments"):
        mprof.schedule(wait=1, warmup=1, active=0)
    with pytest.warns(UserWarning, match="Profiler won't be using warmup"):
        mprof.schedule(wait=1, warmup=0, active=1)
    if not minitorch.cuda.is_available():
        with pytest.warns(UserWarning, match="CUDA is not available, disabling CUDA profiling"):
            p = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
        assert p.activities == {ProfilerActivity.CPU} == mprof.supported_activities()
    else:
        p = profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA])
        assert p.activities == {ProfilerActivity.CPU, ProfilerActivity.CUDA} == mprof.supported_activities()
    assert str(ProfilerActivity.CPU) == str(tprof.ProfilerActivity.CPU)
    if not minitorch.cuda.is_available() and not torch.cuda.is_available():
        for mod in (mprof, tprof):  # a CUDA-only profile without CUDA has nothing to record
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(AssertionError, match="No activities specified for the profiler"):
                    with mod.profile(activities=[mod.ProfilerActivity.CUDA]):
                        pass


def test_chrome_trace_and_tensorboard_handler(tmp_path):
    with profile() as prof:
        with record_function("region"):
            pass
    path = tmp_path / "trace.json"
    prof.export_chrome_trace(str(path))
    doc = json.loads(path.read_text())
    (evt,) = [e for e in doc["traceEvents"] if e["name"] == "region"]
    assert evt["ph"] == "X" and evt["cat"] == "user_annotation" and evt["dur"] >= 0 and evt["pid"] == os.getpid()
    out = tmp_path / "tb"
    with profile(schedule=mprof.schedule(wait=0, warmup=1, active=1, repeat=2),
                 on_trace_ready=mprof.tensorboard_trace_handler(str(out), worker_name="w")) as p:
        for _ in range(5):
            p.step()
    files = sorted(os.listdir(out))
    assert len(files) == 2 and all(f.startswith("w.") and f.endswith(".pt.trace.json") for f in files)
    names = {e["name"] for e in json.loads((out / files[0]).read_text())["traceEvents"]}
    assert names == {"ProfilerStep#1"}


def test_legacy_autograd_profiler():
    assert minitorch.autograd.profiler.record_function is record_function
    with minitorch.autograd.profiler.profile() as ap:
        with record_function("old"):
            pass
    assert _table_rows(ap.key_averages().table(row_limit=3)) == {"old": 1}
    assert "old" in ap.table()
    with pytest.raises(RuntimeError, match="Profiler didn't finish running"):
        minitorch.autograd.profiler.profile().key_averages()


def test_random_version_testing():
    import minitorch.random as mrandom

    mrandom.manual_seed(5)
    assert mrandom.initial_seed() == 5
    a = minitorch.rand(3)
    mrandom.manual_seed(5)
    with mrandom.fork_rng():
        minitorch.rand(10)
    assert minitorch.rand(3).tolist() == a.tolist()  # the fork restored the state the seed gave
    state = mrandom.get_rng_state()
    b = minitorch.rand(2)
    mrandom.set_rng_state(state)
    assert minitorch.rand(2).tolist() == b.tolist()
    s = mrandom.seed()
    assert mrandom.initial_seed() == s
    if minitorch.cuda._cuda is None:  # built without CUDA
        assert minitorch.version.cuda is None
    else:
        assert isinstance(minitorch.version.cuda, str)
    assert minitorch.version.__version__ == minitorch.__version__
    with pytest.warns(FutureWarning, match="assert_allclose\\(\\)` is deprecated"):
        minitorch.testing.assert_allclose(minitorch.ones(2), [1.0, 1.00001])
    for lib in (torch, minitorch):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            with pytest.raises(AssertionError, match="Tensor-likes are not close"):
                lib.testing.assert_allclose(lib.ones(2), [1.0, 1.1])
            lib.testing.assert_allclose(lib.tensor([1.0, float("nan")]), [1.0, float("nan")])  # NaNs equal
            lib.testing.assert_allclose(lib.ones(2, dtype=lib.float64), np.ones(2))  # dtypes not checked
