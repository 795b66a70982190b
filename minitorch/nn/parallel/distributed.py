"""minitorch.nn.parallel.distributed: DistributedDataParallel, torch's data parallelism over a process group.

The wrapped module is `self.module` (state_dict keys carry "module."). At construction the parameter shapes
are checked to agree across the ranks and rank 0's parameters and buffers are broadcast. The parameters
that require grad are packed, in reverse registration order (the order backward produces their gradients),
into buckets of up to bucket_cap_mb (the first one 1 MiB when bucket_cap_mb is left to its default, as
torch's buckets after its first-iteration rebuild), one dtype per bucket. Each parameter has a
post-accumulate-grad hook; once every gradient of a bucket is in, the bucket (a flat buffer of the
gradients, each already multiplied by 1/world size, as torch's default hook) is all-reduced asynchronously
while backward goes on. Buckets are launched strictly in bucket order, since MPI needs every rank to issue
its collectives in one order. The hook that launches the last bucket (the end of backward) waits for all
of them and writes the averaged gradients back into each param.grad (or makes param.grad a view of the
bucket with gradient_as_bucket_view=True), so they are ready before optimizer.step().

find_unused_parameters=True walks the autograd graph from the forward's outputs and marks the parameters
it does not reach as ready (they contribute zeros, or their accumulated .grad), and leaves the .grad of a
parameter that no rank used untouched, as torch. Unlike torch, the buckets are not rebuilt after the first
iteration from the order the gradients arrived in (the reverse registration order is kept), and
static_graph=True is served by the same per-iteration unused-parameter search.
"""
import itertools
import warnings
import weakref
from contextlib import contextmanager
from dataclasses import fields, is_dataclass

from ...autograd.function import Function
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_DEFAULT_BUCKET_CAP_MB = 25
_MB_TO_BYTES = 1024 * 1024
_DEFAULT_FIRST_BUCKET_BYTES = 1024 * 1024  # torch.distributed._DEFAULT_FIRST_BUCKET_BYTES


def _dist():
    from ... import distributed

    return distributed


def _is_tensor(obj):
    from ..._tensor import Tensor

    return isinstance(obj, Tensor)


def _find_tensors(obj):
    """Every tensor in obj (tensors, lists, tuples, dicts and dataclasses of them), in order."""
    if _is_tensor(obj):
        return [obj]
    if isinstance(obj, (list, tuple)):
        return list(itertools.chain.from_iterable(map(_find_tensors, obj)))
    if isinstance(obj, dict):
        return list(itertools.chain.from_iterable(map(_find_tensors, obj.values())))
    if is_dataclass(obj) and not isinstance(obj, type):
        return list(itertools.chain.from_iterable(_find_tensors(getattr(obj, f.name)) for f in fields(obj)))
    return []


def _replace_tensors(obj, it):
    """obj with its tensors (in _find_tensors' order) taken from the iterator `it`."""
    if _is_tensor(obj):
        return next(it)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(_replace_tensors(o, it) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_replace_tensors(o, it) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _replace_tensors(v, it)) for k, v in obj.items())
    return obj


def _to_device(obj, device):
    if _is_tensor(obj):
        return obj.to(device)
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):
        return type(obj)(*(_to_device(o, device) for o in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_device(o, device) for o in obj)
    if isinstance(obj, dict):
        return type(obj)((k, _to_device(v, device)) for k, v in obj.items())
    return obj


def _broadcast_coalesced(process_group, tensors, src):
    """Broadcasts `tensors` from group rank `src`: one broadcast per (dtype, device), of their flat concatenation."""
    from ... import cat, no_grad

    dist = _dist()
    groups = {}
    for t in tensors:
        groups.setdefault((t.dtype, str(t.device)), []).append(t)
    with no_grad():
        for ts in groups.values():
            if len(ts) == 1 and ts[0].is_contiguous():
                dist.broadcast(ts[0].detach(), group=process_group, group_src=src)
                continue
            flat = cat([t.detach().reshape(-1) for t in ts])
            dist.broadcast(flat, group=process_group, group_src=src)
            offset = 0
            for t in ts:
                n = t.numel()
                t.detach().copy_(flat[offset:offset + n].view(t.shape))
                offset += n


def _verify_param_shape_across_processes(process_group, tensors):
    """torch's check that every rank has the same parameters (number, sizes, strides) as rank 0. Every rank
    sees every rank's shapes, so every rank raises when any differs (no rank is left waiting in a collective)."""
    dist = _dist()
    me = dist.get_rank(process_group)
    meta = [(list(t.shape), list(t.stride())) for t in tensors]
    gathered = [None] * dist.get_world_size(process_group)
    dist.all_gather_object(gathered, meta, group=process_group)
    for i, other in enumerate(gathered):
        if len(other) != len(meta):
            raise RuntimeError(f"DDP expects same model across all ranks, but Rank {me} has {len(meta)} params, "
                               f"while rank {i} has inconsistent {len(other)} params.")
    for what, k in (("sizes", 0), ("strides", 1)):
        for p, (mine, ref) in enumerate(zip(meta, gathered[0])):
            if mine[k] != ref[k]:
                raise RuntimeError(f"[{me}]: params[{p}] in this process with {what} {mine[k]} appears not to match "
                                   f"{what} of the same param in process 0.")
    for what, k in (("sizes", 0), ("strides", 1)):
        for i, other in enumerate(gathered):
            for p, (theirs, ref) in enumerate(zip(other, gathered[0])):
                if theirs[k] != ref[k]:
                    raise RuntimeError(f"DDP expects same model across all ranks, but rank {i}'s params[{p}] with "
                                       f"{what} {theirs[k]} does not match {what} {ref[k]} of the same param in "
                                       "process 0.")


def _sync_module_states(module, process_group, src, params_and_buffers_to_ignore, broadcast_buffers=True):
    states = [p.detach() for n, p in module.named_parameters() if n not in params_and_buffers_to_ignore]
    if broadcast_buffers:
        states += [b.detach() for n, b in module.named_buffers() if n not in params_and_buffers_to_ignore]
    if states:
        _broadcast_coalesced(process_group, states, src)


def _compute_bucket_assignment_by_size(tensors, size_limits):
    """torch's bucket assignment: consecutive tensors of one (dtype, device) fill a bucket until its size
    reaches the current limit (size_limits[0] for the first bucket of a kind, then the next ones, the last
    repeating); a bucket closes in the order it fills, the partly filled ones come last."""
    result, open_buckets, limit_index = [], {}, {}
    for i, t in enumerate(tensors):
        key = (t.dtype, str(t.device))
        indices, size = open_buckets.get(key, ([], 0))
        indices.append(i)
        size += t.numel() * t.element_size()
        k = limit_index.setdefault(key, 0)
        if size >= size_limits[k]:
            result.append(indices)
            open_buckets[key] = ([], 0)
            limit_index[key] = min(k + 1, len(size_limits) - 1)
        else:
            open_buckets[key] = (indices, size)
    result += [indices for indices, _ in open_buckets.values() if indices]
    return result


class _Bucket:
    """A flat gradient buffer for some parameters (indices into the reducer's params) and a view per one."""

    def __init__(self, index, variables, params):
        from ... import zeros

        self.index, self.variables = index, variables
        self.lengths = [params[i].numel() for i in variables]
        self.offsets = [sum(self.lengths[:k]) for k in range(len(variables))]
        p0 = params[variables[0]]
        self.buffer = zeros(sum(self.lengths), dtype=p0.dtype, device=p0.device)
        self.views = [self.buffer[o:o + n].view(params[i].shape)
                      for i, o, n in zip(variables, self.offsets, self.lengths)]
        self.pending = len(variables)
        self.work = None


class _Reducer:
    """The gradient buckets of one DistributedDataParallel and the per-iteration accounting of torch's
    C++ Reducer (prepare_for_backward, autograd_hook, mark_variable_ready, finalize_backward)."""

    def __init__(self, params, bucket_indices, process_group, find_unused_parameters, gradient_as_bucket_view,
                 skip_all_reduce_unused_params=False):
        self.params = params
        self.process_group = process_group
        self.find_unused = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.skip_all_reduce_unused_params = skip_all_reduce_unused_params
        self.buckets = [_Bucket(b, idx, params) for b, idx in enumerate(bucket_indices)]
        self.locator = {}
        for b in self.buckets:
            for k, i in enumerate(b.variables):
                self.locator[i] = (b, k)
        self.expect_hooks = False
        self.require_finalize = False
        self.next_bucket = 0
        self.ready = set()
        self.unused = []
        self.has_marked_unused = False
        self.local_used = [0] * len(params)
        self.div_factor = None
        self.forward_work = None  # the join context's all-reduce counting the ranks that have not joined
        self.use_static_world_size = True
        self.num_iterations = 0
        self.launched = []  # bucket indices in the order this iteration launched them
        ref = weakref.ref(self)
        self.handles = [p.register_post_accumulate_grad_hook(self._make_hook(ref, i)) for i, p in enumerate(params)]
        if gradient_as_bucket_view:  # torch: existing gradients move into their bucket views
            from ... import no_grad

            with no_grad():
                for i, p in enumerate(params):
                    b, k = self.locator[i]
                    if p.grad is not None and not self._is_view(p.grad, b.views[k]):
                        b.views[k].copy_(p.grad)
                        p.grad = b.views[k]

    @staticmethod
    def _make_hook(ref, index):
        def hook(param):
            reducer = ref()
            if reducer is not None:
                reducer.autograd_hook(index)

        return hook

    def remove_hooks(self):
        for h in self.handles:
            h.remove()
        self.handles = []

    def __del__(self):
        try:
            self.remove_hooks()
        except Exception:
            pass

    @staticmethod
    def _is_view(grad, view):
        return grad.data_ptr() == view.data_ptr() and tuple(grad.shape) == tuple(view.shape)

    # -- forward side ------------------------------------------------------------------------------------

    def ensure_prior_reduction_finished(self, static_graph):
        """torch's error when the previous iteration's backward left buckets unreduced."""
        if not self.require_finalize:
            return
        unmarked = [i for i in range(len(self.params)) if i not in self.ready]
        base = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. ")
        outputs_msg = "making sure all `forward` function outputs participate in calculating loss. "
        bug_msg = ("\nIf you already have done the above, then the distributed data parallel module wasn't able to "
                   "locate the output tensors in the return value of your module's `forward` function. Please include "
                   "the loss function and the structure of the return value of `forward` of your module when "
                   "reporting this issue (e.g. list, dict, iterable).")
        if static_graph:
            msg = ("Expected to have finished reduction in the prior iteration before starting a new one. This error "
                   "indicates that your training graph has changed in this iteration, e.g., one parameter is used in "
                   "first iteration, but then got unused in the second iteration. this is not compatible with "
                   "static_graph set to True.")
        elif not self.find_unused:
            msg = (base + "You can enable unused parameter detection by passing the keyword argument "
                   "`find_unused_parameters=True` to `torch.nn.parallel.DistributedDataParallel`, and by \n"
                   + outputs_msg + bug_msg)
        else:
            msg = (base + "Since `find_unused_parameters=True` is enabled, this likely  means that not all `forward` "
                   "outputs participate in computing loss. You can fix this by " + outputs_msg + bug_msg)
        rank = _dist().get_rank(self.process_group)
        msg += (f"\nParameter indices which did not receive grad for rank {rank}: {' '.join(map(str, unmarked))}"
                "\n In addition, you can set the environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or "
                "DETAIL to print out information about which particular parameters did not receive gradient on "
                "this rank as part of this error")
        raise RuntimeError(msg)

    def prepare_for_backward(self, outputs):
        self.expect_hooks = True
        self.next_bucket = 0
        self.launched = []
        for b in self.buckets:
            b.pending = len(b.variables)
            b.work = None
        self.ready = set()
        self.has_marked_unused = False
        self.div_factor = None
        self.unused = []
        if self.find_unused:
            self.unused = self.search_unused_parameters(outputs)

    def search_unused_parameters(self, outputs):
        """Indices of the parameters the autograd graph of `outputs` does not reach."""
        index = {id(p): i for i, p in enumerate(self.params)}
        reached = set()
        seen = set()
        stack = []
        for t in outputs:
            if t.grad_fn is not None:
                stack.append(t.grad_fn)
            elif id(t) in index:
                reached.add(index[id(t)])
        while stack:
            fn = stack.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            try:
                var = fn.variable
            except AttributeError:
                var = None
            if var is not None and id(var) in index:
                reached.add(index[id(var)])
            stack.extend(n for n, _ in fn.next_functions if n is not None)
        return [i for i in range(len(self.params)) if i not in reached]

    def outputs_without_grad(self, used_outputs):
        """From the sink at the top of backward: some outputs got no gradient, so the parameters only they
        reach get none either; they join the unused ones."""
        if not self.expect_hooks:
            return
        unused = set(self.search_unused_parameters(used_outputs))
        if self.has_marked_unused:  # hooks came first (a parameter used outside forward)
            for i in sorted(unused):
                if i not in self.ready:
                    self.mark_variable_ready(i)
            return
        self.unused = sorted(unused)
        if len(self.unused) == len(self.params):  # no hook will come: mark them all now
            self.has_marked_unused = True
            for i in self.unused:
                self.mark_variable_ready(i)

    # -- backward side -----------------------------------------------------------------------------------

    def autograd_hook(self, index):
        if self.find_unused and self.params[index].grad is not None:
            self.local_used[index] = 1  # also under no_sync: used once in the accumulation is used
        if not self.expect_hooks:
            return
        if not self.has_marked_unused:
            self.has_marked_unused = True
            for i in self.unused:
                self.mark_variable_ready(i)
        self.mark_variable_ready(index)

    def _set_divide_factor(self):
        if self.div_factor is None:
            self.div_factor = self.process_group.size()
            if self.forward_work is not None and not self.use_static_world_size:
                work, count = self.forward_work
                work.wait()
                self.div_factor = int(count.item())

    def mark_variable_ready(self, index):
        from ... import no_grad

        if index in self.ready:
            self._raise_marked_twice(index)
        self.ready.add(index)
        self.require_finalize = True
        self._set_divide_factor()
        bucket, k = self.locator[index]
        view = bucket.views[k]
        param = self.params[index]
        with no_grad():
            grad = param.grad
            if grad is not None:
                if not self._is_view(grad, view):
                    view.copy_(grad).mul_(1.0 / self.div_factor)
                    if self.gradient_as_bucket_view:
                        param.grad = view
                else:
                    view.div_(self.div_factor)
            else:
                view.zero_()
        bucket.pending -= 1
        if bucket.pending == 0:
            self._mark_bucket_ready(bucket.index)
        if self.next_bucket == len(self.buckets):
            self.finalize_backward()

    def _raise_marked_twice(self, index):
        msg = ("Expected to mark a variable ready only once. This error is caused by one of the following reasons: "
               "1) Use of a module parameter outside the `forward` function. Please make sure model parameters are "
               "not shared across multiple concurrent forward-backward passes. or try to use _set_static_graph() as "
               "a workaround if this module graph does not change during training loop.2) Reused parameters in "
               "multiple reentrant backward passes. For example, if you use multiple `checkpoint` functions to wrap "
               "the same part of your model, it would result in the same set of parameters been used by different "
               "reentrant backward passes multiple times, and hence marking a variable ready multiple times. DDP "
               "does not support such use cases in default. You can try to use _set_static_graph() as a workaround "
               "if your module graph does not change over iterations.")
        msg += (f"\nParameter at index {index} has been marked as ready twice. This means that multiple autograd "
                "engine  hooks have fired for this particular parameter during this iteration. You can set the "
                "environment variable TORCH_DISTRIBUTED_DEBUG to either INFO or DETAIL to print parameter names for "
                "further debugging.")
        if self.has_marked_unused and self.find_unused:
            msg += ("3) Incorrect unused parameter detection. The return value of the `forward` function is inspected "
                    "by the distributed data parallel wrapper to figure out if any of the module's parameters went "
                    "unused. For unused parameters, DDP would not expect gradients from then. However, if an unused "
                    "parameter becomes part of the autograd graph at a later point in time (e.g., in a reentrant "
                    "backward when using `checkpoint`), the gradient will show up unexpectedly. If all parameters in "
                    "the model participate in the backward pass, you can disable unused parameter detection by "
                    "passing the keyword argument `find_unused_parameters=False` to "
                    "`torch.nn.parallel.DistributedDataParallel`. If unused parameters in the model do not change "
                    "over iterations, You can try to use _set_static_graph() as a workaround if this module graph "
                    "does not change during training loop.")
        raise RuntimeError(msg)

    def _mark_bucket_ready(self, index):
        """Launches the buckets from next_bucket on that are complete: strictly in bucket order, so that every
        rank issues the same all-reduces in the same order."""
        if index > self.next_bucket:
            return
        dist = _dist()
        unused = set(self.unused) if self.skip_all_reduce_unused_params else ()
        while self.next_bucket < len(self.buckets) and self.buckets[self.next_bucket].pending == 0:
            b = self.buckets[self.next_bucket]
            if not (unused and all(i in unused for i in b.variables)):
                b.work = dist.all_reduce(b.buffer, group=self.process_group, async_op=True)
                self.launched.append(b.index)
            self.next_bucket += 1

    def _all_reduce_local_used_map(self):
        from ... import tensor
        from ..._types import int32

        used = tensor(self.local_used, dtype=int32, device=self.params[0].device)
        return used, _dist().all_reduce(used, group=self.process_group, async_op=True)

    def finalize_backward(self):
        """The end of backward: waits for every bucket and writes the averaged gradients into param.grad."""
        from ... import no_grad

        used_map = None
        if self.find_unused:
            used, work = self._all_reduce_local_used_map()
        for b in self.buckets:
            if b.work is not None:
                b.work.wait()
                b.work = None
        if self.find_unused:
            work.wait()
            used_map = used.tolist()
        self.expect_hooks = False
        self.require_finalize = False
        self.num_iterations += 1
        self.forward_work = None
        with no_grad():
            for b in self.buckets:
                for k, i in enumerate(b.variables):
                    if used_map is not None and used_map[i] == 0:
                        continue  # no rank used it: its .grad stays as it was
                    p, view = self.params[i], b.views[k]
                    if self.gradient_as_bucket_view:
                        if p.grad is None or not self._is_view(p.grad, view):
                            p.grad = view
                    elif p.grad is None:
                        p.grad = view.clone()
                    else:
                        p.grad.copy_(view)
        if self.find_unused:
            self.local_used = [0] * len(self.params)

    # -- the join context: a joined rank shadows the others' collectives -------------------------------------

    def match_all_reduce_for_bwd_pass(self):
        from ... import zeros_like

        dist = _dist()
        works = [dist.all_reduce(zeros_like(b.buffer), group=self.process_group, async_op=True) for b in self.buckets]
        for w in works:
            w.wait()

    def match_unused_params_allreduce(self):
        used, work = self._all_reduce_local_used_map()
        work.wait()
        self.local_used = [0] * len(self.params)


class _DDPSink(Function):
    """Identity on the forward's output tensors, at the top of backward: it learns which outputs got no
    gradient (so the parameters only they reach count as unused, as in torch)."""

    @staticmethod
    def forward(ctx, reducer_ref, *inputs):
        ctx.set_materialize_grads(False)
        ctx.reducer_ref = reducer_ref
        ctx.sources = tuple(_GraphRef(t.grad_fn) for t in inputs)  # every input has a grad_fn
        return tuple(inputs)

    @staticmethod
    def backward(ctx, *grad_outputs):
        reducer = ctx.reducer_ref()
        if reducer is not None and any(g is None for g in grad_outputs):
            used = [s for s, g in zip(ctx.sources, grad_outputs) if g is not None]
            reducer.outputs_without_grad(used)
        return (None,) + tuple(grad_outputs)


class _GraphRef:
    """Stands for an output tensor in the graph search: its grad_fn."""

    __slots__ = ("grad_fn",)

    def __init__(self, grad_fn):
        self.grad_fn = grad_fn


class _JoinConfig:
    __slots__ = ("enable", "throw_on_early_termination", "is_first_joinable")

    def __init__(self, enable=False, throw_on_early_termination=False, is_first_joinable=False):
        self.enable, self.throw_on_early_termination = enable, throw_on_early_termination
        self.is_first_joinable = is_first_joinable


class _DDPJoinHook:
    """What a rank that has run out of inputs does while others train: the collectives of their forward and
    backward passes, with zeros (torch's _DDPJoinHook)."""

    def __init__(self, ddp, divide_by_initial_world_size):
        self.ddp = ddp
        ddp._divide_by_initial_world_size = divide_by_initial_world_size

    def main_hook(self):
        ddp = self.ddp
        ddp._check_and_sync_module_buffers()
        should_sync_backwards = ddp._check_global_requires_backward_grad_sync(is_joined_rank=True)
        ddp.require_forward_param_sync = should_sync_backwards
        if not should_sync_backwards:
            return
        ddp.reducer.match_all_reduce_for_bwd_pass()
        if ddp.reducer.find_unused:
            ddp.reducer.match_unused_params_allreduce()

    def post_hook(self, is_last_joiner):
        self.ddp._sync_final_model(is_last_joiner)


class _Join:
    """torch.distributed.algorithms.Join for one DistributedDataParallel: on exit, a rank that ran out of
    inputs shadows the collectives of the ranks still training until all have joined; then every rank takes
    the model of the last one to join."""

    def __init__(self, ddp, enable=True, throw_on_early_termination=False, **kwargs):
        self._ddp = ddp
        self._hook = ddp.join_hook(**kwargs)
        self._enable, self._throw = enable, throw_on_early_termination
        ddp._join_config = _JoinConfig(enable, throw_on_early_termination, True)
        self._process_group = ddp.join_process_group
        self._device = ddp.join_device
        self._rank = _dist().get_rank(self._process_group)

    def __enter__(self):
        return self

    def __exit__(self, kind, value, tb):
        if not self._enable or kind is not None:
            self._ddp._join_config = _JoinConfig()
            return None
        try:
            all_joined, is_last_joiner, i = False, True, 0
            while not all_joined:
                if i > 1000:
                    warnings.warn(f"Detected uneven input skew of greater than 1000. This means that rank {self._rank} "
                                  "has at least 1000 fewer inputs than other currently-active ranks. This level of "
                                  "skew could lead to performance degradation during training.")
                if self._num_nonjoined_procs() == 0:
                    all_joined = True
                else:
                    if self._throw:
                        self._notify_procs_to_terminate()
                    self._hook.main_hook()
                    is_last_joiner = False
                    i += 1
            self._hook.post_hook(is_last_joiner)
        finally:
            self._ddp._join_config = _JoinConfig()

    def _num_nonjoined_procs(self):
        from ... import zeros

        n = zeros(1, device=self._device)
        _dist().all_reduce(n, group=self._process_group)
        return n.item()

    def _notify_procs_to_terminate(self):
        from ... import ones

        _dist().all_reduce(ones(1, device=self._device), group=self._process_group)
        raise RuntimeError(f"Rank {self._rank} exhausted all inputs.")

    @staticmethod
    def notify_join_context(ddp):
        """In a forward of a rank that has not joined: the all-reduce of ones that the joined ranks' loop
        counts with; with throw_on_early_termination, raises on every rank once one has run out."""
        from ... import ones, zeros

        config = ddp._join_config
        if not config.is_first_joinable or not config.enable:
            return None
        count = ones(1, device=ddp.join_device)
        work = _dist().all_reduce(count, group=ddp.join_process_group, async_op=True)
        if config.throw_on_early_termination:
            flag = zeros(1, device=ddp.join_device)
            _dist().all_reduce(flag, group=ddp.join_process_group)
            if flag.item():
                work.wait()
                raise RuntimeError("Detected at least one rank that exhausted inputs. Throwing across all ranks.")
        return work, count


class DistributedDataParallel(Module):
    """Data parallelism at module level over a process group (torch.nn.parallel.DistributedDataParallel):
    gradients are averaged across the ranks during backward, in buckets that overlap the rest of it."""

    _active_ddp_module = None

    def __init__(self, module, device_ids=None, output_device=None, dim=0, broadcast_buffers=None, init_sync=True,
                 process_group=None, bucket_cap_mb=None, find_unused_parameters=False, check_reduction=False,
                 gradient_as_bucket_view=False, static_graph=False, delay_all_reduce_named_params=None,
                 param_to_hook_all_reduce=None, mixed_precision=None, device_mesh=None,
                 skip_all_reduce_unused_params=False, bucket_cap_mb_list=None, batched_grad_copy=False,
                 forward_sync_buffers=None):
        super().__init__()
        self._join_config = _JoinConfig()
        self.logger = None
        if (delay_all_reduce_named_params is not None) != (param_to_hook_all_reduce is not None):
            raise ValueError("delay_all_reduce_named_params and param_to_hook_all_reduce need to be set at the same "
                             "time.")
        if delay_all_reduce_named_params is not None:
            raise NotImplementedError("DistributedDataParallel(delay_all_reduce_named_params=..., "
                                      "param_to_hook_all_reduce=...) is not supported by minitorch")
        if process_group and device_mesh is not None:
            raise RuntimeError("Cannot specify both process_group and device_mesh arguments.")
        if device_mesh is not None:
            raise NotImplementedError("DistributedDataParallel(device_mesh=...) is not supported by minitorch: pass "
                                      "process_group")
        if process_group is None:
            self.process_group = _dist().distributed_c10d._default()
        else:
            self.process_group = process_group
        if hasattr(module, "_ddp_params_and_buffers_to_ignore"):
            self.parameters_to_ignore = set(module._ddp_params_and_buffers_to_ignore)
        else:
            self.parameters_to_ignore = set()
        self._module_parameters = [p for n, p in module.named_parameters() if n not in self.parameters_to_ignore]
        if not any(p.requires_grad for p in self._module_parameters):
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter that "
                               "requires a gradient.")
        if device_ids is not None and len(device_ids) > 1:
            raise ValueError("device_ids can only be None or contain a single element.")
        self.is_multi_device_module = len({str(p.device) for p in self._module_parameters}) > 1
        distinct_device_types = {p.device.type for p in self._module_parameters}
        if len(distinct_device_types) != 1:
            raise ValueError("DistributedDataParallel's input module must be on the same type of devices, but input "
                             f"module parameters locate in {distinct_device_types}.")
        self.device_type = next(iter(distinct_device_types))
        if device_ids is None or len(device_ids) == 0 or self.device_type == "cpu" or self.is_multi_device_module:
            if device_ids or output_device:
                devices = {p.device for p in self._module_parameters}
                raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                                 "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                                 f"{device_ids}, output_device {output_device}, and module parameters {devices}.")
            self.device_ids = None
            self.output_device = None
        else:
            self.device_ids = [_device_index(d) for d in device_ids]
            self.output_device = _device_index(device_ids[0] if output_device is None else output_device)
        self.static_graph = False
        self.dim = dim
        self.module = module
        self.device = self._module_parameters[0].device
        if broadcast_buffers is not None:
            if forward_sync_buffers is not None:
                warnings.warn("Both `broadcast_buffers` and `forward_sync_buffers` were specified. `broadcast_buffers` "
                              "is deprecated and its value is ignored when `forward_sync_buffers` is provided.",
                              FutureWarning, stacklevel=2)
            else:
                warnings.warn("`broadcast_buffers` is deprecated. Use `forward_sync_buffers` instead. IMPORTANT: "
                              "unlike `broadcast_buffers=False`, `forward_sync_buffers=False` still syncs buffers at "
                              "init. If you rely on buffers NOT being synced at init (e.g. rank-local buffers), keep "
                              "using `broadcast_buffers=False` until `init_sync_buffers` is available.",
                              FutureWarning, stacklevel=2)
        if forward_sync_buffers is not None:
            self.forward_sync_buffers = forward_sync_buffers
            init_sync_buffers = True
        else:
            self.forward_sync_buffers = broadcast_buffers if broadcast_buffers is not None else True
            init_sync_buffers = self.forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.batched_grad_copy = batched_grad_copy
        self.mixed_precision = mixed_precision
        if mixed_precision is not None:
            raise NotImplementedError("DistributedDataParallel(mixed_precision=...) is not supported by minitorch")
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is deprecated. Please "
                          "avoid using it.", FutureWarning, stacklevel=2)
        self.broadcast_bucket_size = 250 * 1024 * 1024
        if bucket_cap_mb_list:
            caps = [int(mb * _MB_TO_BYTES) for mb in bucket_cap_mb_list]
            self.bucket_bytes_cap = int(max(bucket_cap_mb_list) * _MB_TO_BYTES)
            limits = caps
        else:
            mb = _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb
            self.bucket_bytes_cap = int(mb * _MB_TO_BYTES)
            first = _DEFAULT_FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
            limits = [first, self.bucket_bytes_cap] if first < self.bucket_bytes_cap else [self.bucket_bytes_cap]
            caps = []
        self.bucket_bytes_cap_list = caps
        self.bucket_bytes_cap_default = bucket_cap_mb is None and not bucket_cap_mb_list
        self.skip_all_reduce_unused_params = skip_all_reduce_unused_params
        self._divide_by_initial_world_size = True
        self._pending_works = []

        self._bucket_size_limits = limits

        parameters = self._build_params_for_reducer()
        if init_sync:
            _verify_param_shape_across_processes(self.process_group, parameters)
            _sync_module_states(self.module, self.process_group, 0, self.parameters_to_ignore, init_sync_buffers)
        self._ddp_init_helper(parameters)
        self._has_rebuilt_buckets = False
        if static_graph:
            self._set_static_graph()

    def _ddp_init_helper(self, parameters):
        """The buckets, in the order backward fills them (the parameters in reverse registration order)."""
        order = list(reversed(range(len(parameters))))
        assignment = _compute_bucket_assignment_by_size([parameters[i] for i in order], self._bucket_size_limits)
        bucket_indices = [[order[j] for j in bucket] for bucket in assignment]
        self.reducer = _Reducer(parameters, bucket_indices, self.process_group,
                                self.find_unused_parameters or self.static_graph, self.gradient_as_bucket_view,
                                self.skip_all_reduce_unused_params)

    def __getstate__(self):
        self._check_default_group()
        attrs = dict(self.__dict__)
        for k in ("process_group", "reducer", "logger", "_pending_works"):
            attrs.pop(k, None)
        return attrs

    def __setstate__(self, state):
        """Unpickled (or deep-copied) onto the default process group, with buckets of its own; no collective."""
        super().__setstate__(state)
        self.__dict__.update(process_group=_dist().distributed_c10d._default(), logger=None, _pending_works=[])
        self.__dict__.setdefault("require_forward_param_sync", True)
        self.__dict__.setdefault("require_backward_grad_sync", True)
        self._join_config = _JoinConfig()
        self._ddp_init_helper(self._build_params_for_reducer())

    def _check_default_group(self):
        try:
            unsupported = self.process_group is not _dist().distributed_c10d._default()
        except ValueError:
            unsupported = True
        if unsupported:
            raise RuntimeError("DDP Pickling/Unpickling are only supported when using DDP with the default process "
                               "group. That is, when you have called init_process_group and have not passed "
                               "process_group argument to DDP constructor")

    # -- construction helpers -----------------------------------------------------------------------------

    def _build_params_for_reducer(self):
        """The parameters that require grad, in module order, without duplicates (torch's)."""
        seen, params = set(), []
        for module_name, m in self.module.named_modules():
            for name, p in m.named_parameters(recurse=False):
                fqn = f"{module_name}.{name}" if module_name else name
                if p.requires_grad and fqn not in self.parameters_to_ignore and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        self._assign_modules_buffers()
        return params

    def _assign_modules_buffers(self):
        named = [(n, b) for n, b in self.module.named_buffers() if n not in self.parameters_to_ignore]
        self.modules_buffers = [b for _, b in named]
        self.named_module_buffers = dict(named)

    @staticmethod
    def _set_params_and_buffers_to_ignore_for_model(module, params_and_buffers_to_ignore):
        module._ddp_params_and_buffers_to_ignore = params_and_buffers_to_ignore
        for name, param in module.named_parameters():
            if name in params_and_buffers_to_ignore:
                param._ddp_ignored = True
        for name, buffer in module.named_buffers():
            if name in params_and_buffers_to_ignore:
                buffer._ddp_ignored = True

    def _set_static_graph(self):
        if self.static_graph:
            warnings.warn("You've set static_graph to be True, no need to set it again.")
            return
        self.static_graph = True
        self.reducer.find_unused = True

    # -- forward ------------------------------------------------------------------------------------------

    @property
    def broadcast_buffers(self):
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value):
        self.forward_sync_buffers = value

    @contextmanager
    def no_sync(self):
        """Within this context the backward passes accumulate gradients locally, without communication; the
        first backward after it (of a forward run outside it) averages the accumulated gradients."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _pre_forward(self, *inputs, **kwargs):
        from ... import is_grad_enabled

        self._wait_pending()
        if is_grad_enabled():
            self.reducer.ensure_prior_reduction_finished(self.static_graph)
        handle = _Join.notify_join_context(self)
        if handle is not None:
            self.reducer.forward_work = handle
            self.reducer.use_static_world_size = self._divide_by_initial_world_size
            self._pending_works.append(handle[0])
        if self._check_sync_bufs_pre_fwd():
            self._sync_buffers()
        if self._join_config.enable:
            self._check_global_requires_backward_grad_sync(is_joined_rank=False)
        if self.device_ids:
            from ..._types import device

            target = device(self.device_type, self.device_ids[0])
            return _to_device(inputs, target), _to_device(kwargs, target)
        return inputs, kwargs

    def _post_forward(self, output):
        from ... import is_grad_enabled

        find_unused = self.reducer.find_unused
        if is_grad_enabled() and self.require_backward_grad_sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(_find_tensors(output) if find_unused else [])
        else:
            self.require_forward_param_sync = False
            return output
        if find_unused:
            tensors = _find_tensors(output)
            flowing = [t for t in tensors if t.grad_fn is not None]
            if flowing:
                passed = iter(_DDPSink.apply(weakref.ref(self.reducer), *flowing))
                output = _replace_tensors(output, iter([next(passed) if t.grad_fn is not None else t
                                                        for t in tensors]))
        return output

    def forward(self, *inputs, **kwargs):
        inputs, kwargs = self._pre_forward(*inputs, **kwargs)
        old = DistributedDataParallel._active_ddp_module
        DistributedDataParallel._active_ddp_module = self
        try:
            output = self.module(*inputs, **kwargs)
        finally:
            DistributedDataParallel._active_ddp_module = old
        return self._post_forward(output)

    def scatter(self, inputs, kwargs, device_ids):
        return (inputs,), (kwargs,)

    def to_kwargs(self, inputs, kwargs, device_id):
        from ..._types import device

        target = device(self.device_type, device_id)
        return (_to_device(inputs, target),), (_to_device(kwargs, target),)

    def gather(self, outputs, output_device):
        return outputs

    def train(self, mode=True):
        super().train(mode)
        return self

    # -- buffers ------------------------------------------------------------------------------------------

    def will_sync_module_buffers(self):
        return self.require_forward_param_sync and self.forward_sync_buffers and len(self.modules_buffers) > 0

    def _check_sync_bufs_pre_fwd(self):
        return self.will_sync_module_buffers()

    def _check_sync_bufs_post_fwd(self):
        return False

    def _find_common_rank(self, input_rank, rank_cond):
        from ... import tensor

        dist = _dist()
        rank_to_use = tensor([input_rank if rank_cond else -1], device=self.device)
        dist.all_reduce(rank_to_use, op=dist.ReduceOp.MAX, group=self.process_group)
        if rank_to_use.item() == -1:
            raise ValueError("BUG! Expected rank_cond to be true for at least one process. This indicates a bug in "
                             "PyTorch, please report an issue.")
        return rank_to_use.item()

    @property
    def _distributed_rank(self):
        return _dist().get_rank(self.process_group)

    def _sync_buffers(self):
        from ... import no_grad

        with no_grad():
            if self._join_config.enable:
                authoritative_rank = self._find_common_rank(self._distributed_rank, True)
            else:
                authoritative_rank = 0
            self._assign_modules_buffers()
            self._sync_module_buffers(authoritative_rank)

    def _sync_module_buffers(self, authoritative_rank):
        self._default_broadcast_coalesced(authoritative_rank=authoritative_rank)

    def _default_broadcast_coalesced(self, bufs=None, bucket_size=None, authoritative_rank=0):
        bufs = self.modules_buffers if bufs is None else bufs
        if bufs:
            _broadcast_coalesced(self.process_group, bufs, authoritative_rank)

    def _wait_pending(self):
        works, self._pending_works = self._pending_works, []
        for w in works:
            w.wait()

    # -- join -----------------------------------------------------------------------------------------------

    def join(self, divide_by_initial_world_size=True, enable=True, throw_on_early_termination=False):
        """Context manager for training with uneven inputs: a rank that runs out of inputs keeps matching the
        collectives of the ranks still training (with zero gradients) until all have joined."""
        return _Join(self, enable, throw_on_early_termination,
                     divide_by_initial_world_size=divide_by_initial_world_size)

    def join_hook(self, **kwargs):
        return _DDPJoinHook(self, divide_by_initial_world_size=kwargs.get("divide_by_initial_world_size", True))

    @property
    def join_device(self):
        return self.device

    @property
    def join_process_group(self):
        return self.process_group

    def _check_global_requires_backward_grad_sync(self, is_joined_rank):
        from ... import ones, zeros

        if not is_joined_rank and self.require_backward_grad_sync:
            flag = ones(1, device=self.device)
        else:
            flag = zeros(1, device=self.device)
        work = _dist().all_reduce(flag, group=self.process_group, async_op=True)
        if is_joined_rank:
            work.wait()
            return flag.item() != 0
        self._pending_works.append(work)  # its buffer must outlive the collective
        return None

    def _check_and_sync_module_buffers(self):
        if self._check_sync_bufs_pre_fwd():
            authoritative_rank = self._find_common_rank(self._distributed_rank, False)
            self._sync_module_buffers(authoritative_rank)

    def _sync_final_model(self, is_last_joiner):
        self._authoritative_rank = self._find_common_rank(self._distributed_rank, is_last_joiner)
        _sync_module_states(self.module, self.process_group, self._authoritative_rank, self.parameters_to_ignore,
                            self.forward_sync_buffers)

    # -- not supported ----------------------------------------------------------------------------------------

    def register_comm_hook(self, state, hook):
        raise NotImplementedError("DistributedDataParallel.register_comm_hook: minitorch has no communication hooks "
                                  "(the buckets are averaged by the built-in all-reduce)")

    def _register_builtin_comm_hook(self, comm_hook_type):
        raise NotImplementedError("DistributedDataParallel._register_builtin_comm_hook: minitorch has no "
                                  "communication hooks")

    def _register_fused_optim(self, optim, *args, optim_params=None, **kwargs):
        raise NotImplementedError("DistributedDataParallel._register_fused_optim is not supported by minitorch")



def _device_index(d):
    if isinstance(d, int):
        return d
    from ..._types import device

    d = device(d) if not isinstance(d, device) else d
    return d.index if d.index is not None else 0
