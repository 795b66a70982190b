"""minitorch.fx against torch.fx: the same programs (written once, run with `torch` bound to each library) must
give the same graphs, node names / ops / targets, generated code and printed output, and traced modules must
compute what the eager ones do."""
import copy
import linecache
import operator

import numpy as np
import pytest

import minitorch
import minitorch.fx as mfx
from minitorch.fx.passes.shape_prop import ShapeProp as MShapeProp

torch = pytest.importorskip("torch")
import torch.fx  # noqa: E402
from torch.fx.passes.shape_prop import ShapeProp as TShapeProp  # noqa: E402

# Programs shared by both libraries: exec'd at module scope with `torch` bound to torch or minitorch.
PROGRAMS = r'''
import math
import operator
import copy
nn = torch.nn
F = torch.nn.functional
fx = torch.fx

def my_len(x):
    return x.shape[0] + 1

fx.wrap('my_len')

class Sub(nn.Module):
    def __init__(self):
        super().__init__()
        self.param = nn.Parameter(torch.rand(3, 4))
        self.linear = nn.Linear(4, 5)

    def forward(self, x):
        return self.linear(x + self.param).clamp(min=0.0, max=1.0)

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.bn = nn.BatchNorm2d(4)
        self.unused = Sub()

    def forward(self, x, y=None):
        a = F.relu(self.bn(self.conv(x)))
        b = torch.relu(a) + 1
        c = 2 * b - a.sum(dim=1, keepdim=True)
        d = torch.cat([a, c], 1)
        s = d.shape
        e = d.view(s[0], -1)
        f = F.softmax(e, dim=-1)
        g = F.dropout(f, 0.2, training=False)
        h = torch.add(g, g, alpha=2)
        return h[:, 0], torch.flatten(h, 1).size(1), F.max_pool2d(x, 2)

class Twice(nn.Module):
    def __init__(self):
        super().__init__()
        self.s = Sub()

    def forward(self, x):
        return self.s(x) + self.s(x)

class Unpack(nn.Module):
    def forward(self, x):
        a, b = x.chunk(2)
        return my_len(a) * b, torch.relu(x)

class Control(nn.Module):
    def forward(self, x):
        if x.sum() > 0:
            return x
        return -x

class Loop(nn.Module):
    def forward(self, x):
        for row in x:
            x = x + row
        return x

class Length(nn.Module):
    def forward(self, x):
        return len(x)

def specialized(x, flag, y=3):
    if flag:
        return x + y
    return x - y

class AddMul(nn.Module):
    def forward(self, x, y):
        return x + y, torch.add(x, y), x.add(y)

def pattern(w1, w2):
    return torch.cat([w1, w2]).sum()

def replacement(w1, w2):
    return torch.stack([w1, w2])

class Rewrite(nn.Module):
    def forward(self, x, w1, w2):
        m1 = torch.cat([w1, w2]).sum()
        m2 = torch.cat([w1, w2]).sum()
        return x + torch.max(m1) + torch.max(m2)

class Chain(nn.Module):
    def forward(self, x, y):
        a = torch.relu(x + y)
        b = torch.relu(a + 1)
        c = torch.relu(b + y)
        return a, c

class Shared(nn.Module):
    def forward(self, x, y):
        s = x + y
        return torch.relu(s), s * 2

def add_relu(u, v):
    return torch.relu(u + v)

def mul_sigmoid(u, v):
    return torch.sigmoid(u * v)

class NegSigmSwap(fx.Transformer):
    def call_function(self, target, args, kwargs):
        if target == torch.sigmoid:
            return torch.neg(*args, **kwargs)
        return super().call_function(target, args, kwargs)

    def call_method(self, target, args, kwargs):
        if target == 'neg':
            call_self, *args_tail = args
            return call_self.sigmoid(*args_tail, **kwargs)
        return super().call_method(target, args, kwargs)

def neg_sigmoid(x):
    return torch.sigmoid(x).neg()

class TwoLayerNet(nn.Module):
    def __init__(self, D_in, H, D_out):
        super().__init__()
        self.linear1 = nn.Linear(D_in, H)
        self.linear2 = nn.Linear(H, D_out)

    def forward(self, x):
        h_relu = self.linear1(x).clamp(min=0)
        return self.linear2(h_relu)

class SeqLeafTracer(fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, nn.Sequential) or super().is_leaf_module(m, qualname)

class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.seq = nn.Sequential(nn.Linear(3, 3), nn.ReLU())
        self.register_buffer('buf', torch.ones(3))

    def forward(self, x):
        return self.seq(x) + self.buf + torch.ones(3)

def dead(x):
    y = x + 1
    z = x * 2
    return y

class ConvBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(6)
        self.conv2 = nn.Conv2d(6, 4, 3, bias=False)
        self.bn2 = nn.BatchNorm2d(4)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(x)).mean(dim=(2, 3))

class VarArgs(nn.Module):
    def forward(self, x, *args, scale=2, **kwargs):
        return x * scale + args[0]

def method_functionals(x):
    return F.sigmoid(x) + F.tanh(x) + torch.det(x) + torch.inverse(x).sum()

def annotated(x: torch.Tensor, n: int = 2) -> torch.Tensor:
    return x.sum() * n

class Functionals(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(4, 4))
        self.b = nn.Parameter(torch.zeros(4))
        self.ln = nn.LayerNorm(4)

    def forward(self, x, t):
        y = F.gelu(F.linear(x, self.w, self.b))
        y = F.layer_norm(y, (4,)) * math.sqrt(2.0)
        z = torch.sigmoid(y).mean(-1) + self.ln(y).sum()
        loss = F.cross_entropy(y, t)
        return z.unsqueeze(0) @ y, loss, y.transpose(0, 1).contiguous()[0], x.size(0), F.logsigmoid(y)

# the torch.fx conv-bn fusion tutorial
def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    if conv_b is None:
        conv_b = torch.zeros_like(bn_rm)
    bn_var_rsqrt = torch.rsqrt(bn_rv + bn_eps)
    conv_w = conv_w * (bn_w * bn_var_rsqrt).reshape([-1] + [1] * (len(conv_w.shape) - 1))
    conv_b = (conv_b - bn_rm) * bn_var_rsqrt * bn_w + bn_b
    return torch.nn.Parameter(conv_w), torch.nn.Parameter(conv_b)

def fuse_conv_bn_eval(conv, bn):
    assert not (conv.training or bn.training), "Fusion only for eval!"
    fused_conv = copy.deepcopy(conv)
    fused_conv.weight, fused_conv.bias = fuse_conv_bn_weights(
        fused_conv.weight, fused_conv.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias)
    return fused_conv

def _parent_name(target):
    *parent, name = target.rsplit('.', 1)
    return parent[0] if parent else '', name

def fuse(model):
    model = copy.deepcopy(model)
    fx_model = fx.symbolic_trace(model)
    modules = dict(fx_model.named_modules())
    for node in fx_model.graph.nodes:
        if node.op != 'call_module':
            continue
        if type(modules[node.target]) is nn.BatchNorm2d and type(modules[node.args[0].target]) is nn.Conv2d:
            if len(node.args[0].users) > 1:
                continue
            conv = modules[node.args[0].target]
            bn = modules[node.target]
            parent_name, name = _parent_name(node.args[0].target)
            setattr(modules[parent_name], name, fuse_conv_bn_eval(conv, bn))
            node.replace_all_uses_with(node.args[0])
            fx_model.graph.erase_node(node)
    fx_model.graph.lint()
    fx_model.recompile()
    return fx_model
'''


def _load(lib):
    # the source is registered with linecache, so that stack traces show its lines
    linecache.cache["<fx_programs>"] = (len(PROGRAMS), None, PROGRAMS.splitlines(True), "<fx_programs>")
    ns = {"torch": lib, "__name__": "fx_programs"}
    exec(compile(PROGRAMS, "<fx_programs>", "exec"), ns)
    return ns


T = _load(torch)
M = _load(minitorch)


def _mt(a):
    return minitorch.tensor(a.detach().numpy())


def _np(t):
    return t.detach().numpy()


def _same_weights(tmod, mmod):
    """Give the minitorch module the torch module's parameters and buffers."""
    msd = {k: _mt(v) for k, v in tmod.state_dict().items()}
    mmod.load_state_dict(msd)


def _nodes(gm):
    return [(n.op, n.name, n.target if isinstance(n.target, str) else n.target.__name__, len(n.users))
            for n in gm.graph.nodes]


def test_graph_and_code_match_torch():
    tgm = torch.fx.symbolic_trace(T["Net"]())
    mgm = mfx.symbolic_trace(M["Net"]())
    assert str(mgm.graph) == str(tgm.graph)
    assert mgm.code == tgm.code
    assert [(n.op, n.name) for n in mgm.graph.nodes] == [(n.op, n.name) for n in tgm.graph.nodes]
    assert str(mgm) == str(tgm)  # the module's repr (only the used submodules are copied) + code
    assert type(mgm).__name__ == "Net"
    # node API
    relu = next(n for n in mgm.graph.nodes if n.name == "relu")
    assert relu.op == "call_function" and relu.target is minitorch.nn.functional.relu
    assert relu.kwargs == {"inplace": False}
    assert [u.name for u in relu.users] == ["relu_1", "sum_1", "cat"]
    cat = next(n for n in mgm.graph.nodes if n.name == "cat")
    assert cat.target is minitorch.cat and [n.name for n in cat.all_input_nodes] == ["relu", "sub"]
    ops = {n.name: n.target for n in mgm.graph.nodes}
    assert ops["add"] is operator.add and ops["getattr_1"] is getattr and ops["sum_1"] == "sum"


def test_traced_module_computes_eager():
    minitorch.manual_seed(0)
    net = M["Net"]().eval()
    gm = mfx.symbolic_trace(net)
    x = minitorch.randn(2, 3, 6, 6)
    for got, want in zip(gm(x), net(x)):
        if isinstance(want, minitorch.Tensor):
            np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6, atol=1e-6)
        else:
            assert got == want
    # and torch's traced module gives the same numbers with the same weights
    tnet = T["Net"]().eval()
    _same_weights(tnet, net)
    tx = torch.tensor(x.numpy())
    for got, want in zip(gm(x), torch.fx.symbolic_trace(tnet)(tx)):
        if isinstance(want, torch.Tensor):
            np.testing.assert_allclose(_np(got), _np(want), rtol=1e-5, atol=1e-5)
        else:
            assert got == want


def test_submodules_params_and_module_stack():
    tgm = torch.fx.symbolic_trace(T["Twice"]())
    mgm = mfx.symbolic_trace(M["Twice"]())
    assert mgm.code == tgm.code and str(mgm) == str(tgm)
    for tn, mn in zip(tgm.graph.nodes, mgm.graph.nodes):
        tstack = {k: v[0] for k, v in tn.meta.get("nn_module_stack", {}).items()}
        mstack = {k: v[0] for k, v in mn.meta.get("nn_module_stack", {}).items()}
        assert tstack == mstack
    assert isinstance(mgm.s, minitorch.nn.Module) and mgm.s.param is not None


def test_unpacking_wrap_and_errors():
    tgm = torch.fx.symbolic_trace(T["Unpack"]())
    mgm = mfx.symbolic_trace(M["Unpack"]())
    assert mgm.code == tgm.code
    wrapped = next(n for n in mgm.graph.nodes if n.name == "my_len")
    assert wrapped.target is M["my_len"] and wrapped.meta["is_wrapped"]
    out = mgm(minitorch.ones(4, 2))
    np.testing.assert_allclose(out[0].numpy(), np.full((2, 2), 3.0))
    with pytest.raises(mfx.proxy.TraceError, match="cannot be used as inputs to control flow"):
        mfx.symbolic_trace(M["Control"]())
    with pytest.raises(torch.fx.proxy.TraceError):
        torch.fx.symbolic_trace(T["Control"]())
    with pytest.raises(mfx.proxy.TraceError, match="Proxy object cannot be iterated"):
        mfx.symbolic_trace(M["Loop"]())
    with pytest.raises(RuntimeError, match="'len' is not supported in symbolic tracing"):
        mfx.symbolic_trace(M["Length"]())
    assert issubclass(mfx.proxy.TraceError, ValueError)


def test_concrete_args():
    tgm = torch.fx.symbolic_trace(T["specialized"], concrete_args={"flag": True})
    mgm = mfx.symbolic_trace(M["specialized"], concrete_args={"flag": True})
    assert mgm.code == tgm.code and str(mgm.graph) == str(tgm.graph)
    np.testing.assert_allclose(mgm(minitorch.ones(2), True).numpy(), [4.0, 4.0])
    with pytest.raises(AssertionError, match="specialized to have value True"):
        mgm(minitorch.ones(2), False)


def test_rewrite_add_to_mul():
    results = []
    for lib, ns, fx_ in ((torch, T, torch.fx), (minitorch, M, mfx)):
        gm = fx_.symbolic_trace(ns["AddMul"]())
        for node in gm.graph.nodes:
            if node.op == "call_function" and node.target in (operator.add, lib.add):
                with gm.graph.inserting_after(node):
                    new_node = gm.graph.call_function(lib.mul, node.args, node.kwargs)
                    node.replace_all_uses_with(new_node)
                gm.graph.erase_node(node)
        gm.graph.lint()
        gm.recompile()
        results.append(gm)
    tgm, mgm = results
    assert mgm.code == tgm.code
    out = mgm(minitorch.full((2,), 3.0), minitorch.full((2,), 2.0))
    assert [o.tolist() for o in out] == [[6.0, 6.0], [6.0, 6.0], [5.0, 5.0]]
    with pytest.raises(RuntimeError, match="still had 3 users"):
        node = next(n for n in mgm.graph.nodes if n.op == "placeholder")
        mgm.graph.erase_node(node)


def test_replace_pattern():
    tgm = torch.fx.symbolic_trace(T["Rewrite"]())
    mgm = mfx.symbolic_trace(M["Rewrite"]())
    tm = torch.fx.replace_pattern(tgm, T["pattern"], T["replacement"])
    mm = mfx.replace_pattern(mgm, M["pattern"], M["replacement"])
    assert len(mm) == len(tm) == 2
    assert mgm.code == tgm.code
    x, w1, w2 = minitorch.ones(2), minitorch.tensor([1.0, 2.0]), minitorch.tensor([3.0, 5.0])
    np.testing.assert_allclose(mgm(x, w1, w2).numpy(), [11.0, 11.0])
    # chained matches (a later match reads an earlier replacement), literals matched by placeholders, and no
    # match where an inner node has users outside the pattern
    for name, count in (("Chain", 3), ("Shared", 0)):
        tgm, mgm = torch.fx.symbolic_trace(T[name]()), mfx.symbolic_trace(M[name]())
        tm = torch.fx.replace_pattern(tgm, T["add_relu"], T["mul_sigmoid"])
        mm = mfx.replace_pattern(mgm, M["add_relu"], M["mul_sigmoid"])
        assert len(mm) == len(tm) == count
        assert mgm.code == tgm.code

        def described(ms):
            return [(m.anchor.name, sorted((k.name, getattr(v, "name", v)) for k, v in m.nodes_map.items()))
                    for m in ms]

        assert described(mm) == described(tm)
    out = mgm(minitorch.ones(2), minitorch.ones(2))
    assert [o.tolist() for o in out] == [[2.0, 2.0], [4.0, 4.0]]  # Shared: unchanged


def test_transformer():
    tgm = T["NegSigmSwap"](torch.fx.symbolic_trace(T["neg_sigmoid"])).transform()
    mgm = M["NegSigmSwap"](mfx.symbolic_trace(M["neg_sigmoid"])).transform()
    assert mgm.code == tgm.code
    x = minitorch.tensor([0.5, -1.0])
    np.testing.assert_allclose(_np(mgm(x)), _np(minitorch.neg(x).sigmoid()), rtol=1e-6)
    assert minitorch.neg is minitorch.Tensor.neg  # the namespace is restored after transform()


def test_hand_built_graph_and_proxy():
    outs = []
    for lib, fx_ in ((torch, torch.fx), (minitorch, mfx)):
        g = fx_.Graph()
        a, b = g.placeholder("a"), g.placeholder("b")
        tracer = fx_.proxy.GraphAppendingTracer(g)
        pa, pb = fx_.Proxy(a, tracer), fx_.Proxy(b)
        out = (pa * pb + 1).relu()
        with g.inserting_after(out.node):
            c = g.call_method("sub", (out.node, 2))
        g.output(c)
        g.lint()
        outs.append((fx_.GraphModule(lib.nn.Module(), g), g))
    (tgm, tg), (mgm, mg) = outs
    assert str(mg) == str(tg) and mgm.code == tgm.code
    assert mgm(minitorch.tensor([1.0, -2.0]), minitorch.tensor([3.0, 4.0])).tolist() == [2.0, -2.0]
    # a dict root and a node's args edited by hand
    g = mfx.Graph()
    x = g.placeholder("x")
    w = g.get_attr("w")
    mm = g.call_function(minitorch.matmul, (x, w))
    g.output(mm)
    gm = mfx.GraphModule({"w": minitorch.eye(2) * 3}, g)
    assert gm(minitorch.ones(1, 2)).tolist() == [[3.0, 3.0]]
    mm.args = (w, x)
    assert mm.all_input_nodes == [w, x]
    gm.recompile()
    assert "matmul = torch.matmul(w, x)" in gm.code
    with pytest.raises(RuntimeError, match="Unsupported type"):
        mfx.GraphModule(3, g)


def test_shape_prop():
    tgm = torch.fx.symbolic_trace(T["TwoLayerNet"](10, 5, 2))
    mgm = mfx.symbolic_trace(M["TwoLayerNet"](10, 5, 2))
    TShapeProp(tgm).propagate(torch.randn(3, 10))
    MShapeProp(mgm).propagate(minitorch.randn(3, 10))
    for tn, mn in zip(tgm.graph.nodes, mgm.graph.nodes):
        tm, mm = tn.meta["tensor_meta"], mn.meta["tensor_meta"]
        assert (mn.name, tuple(mm.shape), str(mm.dtype), mm.stride, mm.requires_grad) == \
            (tn.name, tuple(tm.shape), str(tm.dtype), tm.stride, tm.requires_grad)
        assert mn.meta["type"].__name__ == tn.meta["type"].__name__


def test_custom_tracer_buffers_constants_deepcopy():
    tgraph = T["SeqLeafTracer"]().trace(T["WithBuffer"]())
    mgraph = M["SeqLeafTracer"]().trace(M["WithBuffer"]())
    assert str(mgraph) == str(tgraph)
    tgm = torch.fx.symbolic_trace(T["WithBuffer"]())
    mgm = mfx.symbolic_trace(M["WithBuffer"]())
    assert mgm.code == tgm.code and str(mgm) == str(tgm)
    gm2 = copy.deepcopy(mgm)
    assert gm2.code == mgm.code and type(gm2).__name__ == type(copy.deepcopy(tgm)).__name__
    x = minitorch.randn(2, 3)
    np.testing.assert_allclose(_np(gm2(x)), _np(mgm(x)))
    assert gm2.seq is not mgm.seq


def test_dead_code_and_unused_submodules():
    tgm = torch.fx.symbolic_trace(T["dead"])
    mgm = mfx.symbolic_trace(M["dead"])
    assert mgm.graph.eliminate_dead_code() is tgm.graph.eliminate_dead_code() is True
    tgm.recompile()
    mgm.recompile()
    assert mgm.code == tgm.code
    assert mgm.graph.eliminate_dead_code() is False
    gm = mfx.symbolic_trace(M["WithBuffer"]())
    gm.add_submodule("extra.lin", minitorch.nn.Linear(2, 2))
    assert "extra" in dict(gm.named_children())
    gm.delete_all_unused_submodules()
    assert "extra" not in dict(gm.named_children()) and "seq" in dict(gm.named_children())


def test_conv_bn_fusion_tutorial():
    minitorch.manual_seed(0)
    model = M["ConvBN"]()
    model.train()
    for _ in range(2):  # running stats that are not the initial ones
        model(minitorch.randn(4, 3, 8, 8))
    model.eval()
    fused = M["fuse"](model)
    assert [n.op for n in fused.graph.nodes].count("call_module") == 2
    tmodel = T["ConvBN"]().eval()
    tmodel.load_state_dict({k: torch.tensor(_np(v)) for k, v in model.state_dict().items()})
    tfused = T["fuse"](tmodel)
    assert fused.code == tfused.code
    x = minitorch.randn(2, 3, 8, 8)
    np.testing.assert_allclose(_np(fused(x)), _np(model(x)), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(_np(fused(x)), _np(tfused(torch.tensor(x.numpy()))),
                               rtol=1e-4, atol=1e-5)


def test_interpreter_and_print_tabular(capsys):
    gm = mfx.symbolic_trace(M["TwoLayerNet"](4, 3, 2))
    x = minitorch.randn(2, 4)
    np.testing.assert_allclose(_np(mfx.Interpreter(gm).run(x)), _np(gm(x)))
    try:
        import tabulate  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError):
            gm.graph.print_tabular()
        assert "`print_tabular` relies on the library `tabulate`" in capsys.readouterr().out
    else:
        gm.graph.print_tabular()
        assert "opcode" in capsys.readouterr().out


def test_namespace_restored_and_map_arg():
    before = (minitorch.relu, minitorch.nn.functional.relu, minitorch.nn.Module.__call__)
    mfx.symbolic_trace(M["Net"]())
    assert (minitorch.relu, minitorch.nn.functional.relu, minitorch.nn.Module.__call__) == before
    g = mfx.Graph()
    a = g.placeholder("a")
    assert mfx.node.map_arg((a, [a, 1], {"k": a}), lambda n: n.name) == ("a", ["a", 1], {"k": "a"})


def test_varargs_annotations_and_functionals():
    for name in ("VarArgs", "annotated", "Functionals", "method_functionals"):
        t_root = T[name]() if isinstance(T[name], type) else T[name]
        m_root = M[name]() if isinstance(M[name], type) else M[name]
        tgm, mgm = torch.fx.symbolic_trace(t_root), mfx.symbolic_trace(m_root)
        assert mgm.code == tgm.code and str(mgm.graph) == str(tgm.graph)
    # the generated forward(self, x, scale = 2, *args, **kwargs) binds (x, scale, 3) as torch's does
    assert mfx.symbolic_trace(M["VarArgs"]())(minitorch.ones(2), minitorch.ones(2), 3).tolist() == [4.0, 4.0]
    # torch._C._nn.linear, torch._C._nn.gelu resolve on minitorch in the generated code
    net = M["Functionals"]()
    gm = mfx.symbolic_trace(net)
    x, t = minitorch.randn(3, 4), minitorch.tensor([0, 1, 2])
    for got, want in zip(gm(x, t), net(x, t)):
        if isinstance(want, minitorch.Tensor):
            np.testing.assert_allclose(_np(got), _np(want), rtol=1e-6)
        else:
            assert got == want


def test_print_readable_with_shapes():
    tgm = torch.fx.symbolic_trace(T["Functionals"]())
    mgm = mfx.symbolic_trace(M["Functionals"]())
    assert mgm.print_readable(print_output=False) == tgm.print_readable(print_output=False)
    TShapeProp(tgm).propagate(torch.ones(3, 4), torch.tensor([0, 1, 2]))
    MShapeProp(mgm).propagate(minitorch.ones(3, 4), minitorch.tensor([0, 1, 2]))
    text = mgm.print_readable(print_output=False)
    assert text == tgm.print_readable(print_output=False)
    assert 'linear: "f32[3, 4]" = torch._C._nn.linear(x, w, b)' in text


def test_error_in_generated_code_shows_the_line(capsys):
    def f(x, y):
        z = x + 1
        return minitorch.matmul(z, y)

    gm = mfx.symbolic_trace(f)
    with pytest.raises(RuntimeError):
        gm(minitorch.ones(2, 3), minitorch.ones(2, 3))
    err = capsys.readouterr().err
    assert "Call using an FX-traced Module, line 6 of the traced Module's generated forward function:" in err
    assert "    matmul = torch.matmul(add, y);  add = y = None\n\n~~~~" in err and "~~~ <--- HERE\n    return matmul" in err


def test_record_stack_traces():
    tracer = mfx.Tracer()
    tracer.record_stack_traces = True
    graph = tracer.trace(M["TwoLayerNet"](4, 3, 2))
    linear1 = next(n for n in graph.nodes if n.name == "linear1")
    lineno = next(i for i, line in enumerate(PROGRAMS.split("\n"), 1) if "h_relu = self.linear1(x)" in line)
    assert linear1.stack_trace == \
        f'File "<fx_programs>", line {lineno}, in forward\n    h_relu = self.linear1(x).clamp(min=0)'
    assert next(n for n in graph.nodes if n.op == "placeholder").stack_trace is None
    gm = mfx.GraphModule(tracer.root, graph)
    assert f"# File: <fx_programs>:{lineno} in forward, code: h_relu = self.linear1(x).clamp(min=0)\n" \
        in gm.print_readable(print_output=False)
    assert mfx.symbolic_trace(M["TwoLayerNet"](4, 3, 2)).graph.find_nodes(op="call_module")[0].stack_trace is None
