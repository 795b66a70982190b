"""minitorch.utils.hooks: RemovableHandle and the BackwardHook machinery behind nn.Module's full backward hooks
(like torch.utils.hooks).

BackwardHook routes a module call's tensor inputs and outputs through an identity autograd Function
(BackwardHookFunction) each: the output one's backward sees the gradients w.r.t. the module's outputs (backward
pre-hooks run there and may replace them), the input one's backward sees the gradients w.r.t. the module's inputs
(full backward hooks run there and may replace them).
"""
import functools
import warnings
import weakref
from collections import OrderedDict

from .. import _C
from ..autograd.function import Function

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks", "BackwardHook"]


def _ref(d):
    # torch keeps weak references so a handle does not keep a module's hook dicts alive; a plain dict cannot be
    # weakly referenced, so it is held strongly (a callable returning it, like a live weakref)
    try:
        return weakref.ref(d)
    except TypeError:
        return lambda: d


class RemovableHandle:
    """A handle that removes a hook: remove(), or use it as a context manager.

    hooks_dict is the dict the hook lives in, keyed by the handle's ``id``; extra_dict (a dict or a list of dicts)
    holds per-hook flags under the same key that are removed with it.
    """
    next_id = 0

    def __init__(self, hooks_dict, *, extra_dict=None):
        self.hooks_dict_ref = _ref(hooks_dict)
        self.id = RemovableHandle.next_id
        RemovableHandle.next_id += 1
        self.extra_dict_ref = ()
        if isinstance(extra_dict, dict):
            self.extra_dict_ref = (_ref(extra_dict),)
        elif isinstance(extra_dict, list):
            self.extra_dict_ref = tuple(_ref(d) for d in extra_dict)

    def remove(self):
        hooks_dict = self.hooks_dict_ref()
        if hooks_dict is not None and self.id in hooks_dict:
            del hooks_dict[self.id]
        for ref in self.extra_dict_ref:
            extra_dict = ref()
            if extra_dict is not None and self.id in extra_dict:
                del extra_dict[self.id]

    def __getstate__(self):
        return (self.hooks_dict_ref(), self.id, tuple(ref() for ref in self.extra_dict_ref))

    def __setstate__(self, state):
        if state[0] is None:
            self.hooks_dict_ref = weakref.ref(OrderedDict())  # a dead reference
        else:
            self.hooks_dict_ref = _ref(state[0])
        self.id = state[1]
        RemovableHandle.next_id = max(RemovableHandle.next_id, self.id + 1)
        if len(state) < 3 or state[2] is None:
            self.extra_dict_ref = ()
        else:
            self.extra_dict_ref = tuple(_ref(d) for d in state[2] if d is not None)

    def __enter__(self):
        return self

    def __exit__(self, type, value, tb):
        self.remove()


def unserializable_hook(f):
    """Mark a function as an unserializable hook (suppresses the warning when saving a tensor with hooks)."""
    f.__torch_unserializable__ = True
    return f


def warn_if_has_hooks(tensor):
    hooks = getattr(tensor, "_backward_hooks", None)
    if hooks:
        for k in hooks:
            hook = hooks[k]
            if not hasattr(hook, "__torch_unserializable__"):
                warnings.warn(f"backward hook {repr(hook)} on tensor will not be serialized.  If this is expected, "
                              "you can decorate the function with @torch.utils.hooks.unserializable_hook to suppress "
                              "this warning", stacklevel=2)


class BackwardHookFunction(Function):
    """Identity on its tensor arguments; its backward hands the incoming gradients to a callback that may replace
    them. The node is named BackwardHookFunctionBackward, as torch's."""

    @staticmethod
    def forward(ctx, *args, _on_backward=None, _materialize=True):
        ctx.set_materialize_grads(_materialize)
        ctx._on_backward = _on_backward
        return args

    @staticmethod
    def backward(ctx, *grads):
        on_backward = ctx._on_backward
        if on_backward is None:
            return grads
        return on_backward(grads)


def _check_grad(value, meta):
    """torch's check on a value a hook put in place of a gradient: None or a tensor of the same type, device and
    size as the tensor it is the gradient of."""
    if value is None:
        return
    if not isinstance(value, _C.TensorBase):
        raise TypeError(f"expected Variable, but hook returned '{type(value).__name__}'")
    shape, dtype, device, typename = meta
    if value.dtype != dtype:
        raise RuntimeError(f"hook 'hook' has changed the type of value (was {typename} got {value.type()})")
    if value.device != device:
        raise RuntimeError(f"hook 'hook' has changed the device of value (was {device} got {value.device})")
    if tuple(value.shape) != shape:
        raise RuntimeError("hook 'hook' has changed the size of value")


class BackwardHook:
    """Implements a module call's full backward (pre-)hooks; built by Module.__call__ for one call.

    It handles:
      - ignoring non-Tensor inputs and outputs (None in the tuples handed to the user hooks)
      - routing the tensors through BackwardHookFunction to capture (and replace) their gradients
      - linking the gradients captured for the outputs with those captured for the inputs
      - calling the user hooks once both are available (or at the outputs when no input requires grad)
    """

    def __init__(self, module, user_hooks, user_pre_hooks):
        self.user_hooks = user_hooks
        self.user_pre_hooks = user_pre_hooks
        # The input nodes reach this object, and a module that keeps a tensor made in its forward (self.attn = ...)
        # reaches those nodes: a strong reference here would close a cycle through the C graph, which Python's
        # collector cannot see. So the module is held weakly, strongly only by the output node (what the caller
        # gets back) and, once that node has run, by this object until the input hooks have fired.
        self._module_ref = weakref.ref(module)
        self._module_alive = None

        self.grad_outputs = None
        self.n_outputs = -1
        self.output_tensors_index = None
        self.n_inputs = -1
        self.input_tensors_index = None
        self._input_wrapped = ()  # (position in args, position among the tensors, wrapped tensor, its version)

    @property
    def module(self):
        return self._module_ref()

    def _pack_with_none(self, indices, values, size):
        res = [None] * size
        for idx, val in zip(indices, values, strict=True):
            res[idx] = val
        return tuple(res)

    def _unpack_none(self, indices, values):
        return tuple(values[idx] for idx in indices)

    def _apply_on_tensors(self, args, on_backward, materialize):
        """Route the tensors of args that require grad through one BackwardHookFunction. Returns the new args,
        the positions of all tensors in args (None when nothing was routed: no tensor requires grad or grad mode is
        off), the routed positions and the metadata (shape, dtype, device, type name) of every tensor."""
        tensors_idx = []
        requires_grad = False
        for i, arg in enumerate(args):
            if isinstance(arg, _C.TensorBase):
                tensors_idx.append(i)
                requires_grad = requires_grad or arg.requires_grad
        if not (requires_grad and _C.is_grad_enabled()):
            return args, None, (), ()
        metas = tuple((tuple(args[i].shape), args[i].dtype, args[i].device, args[i].type()) for i in tensors_idx)
        # tensors that do not require grad stay as they are (torch marks them non-differentiable)
        wrapped = tuple(k for k, i in enumerate(tensors_idx) if args[i].requires_grad)
        new_tensors = BackwardHookFunction.apply(*(args[tensors_idx[k]] for k in wrapped), _on_backward=on_backward,
                                                 _materialize=materialize)
        arg_list = list(args)
        for k, val in zip(wrapped, new_tensors, strict=True):
            arg_list[tensors_idx[k]] = val
        out = tuple(arg_list) if type(args) is tuple else type(args)(*arg_list)
        return out, tensors_idx, wrapped, metas

    # ------------------------------------------------------------------ inputs
    def setup_input_hook(self, args):
        res, input_idx, wrapped, metas = self._apply_on_tensors(args, self._input_backward, True)
        self.n_inputs = len(args)
        self.input_tensors_index = input_idx
        self._input_wrapped_pos = wrapped
        self._input_metas = metas
        if input_idx is not None:
            self._input_wrapped = tuple((input_idx[k], k, res[input_idx[k]]._version) for k in wrapped)
        return res

    def check_inputs_not_modified(self, args):
        """torch forbids modifying the (view of the) inputs in place in a module with full backward hooks."""
        for pos, k, version in self._input_wrapped:
            t = args[pos] if pos < len(args) else None
            if isinstance(t, _C.TensorBase) and t._version != version:
                raise RuntimeError(
                    f"Output {k} of BackwardHookFunction is a view and is being modified inplace. This view "
                    "was created inside a custom Function (or because an input was returned as-is) and the autograd "
                    "logic to handle view+inplace would override the custom backward associated with the custom "
                    "Function, leading to incorrect gradients. This behavior is forbidden. You can fix this by "
                    "cloning the output of the custom Function.")

    def _input_backward(self, grads):
        # grads: the gradients w.r.t. the routed inputs (undefined ones materialized as zeros, as torch's)
        if self.grad_outputs is None:
            # the gradient reached the inputs without passing through the outputs (torch: double backward)
            return grads
        from .._creation import zeros
        wrapped = self._input_wrapped_pos
        metas = self._input_metas
        all_grads = []
        it = iter(grads)
        for k, m in enumerate(metas):
            if k in wrapped:
                all_grads.append(next(it))
            else:  # torch materializes the gradients of the non-differentiable tensor inputs as zeros
                all_grads.append(zeros(m[0], dtype=m[1], device=m[2]))
        res = self._pack_with_none(self.input_tensors_index, all_grads, self.n_inputs)
        module = self._module_alive
        for hook in self.user_hooks:
            out = hook(module, res, self.grad_outputs)
            if out is None:
                continue
            if len(out) != len(res):
                raise RuntimeError("Backward hook returned an invalid number of grad_input, "
                                   f"got {len(out)}, but expected {len(res)}")
            res = out
        self.grad_outputs = None
        self._module_alive = None
        new = self._unpack_none(self.input_tensors_index, res)
        result = []
        for k in wrapped:
            _check_grad(new[k], metas[k])
            result.append(new[k])
        return tuple(result)

    # ------------------------------------------------------------------ outputs
    def setup_output_hook(self, args):
        is_tuple = True
        if not isinstance(args, tuple):
            args = (args,)
            is_tuple = False
        res, output_idx, wrapped, metas = self._apply_on_tensors(
            args, functools.partial(self._output_backward, self.module), False)
        self.n_outputs = len(args)
        self.output_tensors_index = output_idx
        self._output_wrapped_pos = wrapped
        self._output_metas = metas
        if not is_tuple:
            res = res[0]
        return res

    def _output_backward(self, module, grads):
        # grads: the gradients w.r.t. the routed outputs, None where none flowed (not materialized, as torch's)
        self._module_alive = module
        wrapped = self._output_wrapped_pos
        all_grads = [None] * len(self._output_metas)
        for k, g in zip(wrapped, grads, strict=True):
            all_grads[k] = g
        self.grad_outputs = self._pack_with_none(self.output_tensors_index, all_grads, self.n_outputs)

        if self.user_pre_hooks:
            expected_len = len(self.grad_outputs)
            for user_pre_hook in self.user_pre_hooks:
                hook_grad_outputs = user_pre_hook(module, self.grad_outputs)
                if hook_grad_outputs is None:
                    continue
                actual_len = len(hook_grad_outputs)
                if actual_len != expected_len:
                    raise RuntimeError("Backward pre hook returned an invalid number of grad_output, "
                                       f"got {actual_len}, but expected {expected_len}")
                self.grad_outputs = hook_grad_outputs

        # kept to return: self.grad_outputs is cleared below when the user hooks fire here
        local_grad_outputs = self.grad_outputs

        # no input requires grad: the full hooks fire now, with None for every grad_input
        if self.input_tensors_index is None:
            warnings.warn("Full backward hook is firing when gradients are computed with respect to module outputs "
                          "since no inputs require gradients. See "
                          "https://docs.pytorch.org/docs/main/generated/torch.nn.Module.html"
                          "#torch.nn.Module.register_full_backward_hook for more details.", stacklevel=4)
            grad_inputs = self._pack_with_none([], [], self.n_inputs)
            for user_hook in self.user_hooks:
                res = user_hook(module, grad_inputs, self.grad_outputs)
                if res is not None and not (isinstance(res, tuple) and all(el is None for el in res)):
                    raise RuntimeError("Backward hook for Modules where no input requires gradient should always "
                                       "return None or None for all gradients.")
            self.grad_outputs = None
            self._module_alive = None

        new = self._unpack_none(self.output_tensors_index, local_grad_outputs)
        result = []
        for k in wrapped:
            _check_grad(new[k], self._output_metas[k])
            result.append(new[k])
        return tuple(result)
