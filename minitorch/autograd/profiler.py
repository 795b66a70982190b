"""minitorch.autograd.profiler (torch.autograd.profiler): record_function, the legacy profile context manager and
the event tables (EventList.table) that minitorch.profiler shares.

What is timed: record_function regions and nn.Module forwards (as "nn.Module: <ClassName>" events), by the
wall clock (time.perf_counter_ns) on the calling thread. Individual C ops (torch's aten::* rows) are NOT seen,
nor any device (CUDA) time, nor memory: a region's self time includes the ops it runs."""
import functools
import os
import threading
import time
import warnings
from collections import OrderedDict

__all__ = ["record_function", "profile", "EventList", "FunctionEvent", "FunctionEventAvg"]

_active = []  # the recording sessions (a profile that is collecting); events go to all of them
_lock = threading.Lock()


class _DeviceType:
    """torch.autograd.DeviceType's CPU (the only device minitorch's profiler records)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"DeviceType.{self.name}"


_CPU = _DeviceType("CPU")


def _format_time(time_us):
    if time_us >= 1e6:
        return f"{time_us / 1e6:.3f}s"
    if time_us >= 1e3:
        return f"{time_us / 1e3:.3f}ms"
    return f"{time_us:.3f}us"


def _format_time_share(time_us, total_time_us):
    if total_time_us == 0:
        return "NaN"
    return f"{time_us * 100.0 / total_time_us:.2f}%"


class _Times:
    cpu_time_str = property(lambda self: _format_time(self.cpu_time))
    cpu_time_total_str = property(lambda self: _format_time(self.cpu_time_total))
    self_cpu_time_total_str = property(lambda self: _format_time(self.self_cpu_time_total))
    device_time_str = property(lambda self: _format_time(self.device_time))
    device_time_total_str = property(lambda self: _format_time(self.device_time_total))
    self_device_time_total_str = property(lambda self: _format_time(self.self_device_time_total))

    @property
    def cpu_time(self):
        return 0.0 if self.count == 0 else self.cpu_time_total / self.count

    @property
    def device_time(self):
        return 0.0 if self.count == 0 else self.device_time_total / self.count

    @property
    def cuda_time(self):
        return self.device_time

    @property
    def cuda_time_total(self):
        return self.device_time_total

    @property
    def self_cuda_time_total(self):
        return self.self_device_time_total


class FunctionEvent(_Times):
    """One timed region: name, start / end (us since the session start), thread, parent / children."""

    def __init__(self, id, name, thread, start_us, end_us, input_shapes=None, stack=None, is_user_annotation=True):
        self.id = id
        self.name = self.key = name
        self.thread = thread
        self.start_us = start_us
        self.end_us = end_us
        self.input_shapes = input_shapes or []
        self.stack = stack or []
        self.cpu_children = []
        self.cpu_parent = None
        self.count = 1
        self.node_id = -1
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.is_user_annotation = is_user_annotation
        self.overload_name = ""
        self.device_type = _CPU
        self.use_device = None
        self.flops = 0
        self.device_time_total = self.self_device_time_total = 0
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.device_memory_usage = self.self_device_memory_usage = 0

    @property
    def cpu_time_total(self):
        return self.end_us - self.start_us

    @property
    def self_cpu_time_total(self):
        return self.cpu_time_total - sum(c.cpu_time_total for c in self.cpu_children)

    @property
    def time_range(self):
        return (self.start_us, self.end_us)

    def __repr__(self):
        return (f"<FunctionEvent id={self.id} name={self.name} device_type={self.device_type} node_id={self.node_id} "
                f"cpu_time={self.cpu_time_str} start_us={self.start_us} end_us={self.end_us} "
                f"cpu_children={[c.id for c in self.cpu_children]} thread={self.thread} "
                f"input_shapes={self.input_shapes}>")


class FunctionEventAvg(_Times):
    """The events of one name (key) summed: count, cpu_time_total, self_cpu_time_total, cpu_time (average)."""

    def __init__(self):
        self.key = None
        self.count = 0
        self.node_id = 0
        self.is_async = False
        self.is_remote = False
        self.is_legacy = False
        self.use_device = None
        self.cpu_time_total = 0
        self.self_cpu_time_total = 0
        self.device_time_total = self.self_device_time_total = 0
        self.input_shapes = None
        self.overload_name = None
        self.stack = None
        self.scope = None
        self.cpu_memory_usage = self.self_cpu_memory_usage = 0
        self.device_memory_usage = self.self_device_memory_usage = 0
        self.cpu_children = None
        self.cpu_parent = None
        self.device_type = _CPU
        self.is_user_annotation = False
        self.flops = 0

    def add(self, other):
        if self.key is None:
            self.key = other.key
            self.node_id = other.node_id
            self.is_async = other.is_async
            self.is_remote = other.is_remote
            self.cpu_parent = other.cpu_parent
            self.cpu_children = other.cpu_children
            self.overload_name = other.overload_name
            self.input_shapes = other.input_shapes
            self.stack = other.stack
            self.device_type = other.device_type
            self.is_legacy = other.is_legacy
            self.use_device = other.use_device
            self.is_user_annotation = other.is_user_annotation
        self.cpu_time_total += other.cpu_time_total
        self.self_cpu_time_total += other.self_cpu_time_total
        self.count += other.count
        return self

    def __iadd__(self, other):
        return self.add(other)

    def __repr__(self):
        return (f"<FunctionEventAvg key={self.key} self_cpu_time={self.self_cpu_time_total_str} "
                f"cpu_time={self.cpu_time_str} input_shapes={self.input_shapes}>")


class EventList(list):
    """A list of FunctionEvent (or FunctionEventAvg) with table(), key_averages(), export_chrome_trace()."""

    def __init__(self, *args, use_device=None, profile_memory=False, with_flops=False):
        super().__init__(*args)
        self._use_device = use_device
        self._profile_memory = profile_memory
        self._with_flops = with_flops

    @property
    def self_cpu_time_total(self):
        return sum(e.self_cpu_time_total for e in self)

    def key_averages(self, group_by_input_shapes=False, group_by_stack_n=0, group_by_overload_name=False):
        stats = OrderedDict()
        for evt in self:
            key = [evt.key]
            if group_by_input_shapes:
                key.append(str(evt.input_shapes))
            if group_by_stack_n > 0:
                key += evt.stack[:group_by_stack_n]
            avg = stats.setdefault(tuple(key), FunctionEventAvg())
            avg.add(evt)
        out = EventList(stats.values(), use_device=self._use_device, profile_memory=self._profile_memory,
                        with_flops=self._with_flops)
        for evt in out:
            evt.stack = evt.stack[:group_by_stack_n] if group_by_stack_n > 0 else []
            if not group_by_input_shapes:
                evt.input_shapes = ""
        return out

    def total_average(self):
        total = FunctionEventAvg()
        for evt in self:
            total += evt
            total.key = None
        total.key = "Total"
        return total

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False, time_unit=None):
        """torch's profiler table: Name, Self CPU %, Self CPU, CPU total %, CPU total, CPU time avg, # of Calls."""
        return _build_table(self, sort_by=sort_by, header=header, row_limit=row_limit,
                            max_src_column_width=max_src_column_width, max_name_column_width=max_name_column_width,
                            max_shapes_column_width=max_shapes_column_width,
                            top_level_events_only=top_level_events_only, time_unit=time_unit)

    def export_chrome_trace(self, path):
        _write_chrome_trace(self, path)

    def __str__(self):
        return self.table()


def _build_table(events, sort_by=None, header=None, row_limit=100, max_src_column_width=75,
                 max_name_column_width=55, max_shapes_column_width=80, top_level_events_only=False, time_unit=None):
    if len(events) == 0:
        return ""
    has_input_shapes = any(e.input_shapes is not None and len(e.input_shapes) > 0 for e in events)
    if sort_by is not None:
        key = sort_by.replace("cuda", "device").replace("xpu", "device").replace("privateuse1", "device")
        events = sorted(events, key=lambda evt: getattr(evt, key), reverse=True)
    name_column_width = max(len(evt.key) for evt in events) + 4
    if max_name_column_width is not None:
        name_column_width = min(name_column_width, max_name_column_width)
    shapes_column_width = max(len(str(evt.input_shapes)) for evt in events) + 4
    if max_shapes_column_width is not None:
        shapes_column_width = min(shapes_column_width, max_shapes_column_width)
    stacks = [evt.stack for evt in events if evt.stack is not None and len(evt.stack) > 0]
    has_stack = len(stacks) > 0
    src_column_width = None
    if has_stack:
        src_column_width = max(max(len(entry) for entry in stack) for stack in stacks) + 4
        if max_src_column_width is not None:
            src_column_width = min(src_column_width, max_src_column_width)

    headers = ["Name", "Self CPU %", "Self CPU", "CPU total %", "CPU total", "CPU time avg", "# of Calls"]
    spacing = 2
    fmt, sep, = [""], [""]

    def add_column(padding, text_dir=">"):
        fmt[0] += "{: " + text_dir + str(padding) + "}" + " " * spacing
        sep[0] += "-" * padding + " " * spacing

    add_column(name_column_width)
    for _ in headers[1:]:
        add_column(12)
    if has_input_shapes:
        headers.append("Input Shapes")
        add_column(shapes_column_width)
    if has_stack:
        headers.append("Source Location")
        add_column(src_column_width, text_dir="<")
    row_format, header_sep = fmt[0], sep[0]
    line_length = len(header_sep) - spacing

    def unit(time_us, default_str):
        if time_unit == "s":
            return f"{time_us / 1e6:.3f}s"
        if time_unit == "ms":
            return f"{time_us / 1e3:.3f}ms"
        if time_unit == "us":
            return f"{time_us:.3f}us"
        return default_str

    def trim_path(path):
        if len(path) > src_column_width:
            path = path[len(path) - src_column_width:]
            if len(path) > 3:
                path = "..." + path[3:]
        return path

    result = []

    def append(s):
        result.append(s)
        result.append("\n")

    total = sum(evt.self_cpu_time_total for evt in events)
    if header is not None:
        append("=" * line_length)
        append(header)
    if top_level_events_only:
        append("=" * line_length)
        append("This report only display top-level ops statistics")
    append(header_sep)
    append(row_format.format(*headers))
    append(header_sep)
    event_limit = 0
    for evt in events:
        if event_limit == row_limit:
            break
        if top_level_events_only and evt.cpu_parent is not None:
            continue
        event_limit += 1
        name = evt.key
        if max_name_column_width is not None and len(name) >= max_name_column_width - 3:
            name = name[:max_name_column_width - 3] + "..."
        row = [name, _format_time_share(evt.self_cpu_time_total, total),
               unit(evt.self_cpu_time_total, evt.self_cpu_time_total_str),
               _format_time_share(evt.cpu_time_total, total) if not evt.is_async else 0,
               unit(evt.cpu_time_total, evt.cpu_time_total_str), unit(evt.cpu_time, evt.cpu_time_str), evt.count]
        if has_input_shapes:
            row.append(str(evt.input_shapes)[:shapes_column_width])
        if has_stack:
            row.append(trim_path(evt.stack[0]) if len(evt.stack) > 0 else "")
        append(row_format.format(*row))
        if has_stack:
            empty = [""] * (len(headers) - 1)
            for entry in evt.stack[1:]:
                append(row_format.format(*(empty + [trim_path(entry)])))
            append(row_format.format(*(empty + [""])))
    append(header_sep)
    append(f"Self CPU time total: {unit(total, _format_time(total))}")
    return "".join(result)


def _write_chrome_trace(events, path):
    """The Chrome trace-event JSON (chrome://tracing, Perfetto, TensorBoard) of the events: one complete ("X")
    event per region, times in microseconds."""
    import json

    pid = os.getpid()
    base_ns = getattr(events, "_base_ns", 0)
    trace_events = []
    for evt in events:
        trace_events.append({
            "ph": "X", "cat": "user_annotation" if evt.is_user_annotation else "python_function", "name": evt.name,
            "pid": pid, "tid": evt.thread, "ts": base_ns / 1000 + evt.start_us, "dur": evt.cpu_time_total,
            "args": {"Input Dims": evt.input_shapes} if evt.input_shapes else {},
        })
    doc = {"schemaVersion": 1, "deviceProperties": [], "record_shapes": 0, "displayTimeUnit": "ms",
           "baseTimeNanoseconds": base_ns, "traceEvents": trace_events, "traceName": str(path)}
    if str(path).endswith(".gz"):
        import gzip

        with gzip.open(path, "wt") as f:
            json.dump(doc, f)
    else:
        with open(path, "w") as f:
            json.dump(doc, f)


# ---------------------------------------------------------------------- recording

class _Session:
    """The events one profile collects while it records."""

    def __init__(self, record_shapes=False, with_stack=False, with_modules=False):
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.base_ns = time.perf_counter_ns()
        self.events = []
        self.open = {}  # thread id -> stack of open events
        self._next_id = 0
        self._module_hooks = None

    def begin(self, name, input_shapes=None, is_user_annotation=True):
        tid = threading.get_native_id()  # the OS thread id, as torch's traces
        stack = _user_stack() if self.with_stack else None
        with _lock:
            self._next_id += 1
            evt = FunctionEvent(self._next_id, name, tid, (time.perf_counter_ns() - self.base_ns) / 1000, None,
                                input_shapes if self.record_shapes else None, stack, is_user_annotation)
            opened = self.open.setdefault(tid, [])
            if opened:
                evt.cpu_parent = opened[-1]
                opened[-1].cpu_children.append(evt)
            opened.append(evt)
            self.events.append(evt)
        return evt

    def end(self, evt):
        evt.end_us = (time.perf_counter_ns() - self.base_ns) / 1000
        with _lock:
            opened = self.open.get(evt.thread, [])
            if evt in opened:
                del opened[opened.index(evt):]  # events left open inside it end with it

    def finish(self):
        """Close what is still open (a region entered but not left while recording) and drop it."""
        now = (time.perf_counter_ns() - self.base_ns) / 1000
        for opened in self.open.values():
            for evt in opened:
                evt.end_us = now
        self.open = {}
        done = [e for e in self.events if e.end_us is not None]
        result = EventList(sorted(done, key=lambda e: (e.start_us, -e.end_us)))
        result._base_ns = self.base_ns
        return result


def _user_stack():
    import traceback

    frames = traceback.extract_stack()[:-3]
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = [f"{f.filename}({f.lineno}): {f.name}" for f in reversed(frames)
           if not os.path.abspath(f.filename).startswith(here)]
    return out


def _start_session(session):
    with _lock:
        _active.append(session)
        first = len(_active) == 1
    if first:
        _install_module_hooks()


def _stop_session(session):
    with _lock:
        if session in _active:
            _active.remove(session)
        last = not _active
    if last:
        _remove_module_hooks()
    return session.finish()


_module_hook_handles = []


def _install_module_hooks():
    """Time every nn.Module forward while a profile records (global forward pre / post hooks)."""
    from ..nn.modules import module as _module
    from .._tensor import Tensor

    def pre(mod, args):
        name = f"nn.Module: {type(mod).__name__}"
        shapes = [list(a.shape) if isinstance(a, Tensor) else [] for a in args]
        opened = [(s, s.begin(name, shapes, is_user_annotation=False)) for s in list(_active)]
        mod.__dict__.setdefault("_profiler_open", []).append(opened)

    def post(mod, args, output):
        stack = mod.__dict__.get("_profiler_open")
        if stack:
            for s, evt in stack.pop():
                s.end(evt)
            if not stack:
                del mod.__dict__["_profiler_open"]

    _module_hook_handles.append(_module.register_module_forward_pre_hook(pre))
    _module_hook_handles.append(_module.register_module_forward_hook(post, always_call=True))


def _remove_module_hooks():
    while _module_hook_handles:
        _module_hook_handles.pop().remove()


class record_function:
    """Time a region under a name while a profiler records: `with record_function("name"):` or as a decorator."""

    def __init__(self, name, args=None):
        self.name = name
        self.args = args
        self._opened = []

    def __enter__(self):
        self._opened = [(s, s.begin(self.name)) for s in list(_active)]
        return self

    def __exit__(self, exc_type, exc_value, traceback):
        for s, evt in self._opened:
            s.end(evt)
        self._opened = []
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with record_function(self.name, self.args):
                return fn(*args, **kwargs)

        return wrapper


class profile:
    """The legacy profiler context manager (torch.autograd.profiler.profile): records while enabled, then
    key_averages(), table(), export_chrome_trace(), function_events. See the module docstring for what it
    times."""

    def __init__(self, enabled=True, *, use_cuda=False, use_device=None, record_shapes=False, with_flops=False,
                 profile_memory=False, with_stack=False, with_modules=False, use_kineto=False, use_cpu=True,
                 experimental_config=None, acc_events=False, custom_trace_id_callback=None):
        self.enabled = enabled
        self.function_events = None
        self._session = None
        self.entered = False
        if not enabled:
            return
        if use_cuda:
            warnings.warn("The attribute `use_cuda` will be deprecated soon, please use ``use_device = 'cuda'`` "
                          "instead.", FutureWarning, stacklevel=2)
            use_device = "cuda"
        if use_device == "cuda":
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
                use_device = None
        if profile_memory:
            _warn_memory()
        self.use_device = use_device
        self.record_shapes = record_shapes
        self.with_stack = with_stack
        self.with_modules = with_modules
        self.profile_memory = profile_memory
        self.acc_events = acc_events

    def __enter__(self):
        if not self.enabled:
            return self
        if self.entered:
            raise RuntimeError("Profiler context manager is not reentrant")
        self.entered = True
        self._start()
        return self

    def _start(self):
        self._session = _Session(self.record_shapes, self.with_stack, self.with_modules)
        _start_session(self._session)

    def _stop(self):
        if self._session is None:
            return
        events = _stop_session(self._session)
        self._session = None
        if self.acc_events and self.function_events is not None:
            merged = EventList(list(self.function_events) + list(events))
            merged._base_ns = getattr(self.function_events, "_base_ns", 0)
            events = merged
        self.function_events = events

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.enabled:
            return False
        self._stop()
        return False

    def _check_finish(self):
        if self.function_events is None:
            raise RuntimeError("Profiler didn't finish running")

    def table(self, sort_by=None, row_limit=100, max_src_column_width=75, max_name_column_width=55,
              max_shapes_column_width=80, header=None, top_level_events_only=False):
        self._check_finish()
        return self.function_events.table(sort_by=sort_by, row_limit=row_limit,
                                          max_src_column_width=max_src_column_width,
                                          max_name_column_width=max_name_column_width,
                                          max_shapes_column_width=max_shapes_column_width, header=header,
                                          top_level_events_only=top_level_events_only)

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        self._check_finish()
        return self.function_events.key_averages(group_by_input_shape, group_by_stack_n)

    def total_average(self):
        self._check_finish()
        return self.function_events.total_average()

    @property
    def self_cpu_time_total(self):
        self._check_finish()
        return self.function_events.self_cpu_time_total

    def export_chrome_trace(self, path):
        self._check_finish()
        self.function_events.export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise NotImplementedError("minitorch.profiler: export_stacks is not supported (no per-op stacks)")

    def __str__(self):
        self._check_finish()
        return str(self.function_events)


_memory_warned = [False]


def _warn_memory():
    if not _memory_warned[0]:
        _memory_warned[0] = True
        warnings.warn("minitorch.profiler: profile_memory is not supported (minitorch records no allocator "
                      "events); the tables have no memory columns", UserWarning, stacklevel=3)
