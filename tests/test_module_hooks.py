"""nn.Module hooks (forward, backward, global, state-dict) and RemovableHandle, against PyTorch where it is installed.

Most tests run one scenario written once against a library (minitorch or torch), record what the hooks saw into a
list, and compare the two records. The tests marked "numpy reference" need no torch.
"""
import copy
import pickle
import sys
import warnings
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

import minitorch as mt
import minitorch.nn as nn
from minitorch.nn.modules import module as mt_module


@pytest.fixture
def torch():
    return pytest.importorskip("torch")


def npy(t):
    return None if t is None else np.array(t.detach().numpy())


def grads(seq):
    """A tuple of gradients (or a single one) as numpy arrays / None, for comparing records."""
    if seq is None:
        return None
    if not isinstance(seq, (tuple, list)):
        return npy(seq)
    return tuple(npy(g) if hasattr(g, "detach") else g for g in seq)


def assert_same(a, b):
    """Records (nested tuples / lists of strings, numbers, None and arrays) are equal, arrays up to rounding."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        assert isinstance(a, np.ndarray) and isinstance(b, np.ndarray), (a, b)
        assert a.shape == b.shape, (a.shape, b.shape)
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    elif isinstance(a, (tuple, list)):
        assert isinstance(b, (tuple, list)) and len(a) == len(b), (a, b)
        for x, y in zip(a, b):
            assert_same(x, y)
    else:
        assert a == b, (a, b)


RNG = np.random.default_rng(0)
W1, B1 = RNG.standard_normal((4, 3)).astype(np.float32), RNG.standard_normal(4).astype(np.float32)
W2, B2 = RNG.standard_normal((2, 4)).astype(np.float32), RNG.standard_normal(2).astype(np.float32)
X = RNG.standard_normal((5, 3)).astype(np.float32)


def linear(lib, w, b):
    m = lib.nn.Linear(w.shape[1], w.shape[0])
    with lib.no_grad():
        m.weight.copy_(lib.tensor(w))
        m.bias.copy_(lib.tensor(b))
    return m


def mlp(lib):
    return lib.nn.Sequential(linear(lib, W1, B1), lib.nn.ReLU(), linear(lib, W2, B2))


def both(torch, scenario):
    """Run scenario(lib) with minitorch and torch and compare the records it returns."""
    mine = scenario(mt)
    ref = scenario(torch)
    assert_same(mine, ref)
    return mine


@pytest.fixture
def global_handles():
    """Global hooks registered in a test are removed even when it fails."""
    handles = []
    yield handles
    for h in handles:
        h.remove()
    # the full / regular choice for global backward hooks sticks for the process (torch's too): reset it
    for name in ("minitorch.nn.modules.module", "torch.nn.modules.module"):
        modmod = sys.modules.get(name)
        if modmod is not None and not modmod._global_backward_hooks:
            modmod._global_is_full_backward_hook = None


# ------------------------------------------------------------------ forward hooks
def test_forward_hook_order_and_prepend(torch, global_handles):
    def scenario(lib):
        log = []
        m = lib.nn.ReLU()
        modmod = lib.nn.modules.module
        global_handles.append(modmod.register_module_forward_pre_hook(
            lambda mod, args: log.append(("global_pre", type(mod).__name__))))
        global_handles.append(modmod.register_module_forward_hook(
            lambda mod, args, out: log.append(("global_fwd", type(mod).__name__))))
        m.register_forward_pre_hook(lambda mod, args: log.append("pre1"))
        m.register_forward_pre_hook(lambda mod, args: log.append("pre0"), prepend=True)
        m.register_forward_pre_hook(lambda mod, args: log.append("pre2"))
        m.register_forward_hook(lambda mod, args, out: log.append("fwd1"))
        m.register_forward_hook(lambda mod, args, out: log.append("fwd0"), prepend=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("fwd_kw", sorted(kwargs))),
                                with_kwargs=True)
        m(lib.ones(2))
        for h in global_handles:
            h.remove()
        global_handles.clear()
        m(lib.ones(2))
        return log

    log = both(torch, scenario)
    assert log[:7] == [("global_pre", "ReLU"), "pre0", "pre1", "pre2", ("global_fwd", "ReLU"), "fwd0", "fwd1"]


def test_forward_pre_hook_return_values(torch):
    def scenario(lib):
        rec = []

        class Add(lib.nn.Module):
            def forward(self, a, b=None, scale=1.0):
                rec.append(("forward", float(a.sum()), None if b is None else float(b.sum()), scale))
                return a * scale if b is None else (a + b) * scale

        m = Add()
        h = m.register_forward_pre_hook(lambda mod, args: args[0] * 2)  # single value: wrapped in a tuple
        rec.append(npy(m(lib.ones(2))))
        h.remove()
        h = m.register_forward_pre_hook(lambda mod, args: (args[0], args[0] * 3))  # tuple: replaces args
        rec.append(npy(m(lib.ones(2))))
        h.remove()
        h = m.register_forward_pre_hook(lambda mod, args, kwargs: (args, {**kwargs, "scale": 10.0}),
                                        with_kwargs=True)
        rec.append(npy(m(lib.ones(2), scale=2.0)))
        h.remove()
        h = m.register_forward_pre_hook(lambda mod, args, kwargs: args, with_kwargs=True)  # not (args, kwargs)
        with pytest.raises(RuntimeError, match=r"forward pre-hook must return None or a tuple of \(new_args, "
                                               r"new_kwargs\)"):
            m(lib.ones(2))  # a 1-tuple of args is not (args, kwargs)
        h.remove()
        # with_kwargs hooks see the kwargs; plain ones do not
        m.register_forward_pre_hook(lambda mod, args, kwargs: rec.append(("kw", sorted(kwargs))), with_kwargs=True)
        m.register_forward_pre_hook(lambda mod, args: rec.append(("args", len(args))))
        m(lib.ones(2), scale=3.0)
        return rec

    both(torch, scenario)


def test_forward_hook_return_values(torch):
    def scenario(lib):
        rec = []
        m = linear(lib, W1, B1)
        h1 = m.register_forward_hook(lambda mod, args, out: out * 0 + 1)
        h2 = m.register_forward_hook(lambda mod, args, out: rec.append(npy(out)))  # sees the replaced output
        h3 = m.register_forward_hook(lambda mod, args, kwargs, out: (out, len(args), dict(kwargs)),
                                     with_kwargs=True)
        res = m(lib.tensor(X))
        rec.append((npy(res[0]), res[1], res[2]))
        for h in (h1, h2, h3):
            h.remove()
        rec.append(npy(m(lib.tensor(X))))
        return rec

    both(torch, scenario)


def test_always_call_forward_hooks(torch, global_handles):
    def scenario(lib):
        log = []

        class Boom(lib.nn.Module):
            def forward(self, x, fail=True):
                if fail:
                    raise ValueError("boom")
                return x

        m = Boom()
        global_handles.append(lib.nn.modules.module.register_module_forward_hook(
            lambda mod, args, out: log.append(("global_always", type(mod).__name__, out is None)), always_call=True))
        m.register_forward_hook(lambda mod, args, out: log.append("never"))
        m.register_forward_hook(lambda mod, args, out: log.append(("always", len(args), out)), always_call=True)
        m.register_forward_hook(lambda mod, args, kwargs, out: log.append(("always_kw", dict(kwargs), out)),
                                always_call=True, with_kwargs=True)

        def bad(mod, args, out):
            raise KeyError("in hook")
        m.register_forward_hook(bad, always_call=True)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            with pytest.raises(ValueError, match="boom"):
                m(lib.ones(1), fail=True)
        log.append([str(x.message) for x in w])
        # when forward succeeds they run once, in order, and an exception in a later hook does not rerun them
        out = []
        m2 = lib.nn.Identity()
        m2.register_forward_hook(lambda mod, args, o: out.append("a"), always_call=True)
        m2.register_forward_hook(bad)
        with pytest.raises(KeyError):
            m2(lib.ones(1))
        log.append(out)
        for h in global_handles:
            h.remove()
        global_handles.clear()
        return log

    log = both(torch, scenario)
    assert log[0] == ("global_always", "Boom", True) and log[1] == ("always", 1, None)
    assert log[2] == ("always_kw", {"fail": True}, None)
    assert any("module forward hook with ``always_call=True`` raised an exception" in m for m in log[3])
    # Identity: the global hook ran normally (once), then "a", then the failing hook; nothing reran
    assert log[4] == ("global_always", "Identity", False) and log[5] == ["a"]


def test_removable_handle():
    from minitorch.utils.hooks import RemovableHandle
    m = nn.Linear(2, 2)
    calls = []
    h = m.register_forward_hook(lambda *a: calls.append("kw"), with_kwargs=True, always_call=True)
    assert h.id in m._forward_hooks and h.id in m._forward_hooks_with_kwargs and h.id in m._forward_hooks_always_called
    h.remove()
    h.remove()  # a second remove is harmless
    assert not m._forward_hooks and not m._forward_hooks_with_kwargs and not m._forward_hooks_always_called
    with m.register_forward_pre_hook(lambda mod, args: calls.append("pre")) as h2:
        assert isinstance(h2, RemovableHandle)
        m(mt.ones(1, 2))
    m(mt.ones(1, 2))
    assert calls == ["pre"]
    ids = [m.register_forward_hook(lambda *a: None).id for _ in range(3)]
    assert ids == sorted(ids) and len(set(ids)) == 3
    # a handle pickles with its dict (the extra dicts too), as torch's
    d, extra = OrderedDict(), OrderedDict()
    h3 = RemovableHandle(d, extra_dict=extra)
    d[h3.id] = extra[h3.id] = 1
    h4 = pickle.loads(pickle.dumps(h3))
    assert h4.id == h3.id and RemovableHandle.next_id > h3.id
    h3.remove()
    assert not d and not extra
    assert mt.utils.hooks.RemovableHandle is mt_module.RemovableHandle


# ------------------------------------------------------------------ backward hooks
def _record_backward(lib, m, log, name):
    m.register_full_backward_pre_hook(lambda mod, go: log.append((name, "pre", grads(go))))
    m.register_full_backward_hook(lambda mod, gi, go: log.append((name, "full", grads(gi), grads(go))))


def test_full_backward_hooks_sequential(torch):
    def scenario(lib):
        log = []
        m = mlp(lib)
        for i, sub in enumerate(m):
            _record_backward(lib, sub, log, str(i))
        _record_backward(lib, m, log, "seq")
        x = lib.tensor(X, requires_grad=True)
        out = m(x)
        (out * lib.arange(10.0).reshape(5, 2)).sum().backward()
        log.append(("grads", npy(x.grad), [npy(p.grad) for p in m.parameters()]))
        return log

    log = both(torch, scenario)
    assert [e[:2] for e in log[:-1]] == [("seq", "pre"), ("2", "pre"), ("2", "full"), ("1", "pre"), ("1", "full"),
                                         ("0", "pre"), ("0", "full"), ("seq", "full")]


def test_full_backward_hook_replaces_grad_input(torch):
    def scenario(lib):
        log = []
        m = mlp(lib)
        # doubling the gradient w.r.t. the ReLU's input doubles the gradients of the first Linear and of x
        m[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
        m[0].register_full_backward_hook(lambda mod, gi, go: log.append(("lin0", grads(go))))
        x = lib.tensor(X, requires_grad=True)
        m(x).sum().backward()
        log.append(("grads", npy(x.grad), [npy(p.grad) for p in m.parameters()]))
        # a list is accepted too; None drops the gradient
        m2 = linear(lib, W1, B1)
        m2.register_full_backward_hook(lambda mod, gi, go: [None])
        x2 = lib.tensor(X, requires_grad=True)
        m2(x2).sum().backward()
        log.append(("dropped", x2.grad is None, npy(m2.weight.grad)))
        return log

    both(torch, scenario)
    # and against the plain run: twice the gradient of the unhooked model for the first layer and the input
    m = mlp(mt)
    x = mt.tensor(X, requires_grad=True)
    m(x).sum().backward()
    m2 = mlp(mt)
    m2[1].register_full_backward_hook(lambda mod, gi, go: (gi[0] * 2,))
    x2 = mt.tensor(X, requires_grad=True)
    m2(x2).sum().backward()
    np.testing.assert_allclose(npy(x2.grad), 2 * npy(x.grad), rtol=1e-6)
    np.testing.assert_allclose(npy(m2[0].weight.grad), 2 * npy(m[0].weight.grad), rtol=1e-6)
    np.testing.assert_allclose(npy(m2[2].weight.grad), npy(m[2].weight.grad), rtol=1e-6)


def test_full_backward_pre_hook_replaces_grad_output(torch, global_handles):
    def scenario(lib):
        log = []
        m = mlp(lib)
        global_handles.append(lib.nn.modules.module.register_module_full_backward_pre_hook(
            lambda mod, go: log.append(("global_pre", type(mod).__name__))))
        m[2].register_full_backward_pre_hook(lambda mod, go: log.append("second"))
        m[2].register_full_backward_pre_hook(lambda mod, go: (go[0] * 3,), prepend=True)  # runs first
        m[2].register_full_backward_hook(lambda mod, gi, go: log.append(("full", grads(go))))
        x = lib.tensor(X, requires_grad=True)
        m(x).sum().backward()
        log.append(("grads", npy(x.grad), [npy(p.grad) for p in m.parameters()]))
        for h in global_handles:
            h.remove()
        global_handles.clear()
        return log

    log = both(torch, scenario)
    # the global pre-hook runs for every module (Sequential first), before the module's own
    assert log[:3] == [("global_pre", "Sequential"), ("global_pre", "Linear"), "second"]
    np.testing.assert_allclose(log[3][1][0], np.full((5, 2), 3.0))


def test_global_full_backward_hooks_run_first(torch, global_handles):
    def scenario(lib):
        log = []
        modmod = lib.nn.modules.module
        m = linear(lib, W1, B1)
        m.register_full_backward_hook(lambda mod, gi, go: log.append("local"))
        global_handles.append(modmod.register_module_full_backward_hook(
            lambda mod, gi, go: log.append(("global", grads(gi)))))
        x = lib.tensor(X, requires_grad=True)
        m(x).sum().backward()
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks as "
                                               "a global Module hook"):
            modmod.register_module_backward_hook(lambda *a: None)
        for h in global_handles:
            h.remove()
        global_handles.clear()
        return log

    log = both(torch, scenario)
    assert [e if isinstance(e, str) else e[0] for e in log] == ["global", "local"]


def test_backward_hook_argument_rules(torch):
    """None for non-tensor arguments, zeros for tensors that do not require grad or got no gradient, None for
    outputs that got none; kwargs are not in grad_input."""
    def scenario(lib):
        log = []

        class M(lib.nn.Module):
            def forward(self, x, s, y, z, k=None):
                return x * s + y * k, z * 2, 7

        m = M()
        _record_backward(lib, m, log, "m")
        x = lib.ones(2, requires_grad=True)
        z = lib.ones(3, requires_grad=True)
        k = lib.full((2,), 4.0, requires_grad=True)
        out = m(x, 3.0, lib.ones(2), z, k=k)
        log.append((type(out).__name__, out[2]))
        out[0].sum().backward()
        log.append(("grads", npy(x.grad), npy(z.grad), npy(k.grad)))
        return log

    log = both(torch, scenario)
    assert log[0] == ("tuple", 7)
    assert log[1][:2] == ("m", "pre") and log[1][2][1:] == (None, None)
    gi = log[2][2]
    assert len(gi) == 4 and gi[1] is None and np.all(gi[2] == 0) and np.all(gi[3] == 0)


def test_backward_hook_no_input_requires_grad(torch):
    def scenario(lib):
        log = []
        m = linear(lib, W1, B1)
        _record_backward(lib, m, log, "lin")
        with pytest.warns(UserWarning, match="Full backward hook is firing when gradients are computed with respect "
                                             "to module outputs since no inputs require gradients"):
            m(lib.tensor(X)).sum().backward()
        log.append(npy(m.weight.grad))
        m2 = linear(lib, W1, B1)
        m2.register_full_backward_hook(lambda mod, gi, go: (lib.ones(5, 3),))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises(RuntimeError, match="Backward hook for Modules where no input requires gradient should "
                                                   "always return None or None for all gradients"):
                m2(lib.tensor(X)).sum().backward()
        # no hook fires when the output does not require grad (grad mode off)
        with lib.no_grad():
            out = m(lib.tensor(X, requires_grad=True))
        log.append((out.requires_grad, out.grad_fn is None))
        return log

    log = both(torch, scenario)
    assert log[1][2] == (None,)


def test_backward_hook_errors(torch):
    def scenario(lib):
        msgs = []
        x = lib.ones(2, requires_grad=True)
        cases = [
            ("full", lambda mod, gi, go: (None, None)),
            ("pre", lambda mod, go: (go[0], go[0])),
            ("full", lambda mod, gi, go: (lib.ones(3),)),
            ("pre", lambda mod, go: (lib.ones(3),)),
            ("full", lambda mod, gi, go: (gi[0].double(),)),
            ("full", lambda mod, gi, go: (5,)),
        ]
        for kind, hook in cases:
            m = lib.nn.ReLU()
            if kind == "full":
                m.register_full_backward_hook(hook)
            else:
                m.register_full_backward_pre_hook(hook)
            try:
                m(x * 1).sum().backward()
                msgs.append(None)
            except (RuntimeError, TypeError) as e:
                msgs.append((type(e).__name__, str(e)))
        m = lib.nn.ReLU()
        m.register_backward_hook(lambda *a: None)
        with pytest.raises(RuntimeError, match="Cannot use both regular backward hooks and full backward hooks on a "
                                               "single Module"):
            m.register_full_backward_hook(lambda *a: None)
        m = lib.nn.ReLU(inplace=True)
        m.register_full_backward_hook(lambda *a: None)
        try:
            m(x * 1)
            msgs.append(None)
        except RuntimeError as e:
            msgs.append(str(e))
        return msgs

    msgs = both(torch, scenario)
    assert msgs[0][1] == "Backward hook returned an invalid number of grad_input, got 2, but expected 1"
    assert msgs[1][1] == "Backward pre hook returned an invalid number of grad_output, got 2, but expected 1"
    assert msgs[2][1] == msgs[3][1] == "hook 'hook' has changed the size of value"
    assert "has changed the type of value (was torch.FloatTensor got torch.DoubleTensor)" in msgs[4][1]
    assert msgs[5] == ("TypeError", "expected Variable, but hook returned 'int'")
    assert msgs[6].startswith("Output 0 of BackwardHookFunction is a view and is being modified inplace")


def test_backward_hook_unused_and_replaced_outputs(torch):
    def scenario(lib):
        log = []

        class Two(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.w = lib.nn.Parameter(lib.ones(2))

            def forward(self, x, y):
                return x * 2, y * self.w * 3

        m = Two()
        _record_backward(lib, m, log, "two")
        x = lib.ones(2, requires_grad=True)
        y = lib.ones(2, requires_grad=True)
        m(x, y)[0].sum().backward()
        log.append(("grads", npy(x.grad), npy(y.grad), npy(m.w.grad)))
        # a pre-hook may put a gradient where none flowed
        m2 = Two()
        m2.register_full_backward_pre_hook(lambda mod, go: (go[0], lib.full((2,), 5.0)))
        y2 = lib.ones(2, requires_grad=True)
        m2(x, y2)[0].sum().backward()
        log.append(("filled", npy(y2.grad), npy(m2.w.grad)))
        return log

    log = both(torch, scenario)
    assert log[0][2][1] is None  # grad_output of the unused output
    assert log[2][3] is None  # w got no gradient at all
    np.testing.assert_allclose(log[3][1], np.full(2, 15.0))


Pair = namedtuple("Pair", ["values", "indices"])


def test_module_called_twice_and_namedtuple_output(torch):
    def scenario(lib):
        log = []
        m = linear(lib, W1, B1)
        m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", grads(gi), grads(go))))
        x = lib.tensor(X, requires_grad=True)
        (m(x).sum() + (m(x * 2) ** 2).sum()).backward()
        log.append(("grads", npy(x.grad), npy(m.weight.grad)))

        class MaxMod(lib.nn.Module):
            def forward(self, t):
                r = t.max(dim=1)
                return Pair(r.values, r.indices)

        mm = MaxMod()
        mm.register_full_backward_hook(lambda mod, gi, go: log.append(("max", grads(gi), len(go), go[1])))
        r = mm(lib.tensor(X, requires_grad=True))
        log.append(type(r).__name__)  # a namedtuple output is rebuilt as one
        r.values.sum().backward()
        return log

    both(torch, scenario)


def test_register_backward_hook_simple_module(torch):
    """The deprecated hook agrees with torch on a one-node forward (ReLU on a non-leaf tensor)."""
    def scenario(lib):
        log = []
        m = lib.nn.ReLU()
        m.register_backward_hook(lambda mod, gi, go: log.append((grads(gi), grads(go))))
        m.register_backward_hook(lambda mod, gi, go: (gi[0] * 10,))
        x = lib.tensor(X, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no FutureWarning for a single node
            m(x * 1).sum().backward()
        log.append(npy(x.grad))
        with pytest.warns(FutureWarning, match="forward contains multiple autograd Nodes"):
            lin = linear(lib, W1, B1)
            lin.register_backward_hook(lambda *a: None)
            lin(x * 1)
        return log

    both(torch, scenario)


# ------------------------------------------------------------------ state-dict hooks
def test_state_dict_hooks(torch):
    def scenario(lib):
        log = []
        m = mlp(lib)
        m.register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre", prefix, keep_vars)))
        m[0].register_state_dict_pre_hook(lambda mod, prefix, keep_vars: log.append(("pre0", prefix)))

        def post(mod, sd, prefix, local_metadata):
            log.append(("post0", prefix, sorted(sd), dict(local_metadata)))
            sd[prefix + "extra"] = lib.zeros(1)
        m[0].register_state_dict_post_hook(post)
        m.register_state_dict_post_hook(lambda mod, sd, prefix, md: log.append(("post", sorted(sd))))
        sd = m.state_dict(keep_vars=True)
        log.append(sorted(sd))
        # old form: a returned dict replaces the state dict (for the module state_dict is called on)
        h = m._register_state_dict_hook(lambda mod, sd, prefix, md: OrderedDict(only=lib.ones(1)))
        log.append(sorted(m.state_dict()))
        h.remove()
        m2 = lib.nn.Linear(1, 1)
        m2.register_state_dict_post_hook(lambda *a: {})
        with pytest.raises(RuntimeError, match="state_dict post-hook must return None"):
            m2.state_dict()

        def f(*a):
            return None
        lib.nn.Linear(1, 1).register_state_dict_post_hook(f)
        with pytest.raises(RuntimeError, match="Cannot register the same function as the state dict post hook"):
            lib.nn.Linear(1, 1)._register_state_dict_hook(f)
        return log

    log = both(torch, scenario)
    assert log[0] == ("pre", "", True) and log[1] == ("pre0", "0.")
    assert log[2][0] == "post0" and log[3] == ("post", ["0.bias", "0.extra", "0.weight", "2.bias", "2.weight"])
    assert log[4] == ["0.bias", "0.extra", "0.weight", "2.bias", "2.weight"] and log[-1] == ["only"]


def test_load_state_dict_hooks(torch):
    def scenario(lib):
        log = []
        m = mlp(lib)
        sd = {k: v.clone() for k, v in mlp(lib).state_dict().items()}
        sd["2.w_old"] = sd.pop("2.weight")  # an old checkpoint's name, renamed by a pre-hook

        def rename(state_dict, prefix, local_metadata, strict, missing, unexpected, errors):
            log.append(("rename", prefix, strict, sorted(state_dict)))
            if prefix + "w_old" in state_dict:
                state_dict[prefix + "weight"] = state_dict.pop(prefix + "w_old")
        m[2]._register_load_state_dict_pre_hook(rename)
        m.register_load_state_dict_pre_hook(lambda mod, state_dict, prefix, *rest: log.append(
            ("pre", type(mod).__name__, prefix, len(rest))))
        m[0].register_load_state_dict_post_hook(lambda mod, keys: log.append(("post0", list(keys.missing_keys))))
        m.register_load_state_dict_post_hook(lambda mod, keys: log.append(("post", repr(keys))))
        res = m.load_state_dict(sd)
        log.append(repr(res))
        log.append(npy(m[2].weight))
        # a post-hook that clears the missing keys lets a strict load of a partial dict pass
        m2 = mlp(lib)
        m2.register_load_state_dict_post_hook(lambda mod, keys: keys.missing_keys.clear())
        log.append(repr(m2.load_state_dict({"0.weight": lib.zeros(4, 3)})))
        # one that adds an unexpected key makes it fail
        m3 = lib.nn.Linear(3, 4)
        m3.register_load_state_dict_post_hook(lambda mod, keys: keys.unexpected_keys.append("bogus"))
        with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "bogus"'):
            m3.load_state_dict(lib.nn.Linear(3, 4).state_dict())
        m4 = lib.nn.Linear(3, 4)
        m4.register_load_state_dict_post_hook(lambda mod, keys: keys)
        with pytest.raises(AssertionError, match="are not expected to return new values"):
            m4.load_state_dict(m4.state_dict())
        return log

    log = both(torch, scenario)
    assert log[0] == ("pre", "Sequential", "", 5)
    assert [e[0] for e in log[1:4]] == ["post0", "rename", "post"]
    assert log[4] == "<All keys matched successfully>"


# ------------------------------------------------------------------ no torch needed
def test_backward_hooks_numpy_reference():
    """numpy reference: full backward hook values on y = relu(x @ W.T + b), and a grad_input replacement."""
    log = []
    m = nn.Sequential(linear(mt, W1, B1), nn.ReLU())
    m.register_full_backward_pre_hook(lambda mod, go: log.append(("pre", npy(go[0]))))
    m.register_full_backward_hook(lambda mod, gi, go: log.append(("full", npy(gi[0]), npy(go[0]))))
    m[0].register_full_backward_hook(lambda mod, gi, go: (gi[0] * -1,))
    x = mt.tensor(X, requires_grad=True)
    g = RNG.standard_normal((5, 4)).astype(np.float32)
    m(x).backward(mt.tensor(g))
    pre = X @ W1.T + B1
    g_pre = g * (pre > 0)
    assert [e[0] for e in log] == ["pre", "full"]
    np.testing.assert_allclose(log[0][1], g)
    np.testing.assert_allclose(log[1][2], g)
    np.testing.assert_allclose(log[1][1], -(g_pre @ W1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(x.grad), -(g_pre @ W1), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(npy(m[0].weight.grad), g_pre.T @ X, rtol=1e-5, atol=1e-5)


def test_forward_hooks_numpy_reference():
    """numpy reference: pre-hook scales the input, forward hook adds to the output, kwargs hook sees kwargs."""
    m = linear(mt, W1, B1)
    seen = []
    m.register_forward_pre_hook(lambda mod, args: (args[0] * 2,))
    m.register_forward_hook(lambda mod, args, out: out + 1)
    m.register_forward_hook(lambda mod, args, kwargs, out: seen.append((npy(args[0]), kwargs, npy(out))),
                            with_kwargs=True)
    out = m(mt.tensor(X))
    ref = (2 * X) @ W1.T + B1 + 1
    np.testing.assert_allclose(npy(out), ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(seen[0][0], 2 * X)
    assert seen[0][1] == {}
    np.testing.assert_allclose(seen[0][2], ref, rtol=1e-5, atol=1e-5)


def test_no_hooks_no_wrapping():
    """Without hooks the output is forward's own; with only forward hooks nothing is routed through the backward
    machinery; after removing backward hooks the call is plain again."""
    m = linear(mt, W1, B1)
    x = mt.tensor(X, requires_grad=True)
    assert m(x).grad_fn.name() != "BackwardHookFunctionBackward"
    h = m.register_forward_hook(lambda *a: None)
    assert m(x).grad_fn.name() != "BackwardHookFunctionBackward"
    h.remove()
    h = m.register_full_backward_hook(lambda *a: None)
    assert m(x).grad_fn.name() == "BackwardHookFunctionBackward"
    h.remove()
    assert m(x).grad_fn.name() != "BackwardHookFunctionBackward"
    assert not any((m._forward_hooks, m._forward_pre_hooks, m._backward_hooks, m._backward_pre_hooks))


def _module_level_hook(mod, args, out):
    return out * 2


def _module_level_bw_hook(mod, gi, go):
    return None


def test_pickle_and_deepcopy_keep_hooks():
    m = linear(mt, W1, B1)
    m.register_forward_hook(_module_level_hook, with_kwargs=False, always_call=True)
    m.register_full_backward_hook(_module_level_bw_hook)
    m.register_load_state_dict_pre_hook(lambda *a: None)  # _WrappedHook holding a weak reference to m
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(nn.Sequential(OrderedDict(a=nn.ReLU()))))):
        assert isinstance(clone, nn.Module)
    c = copy.deepcopy(m)
    assert list(c._forward_hooks.values()) == [_module_level_hook]
    assert list(c._forward_hooks_always_called) == list(m._forward_hooks_always_called)
    assert c._is_full_backward_hook is True
    (wrapped,) = c._load_state_dict_pre_hooks.values()
    assert wrapped.module() is c
    np.testing.assert_allclose(npy(c(mt.tensor(X))), npy(m(mt.tensor(X))))
    # a module pickled before the hook dicts existed gets them back
    state = dict(m.__dict__)
    for k in ("_backward_hooks", "_backward_pre_hooks", "_forward_hooks_with_kwargs", "_forward_hooks_always_called",
              "_forward_pre_hooks_with_kwargs", "_state_dict_hooks", "_state_dict_pre_hooks",
              "_load_state_dict_pre_hooks", "_load_state_dict_post_hooks", "_is_full_backward_hook"):
        state.pop(k)
    old = nn.Linear.__new__(nn.Linear)
    old.__setstate__(state)
    assert old._backward_hooks == OrderedDict() and old._is_full_backward_hook is None
    old(mt.tensor(X)).sum().backward()
    old.state_dict()
    old.load_state_dict(old.state_dict())


def test_backward_hooks_do_not_keep_modules_alive():
    """A module that keeps a tensor from its forward is still collected when it has backward hooks (the hook
    machinery holds it weakly from the input side), and a module dropped between forward and backward still gets
    its hooks called (the output side holds it)."""
    import gc
    import weakref

    class Keeps(nn.Module):
        def forward(self, x):
            self.last = x * 2
            return self.last + 1

    m = Keeps()
    m.register_full_backward_hook(lambda *a: None)
    m.register_full_backward_pre_hook(lambda *a: None)
    m(mt.ones(2, requires_grad=True))
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None

    seen = []
    m = linear(mt, W1, B1)
    m.register_full_backward_hook(lambda mod, gi, go: seen.append(type(mod).__name__))
    out = m(mt.tensor(X, requires_grad=True))
    ref = weakref.ref(m)
    del m
    gc.collect()
    out.sum().backward()
    assert seen == ["Linear"]
    del out
    gc.collect()
    assert ref() is None
