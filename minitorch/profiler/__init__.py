"""minitorch.profiler (torch.profiler): profile (a context manager with step() and a schedule), record_function,
schedule, tensorboard_trace_handler, ProfilerActivity.

What it measures: the wall-clock time (time.perf_counter_ns) of record_function regions and of nn.Module
forwards ("nn.Module: <ClassName>" rows), per thread. It does not see individual C ops (no aten::* rows), device
(CUDA) kernels or memory; ProfilerActivity.CUDA is accepted and records nothing on the device (without CUDA it
warns and is dropped, as in torch). key_averages().table() prints torch's table; export_chrome_trace writes
a Chrome trace-event JSON file."""
import enum
import os
import warnings

from ..autograd.profiler import EventList, _warn_memory, record_function
from ..autograd import profiler as _legacy

__all__ = ["profile", "record_function", "schedule", "tensorboard_trace_handler", "ProfilerActivity",
           "ProfilerAction", "supported_activities", "EventList"]


class ProfilerActivity(enum.Enum):
    CPU = 0
    XPU = 1
    MTIA = 4
    CUDA = 2
    HPU = 3
    PrivateUse1 = 5

    def __str__(self):
        return f"ProfilerActivity.{self.name}"


class ProfilerAction(enum.Enum):
    NONE = 0
    WARMUP = 1
    RECORD = 2
    RECORD_AND_SAVE = 3

    def __str__(self):
        return f"ProfilerAction.{self.name}"


def supported_activities():
    from .. import cuda

    return {ProfilerActivity.CPU, ProfilerActivity.CUDA} if cuda.is_available() else {ProfilerActivity.CPU}


def schedule(*, wait, warmup, active, repeat=0, skip_first=0, skip_first_wait=0):
    """The step -> ProfilerAction function of torch.profiler.schedule: skip_first steps, then cycles of wait
    (NONE), warmup (WARMUP) and active (RECORD, the last RECORD_AND_SAVE) steps, repeat times (0: forever)."""

    def schedule_fn(step):
        if step < 0:
            raise AssertionError(f"Step must be non-negative. Got {step}.")
        if step < skip_first:
            return ProfilerAction.NONE
        step -= skip_first
        if skip_first_wait != 0:
            step += wait
        num_steps = wait + warmup + active
        if repeat > 0 and step / num_steps >= repeat:
            return ProfilerAction.NONE
        mod_step = step % num_steps
        if mod_step < wait:
            return ProfilerAction.NONE
        if mod_step < wait + warmup:
            return ProfilerAction.WARMUP
        return ProfilerAction.RECORD if mod_step < num_steps - 1 else ProfilerAction.RECORD_AND_SAVE

    if wait < 0 or warmup < 0 or active <= 0 or repeat < 0 or skip_first < 0:
        raise AssertionError(f"Invalid profiler schedule arguments. Got wait={wait} (need >= 0), warmup={warmup} "
                             f"(need >= 0), active={active} (need > 0), repeat={repeat} (need >= 0), "
                             f"skip_first={skip_first} (need >= 0).")
    if warmup == 0:
        warnings.warn("Profiler won't be using warmup, this can skew profiler results", stacklevel=2)
    return schedule_fn


def _default_schedule_fn(_):
    return ProfilerAction.RECORD


def tensorboard_trace_handler(dir_name, worker_name=None, use_gzip=False):
    """An on_trace_ready handler writing each trace to dir_name/<worker>.<time_ns>.pt.trace.json[.gz]."""
    import socket
    import time

    def handler_fn(prof):
        nonlocal worker_name
        if not os.path.isdir(dir_name):
            try:
                os.makedirs(dir_name, exist_ok=True)
            except Exception as e:
                raise RuntimeError("Can't create directory: " + dir_name) from e
        if not worker_name:
            worker_name = f"{socket.gethostname()}_{os.getpid()}"
        file_name = f"{worker_name}.{time.time_ns()}.pt.trace.json"
        if use_gzip:
            file_name = file_name + ".gz"
        prof.export_chrome_trace(os.path.join(dir_name, file_name))

    return handler_fn


_warned_clear = [False]


class profile:
    """torch.profiler.profile: `with profile(activities=[ProfilerActivity.CPU]) as prof: ...; prof.step()`,
    then prof.key_averages().table(sort_by="cpu_time_total", row_limit=10). With a schedule, only the RECORD
    steps are kept and on_trace_ready(prof) runs at the end of each cycle (each step is a "ProfilerStep#<n>"
    region, as in torch)."""

    def __init__(self, *, activities=None, schedule=None, on_trace_ready=None, record_shapes=False,
                 profile_memory=False, with_stack=False, with_flops=False, with_modules=False,
                 experimental_config=None, execution_trace_observer=None, acc_events=False, use_cuda=None,
                 custom_trace_id_callback=None, post_processing_timeout_s=None):
        activities_set = set(activities) if activities else supported_activities()
        if use_cuda is not None:
            warnings.warn("`use_cuda` is deprecated, use `activities` argument instead", FutureWarning,
                          stacklevel=2)
            if use_cuda:
                activities_set.add(ProfilerActivity.CUDA)
            elif ProfilerActivity.CUDA in activities_set:
                activities_set.remove(ProfilerActivity.CUDA)
        if len(activities_set) == 0:
            raise AssertionError("No valid profiler activities found")
        if ProfilerActivity.CUDA in activities_set:
            from .. import cuda

            if not cuda.is_available():
                warnings.warn("CUDA is not available, disabling CUDA profiling", stacklevel=2)
                activities_set.discard(ProfilerActivity.CUDA)
        if activities_set and ProfilerActivity.CPU not in activities_set:
            warnings.warn("minitorch.profiler records no device activity: the regions of a CUDA-only profile are "
                          "timed on the host", UserWarning, stacklevel=2)
        if profile_memory:
            _warn_memory()
        if with_flops:
            warnings.warn("minitorch.profiler: with_flops is not supported (no per-op events); no FLOPs column",
                          UserWarning, stacklevel=2)
        self.activities = activities_set
        self.record_shapes = record_shapes
        self.profile_memory = profile_memory
        self.with_stack = with_stack
        self.with_flops = with_flops
        self.with_modules = with_modules
        self.acc_events = acc_events
        self.on_trace_ready = on_trace_ready
        if schedule:
            self.schedule = schedule
            self.record_steps = True  # each step is a ProfilerStep#<n> region
        else:
            self.schedule = _default_schedule_fn
            self.record_steps = False
        self.step_num = 0
        self.current_action = self.schedule(self.step_num)
        self.profiler = None  # the legacy profile collecting the current cycle
        self.step_rec_fn = None
        self._recording = False

    # -- the cycle's actions
    def prepare_trace(self):
        if not self.activities:
            raise AssertionError("No activities specified for the profiler")
        if self.profiler is not None and not self.acc_events and not _warned_clear[0]:
            _warned_clear[0] = True
            warnings.warn("Warning: Profiler clears events at the end of each cycle. Only events from the current "
                          "cycle will be reported. To keep events across cycles, set acc_events=True.")
        if self.profiler is None or not self.acc_events:
            self.profiler = _legacy.profile(record_shapes=self.record_shapes, with_stack=self.with_stack,
                                            with_modules=self.with_modules, acc_events=self.acc_events)

    def start_trace(self):
        self.profiler._start()
        self._recording = True

    def stop_trace(self):
        if self._recording:
            self.profiler._stop()
            self._recording = False

    def _trace_ready(self):
        if self.on_trace_ready:
            self.on_trace_ready(self)

    def _transit_action(self, prev_action, current_action):
        A = ProfilerAction
        warmup, record, save, none = A.WARMUP, A.RECORD, A.RECORD_AND_SAVE, A.NONE
        table = {
            (none, warmup): [self.prepare_trace],
            (none, record): [self.prepare_trace, self.start_trace],
            (none, save): [self.prepare_trace, self.start_trace],
            (warmup, none): [lambda: warnings.warn("Incorrect schedule: WARMUP followed by NONE"),
                             self.start_trace, self.stop_trace],
            (warmup, record): [self.start_trace],
            (warmup, save): [self.start_trace],
            (record, none): [lambda: warnings.warn("Incorrect schedule: RECORD followed by NONE"),
                             self.stop_trace],
            (record, warmup): [lambda: warnings.warn("Incorrect schedule: RECORD followed by WARMUP"),
                               self.stop_trace],
            (save, none): [self.stop_trace, self._trace_ready],
            (save, warmup): [self.stop_trace, self._trace_ready, self.prepare_trace],
            (save, record): [self.stop_trace, self._trace_ready, self.prepare_trace, self.start_trace],
            (save, save): [self.stop_trace, self._trace_ready, self.prepare_trace, self.start_trace],
            (warmup, None): [self.start_trace, self.stop_trace],
            (record, None): [self.stop_trace, self._trace_ready],
            (save, None): [self.stop_trace, self._trace_ready],
        }
        for action in table.get((prev_action, current_action), []):
            action()

    # -- the public API
    def start(self):
        self._transit_action(ProfilerAction.NONE, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def stop(self):
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        self._transit_action(self.current_action, None)

    def step(self):
        """The next step begins: follow the schedule (start / stop recording, call on_trace_ready)."""
        if self.record_steps and self.step_rec_fn:
            self.step_rec_fn.__exit__(None, None, None)
            self.step_rec_fn = None
        prev_action = self.current_action
        self.step_num += 1
        self.current_action = self.schedule(self.step_num)
        self._transit_action(prev_action, self.current_action)
        if self.record_steps:
            self.step_rec_fn = record_function("ProfilerStep#" + str(self.step_num))
            self.step_rec_fn.__enter__()

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.stop()
        return False

    def _events_or_raise(self):
        if self.profiler is None or self.profiler.function_events is None:
            raise AssertionError("Expected profiler to be initialized")
        return self.profiler.function_events

    def events(self):
        """The recorded events (FunctionEvent) of the last cycle."""
        return self._events_or_raise()

    def key_averages(self, group_by_input_shape=False, group_by_stack_n=0, group_by_overload_name=False):
        """The events grouped by name (ProfilerStep#<n> regions as "ProfilerStep*"), as an EventList."""
        events = self._events_or_raise()
        renamed = EventList(events)
        for e in renamed:
            if e.name.startswith("ProfilerStep#"):
                e.key = "ProfilerStep*"
        return renamed.key_averages(group_by_input_shape, group_by_stack_n)

    def export_chrome_trace(self, path):
        self._events_or_raise()
        self.profiler.export_chrome_trace(path)

    def export_stacks(self, path, metric="self_cpu_time_total"):
        raise NotImplementedError("minitorch.profiler: export_stacks is not supported (no per-op stacks)")

    def export_memory_timeline(self, path, device=None):
        raise NotImplementedError("minitorch.profiler: export_memory_timeline is not supported (no memory events)")
