"""DistributedDataParallel, SyncBatchNorm and DistributedSampler over minitorch.distributed (2 and 3 processes):
training on each rank's share of a batch ends where one process training on the whole batch ends (MLP,
LSTM char model), gradient accumulation under no_sync, unused parameters, buffers, bucketing and overlap,
uneven inputs under join(), and torch's errors."""
import numpy as np
import pytest

from _dist_harness import requires_mpi, run_ranks

import minitorch as mt
import minitorch.nn as nn
import minitorch.nn.functional as F

ATOL = 1e-5

# ---------------------------------------------------------------------------------------------------------
# models and data, shared by the ranks (they import this module) and the single-process references


def mlp(seed=0):
    mt.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


class CharModel(nn.Module):
    """The tutorial's character model: embedding, LSTM, linear read-out of every step."""

    def __init__(self, vocab=12, emb=8, hidden=16):
        super().__init__()
        self.emb = nn.Embedding(vocab, emb)
        self.lstm = nn.LSTM(emb, hidden, batch_first=True)
        self.fc = nn.Linear(hidden, vocab)

    def forward(self, x):
        h, _ = self.lstm(self.emb(x))
        return self.fc(h)


def char_model(seed=0):
    mt.manual_seed(seed)
    return CharModel()


class Branchy(nn.Module):
    """A trunk and a branch used only when asked (and a head whose output may go unused)."""

    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(5, 8)
        self.branch = nn.Linear(8, 8)
        self.out = nn.Linear(8, 3)
        self.aux = nn.Linear(8, 1)

    def forward(self, x, use_branch=True, aux=False):
        h = mt.tanh(self.trunk(x))
        if use_branch:
            h = h + mt.tanh(self.branch(h))
        y = self.out(h)
        return (y, self.aux(h)) if aux else y


def branchy(seed=0):
    mt.manual_seed(seed)
    return Branchy()


def batch(kind, n, seed=1):
    rng = np.random.default_rng(seed)
    if kind == "char":
        x = rng.integers(0, 12, size=(n, 7))
        y = np.roll(x, -1, axis=1)
        return mt.tensor(x), mt.tensor(y)
    return (mt.tensor(rng.standard_normal((n, 5)).astype(np.float32)),
            mt.tensor(rng.standard_normal((n, 3)).astype(np.float32)))


def loss_of(kind, out, y):
    if kind == "char":
        return F.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return F.mse_loss(out, y)


def shard(t, rank, world):
    n = t.shape[0] // world
    return t[rank * n:(rank + 1) * n]


def params(m):
    return [p.detach().numpy().copy() for p in m.parameters()]


def train(model, kind, xs, ys, steps, forward=None, lr=0.1, momentum=0.9):
    """SGD steps of model on (xs, ys); forward(model, x, step) replaces model(x)."""
    opt = mt.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    for step in range(steps):
        opt.zero_grad()
        out = model(xs) if forward is None else forward(model, xs, step)
        loss_of(kind, out, ys).backward()
        opt.step()
    return model


def assert_params(got, want, atol=ATOL):
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, b, atol=atol, rtol=0)


# ---------------------------------------------------------------------------------------------------------
# single-process checks (no process group)


def test_no_process_group_is_torchs_value_error():
    torch = pytest.importorskip("torch")
    with pytest.raises(ValueError) as ours:
        nn.parallel.DistributedDataParallel(nn.Linear(2, 2))
    with pytest.raises(ValueError) as theirs:
        torch.nn.parallel.DistributedDataParallel(torch.nn.Linear(2, 2))
    assert str(ours.value) == str(theirs.value)


def test_import_paths():
    from minitorch.nn.parallel import DistributedDataParallel as DDP
    from minitorch.nn.parallel.distributed import DistributedDataParallel

    assert DDP is DistributedDataParallel is mt.nn.parallel.DistributedDataParallel
    assert "DistributedDataParallel" in mt.nn.parallel.__all__


def test_bucket_assignment_is_torchs():
    from minitorch.nn.parallel.distributed import _compute_bucket_assignment_by_size

    ts = [mt.zeros(200_000), mt.zeros(10), mt.zeros(5, dtype=mt.float64), mt.zeros(100_000), mt.zeros(7_000_000),
          mt.zeros(7)]
    # the first bucket closes at 1 MiB, the others at the second limit; one dtype per bucket; partly filled last
    assert _compute_bucket_assignment_by_size(ts, [1 << 20, 25 << 20]) == [[0, 1, 3], [4], [5], [2]]
    assert _compute_bucket_assignment_by_size(ts, [1 << 40]) == [[0, 1, 3, 4, 5], [2]]
    assert _compute_bucket_assignment_by_size(ts, [1]) == [[0], [1], [2], [3], [4], [5]]


def test_syncbatchnorm_without_process_group_is_batchnorm():
    x = mt.randn(6, 3, 4)
    s, b = nn.SyncBatchNorm(3), nn.BatchNorm1d(3)
    np.testing.assert_allclose(s(x).detach().numpy(), b(x).detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(s.running_var.numpy(), b.running_var.numpy(), atol=1e-6)


def test_distributed_sampler_without_process_group_raises():
    from minitorch.utils.data.distributed import DistributedSampler

    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))


# ---------------------------------------------------------------------------------------------------------
# training against one process on the whole batch

TRAIN = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    kind, steps, kw = KIND, STEPS, KW
    model = (char_model if kind == "char" else mlp)(seed=rank + 10 * (rank > 0))  # rank 0's init wins
    ddp = DDP(model, **kw)
    x, y = batch(kind, N)
    train(ddp, kind, shard(x, rank, world), shard(y, rank, world), steps, lr=LR)
    grads_are_views = [any(p.grad.data_ptr() == v.data_ptr() for b in ddp.reducer.buckets for v in b.views)
                       for p in model.parameters()]
    return dict(params=params(model), keys=list(ddp.state_dict().keys()), buckets=len(ddp.reducer.buckets),
                views=grads_are_views)
"""


def run_training(world, kind, steps, tmp_path, lr=0.1, n=12, **kw):
    body = f"KIND, STEPS, KW, N, LR = {kind!r}, {steps}, {kw!r}, {n}, {lr}\n" + TRAIN
    return run_ranks(world, body, tmp_path).ok()


@requires_mpi
@pytest.mark.parametrize("world", [2, 3])
def test_mlp_matches_one_process(world, tmp_path):
    res = run_training(world, "mlp", 20, tmp_path)
    x, y = batch("mlp", 12)
    want = params(train(mlp(seed=0), "mlp", x, y, 20))
    for r in res:
        assert_params(r["params"], want)
        assert r["keys"] == ["module." + k for k in mlp().state_dict().keys()]
        assert r["buckets"] == 1  # a small model fits torch's first (1 MiB) bucket


@requires_mpi
def test_lstm_char_model_matches_one_process(tmp_path):
    res = run_training(2, "char", 20, tmp_path, lr=0.5, n=6, bucket_cap_mb=0.001)
    x, y = batch("char", 6)
    want = params(train(char_model(seed=0), "char", x, y, 20, lr=0.5))
    for r in res:
        assert r["buckets"] > 2
        assert_params(r["params"], want)


@requires_mpi
def test_gradient_as_bucket_view(tmp_path):
    res = run_training(2, "mlp", 20, tmp_path, gradient_as_bucket_view=True, bucket_cap_mb=0.001)
    x, y = batch("mlp", 12)
    want = params(train(mlp(seed=0), "mlp", x, y, 20))
    for r in res:
        assert r["buckets"] > 1 and all(r["views"])
        assert_params(r["params"], want)
    (tmp_path / "plain").mkdir()
    plain = run_training(2, "mlp", 2, tmp_path / "plain")
    assert not any(plain[0]["views"])


# ---------------------------------------------------------------------------------------------------------
# gradient accumulation


NO_SYNC = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    model = mlp()
    ddp = DDP(model)
    opt = mt.optim.SGD(ddp.parameters(), lr=0.1, momentum=0.9)
    x, y = batch("mlp", 24)
    local = []
    for step in range(3):
        opt.zero_grad()
        for micro in range(2):
            part = slice(12 * micro, 12 * micro + 12)
            xs, ys = shard(x[part], rank, world), shard(y[part], rank, world)
            if micro == 0:
                with ddp.no_sync():
                    loss_of("mlp", ddp(xs), ys).backward()
                local.append(model[0].weight.grad.numpy().copy())
            else:
                loss_of("mlp", ddp(xs), ys).backward()
        opt.step()
    return dict(params=params(model), local=local)
"""


# nanoGPT's train.py spelling of the same: the flag no_sync() sets, assigned before each micro-step's forward
NANOGPT_FLAG = NO_SYNC.replace("""                with ddp.no_sync():
                    loss_of("mlp", ddp(xs), ys).backward()""", """                ddp.require_backward_grad_sync = False
                loss_of("mlp", ddp(xs), ys).backward()""").replace("""            else:
                loss_of""", """            else:
                ddp.require_backward_grad_sync = True
                loss_of""")


@requires_mpi
@pytest.mark.parametrize("body", [NO_SYNC, NANOGPT_FLAG], ids=["no_sync", "require_backward_grad_sync"])
def test_no_sync_accumulates_locally_then_averages(tmp_path, body):
    assert body.count("ddp(xs)") == 2
    res = run_ranks(2, body, tmp_path).ok()
    model = mlp()
    opt = mt.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = batch("mlp", 24)
    for step in range(3):
        opt.zero_grad()
        for micro in range(2):
            part = slice(12 * micro, 12 * micro + 12)
            loss_of("mlp", model(x[part]), y[part]).backward()
        opt.step()
    for r in res:
        assert_params(r["params"], params(model))
    # inside no_sync nothing was communicated: each rank holds the gradient of its own half
    assert not np.allclose(res[0]["local"][0], res[1]["local"][0])


# ---------------------------------------------------------------------------------------------------------
# buffers and the construction broadcast


BUFFERS = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP
import warnings

class Shift(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("shift", mt.zeros(2))
    def forward(self, x):
        return self.lin(x) + self.shift

def main(rank, world):
    out = {}
    m = Shift()
    mt.manual_seed(rank)
    nn.init.normal_(m.lin.weight)
    m.shift.fill_(rank + 1.0)
    ddp = DDP(m)
    out["init_weight"] = m.lin.weight.detach().numpy().copy()
    out["init_shift"] = m.shift.numpy().copy()
    m.shift.fill_(10.0 * (rank + 1))
    x = mt.ones(1, 2)
    y = ddp(x)                            # training forward: rank 0's buffers first
    out["fwd_shift"] = m.shift.numpy().copy()
    out["fwd_out"] = (y - m.lin(x)).detach().numpy()
    y.sum().backward()
    with mt.no_grad():                    # the first forward after a synced one still syncs (torch)...
        m.shift.fill_(7.0 * (rank + 1))
        ddp(x)
        out["nograd1"] = m.shift.numpy().copy()
        m.shift.fill_(7.0 * (rank + 1))   # ...the next one does not
        ddp(x)
        out["nograd2"] = m.shift.numpy().copy()
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        m2 = Shift()
        m2.shift.fill_(rank + 1.0)
        ddp2 = DDP(m2, broadcast_buffers=False)
        out["warned"] = [str(x.message)[:40] for x in w if issubclass(x.category, FutureWarning)]
    out["no_bcast_init"] = m2.shift.numpy().copy()
    ddp2(x).sum().backward()
    out["no_bcast_fwd"] = m2.shift.numpy().copy()
    return out
"""


@requires_mpi
def test_construction_and_forward_broadcasts(tmp_path):
    res = run_ranks(2, BUFFERS, tmp_path).ok()
    for r in res:
        np.testing.assert_array_equal(r["init_weight"], res[0]["init_weight"])
        np.testing.assert_array_equal(r["init_shift"], [1.0, 1.0])
        np.testing.assert_array_equal(r["fwd_shift"], [10.0, 10.0])
        np.testing.assert_array_equal(r["fwd_out"], [[10.0, 10.0]])
        np.testing.assert_array_equal(r["nograd1"], [7.0, 7.0])
        assert r["warned"] == ["`broadcast_buffers` is deprecated. Use `"]
    assert res[1]["nograd2"].tolist() == [14.0, 14.0]
    assert res[1]["no_bcast_init"].tolist() == [2.0, 2.0] and res[1]["no_bcast_fwd"].tolist() == [2.0, 2.0]


# ---------------------------------------------------------------------------------------------------------
# unused parameters


UNUSED = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    out = {}
    model = branchy()
    ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=0.0005)
    x, y = batch("mlp", 12)
    xs, ys = shard(x, rank, world), shard(y, rank, world)
    grads = []
    def forward(m, x, step):
        out = m(x, use_branch=step % 3 == 0)
        grads.append(model.branch.weight.grad is None)
        return out
    train(ddp, "mlp", xs, ys, 20, forward=forward)
    out["params"] = params(model)
    out["branch_grad_none"] = model.branch.weight.grad is None  # step 19 did not use it
    # the branch used by rank 0 only: its gradient is rank 0's share, averaged
    ddp.zero_grad()
    loss_of("mlp", ddp(xs, use_branch=rank == 0), ys).backward()
    out["mixed"] = [None if p.grad is None else p.grad.numpy().copy() for p in model.parameters()]
    # an output that does not reach the loss: its head gets no gradient, and the next iteration goes on
    ddp.zero_grad()
    y1, y2 = ddp(xs, aux=True)
    loss_of("mlp", y1, ys).backward()
    out["aux_none"] = model.aux.weight.grad is None and model.aux.bias.grad is None
    out["out_grad"] = model.out.weight.grad.numpy().copy()
    loss_of("mlp", ddp(xs), ys).backward()
    return out
"""


@requires_mpi
def test_find_unused_parameters(tmp_path):
    res = run_ranks(2, UNUSED, tmp_path).ok()
    x, y = batch("mlp", 12)
    model = branchy()
    train(model, "mlp", x, y, 20, forward=lambda m, x, step: m(x, use_branch=step % 3 == 0))
    for r in res:
        assert_params(r["params"], params(model))
        assert r["branch_grad_none"]
        assert r["aux_none"]
    # one process: the mean of the two ranks' losses, the branch in rank 0's only
    model.zero_grad()
    loss = (loss_of("mlp", model(x[:6], use_branch=True), y[:6]) +
            loss_of("mlp", model(x[6:], use_branch=False), y[6:])) / 2
    loss.backward()
    want = [None if p.grad is None else p.grad.numpy() for p in model.parameters()]
    for r in res:
        got = r["mixed"]
        assert got[6] is None and got[7] is None  # aux: no rank used it, so its .grad stays None
        assert_params(got[:6], want[:6], atol=1e-6)
    np.testing.assert_array_equal(res[0]["out_grad"], res[1]["out_grad"])


UNUSED_ERROR = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    ddp = DDP(branchy())
    x, y = batch("mlp", 12)
    loss_of("mlp", ddp(x, use_branch=False), y).backward()
    try:
        ddp(x)
    except RuntimeError as e:
        return str(e)
"""


@requires_mpi
def test_unused_parameters_without_find_unused_raise_torchs_error(tmp_path):
    res = run_ranks(2, UNUSED_ERROR, tmp_path).ok()
    for rank, msg in enumerate(res):
        assert msg.startswith("Expected to have finished reduction in the prior iteration before starting a new "
                              "one. This error indicates that your module has parameters that were not used in "
                              "producing loss. You can enable unused parameter detection by passing the keyword "
                              "argument `find_unused_parameters=True`")
        # branch.weight, branch.bias and the unused aux head
        assert f"\nParameter indices which did not receive grad for rank {rank}: 2 3 6 7\n" in msg


# ---------------------------------------------------------------------------------------------------------
# buckets and overlap


OVERLAP = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    model = nn.Sequential(nn.Linear(5, 16), nn.Tanh(), nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 3))
    ddp = DDP(model, bucket_cap_mb=1e-9)  # one parameter per bucket
    red = ddp.reducer
    seen = []
    # runs when the gradient of the first layer's weight is computed, before it is accumulated: its bucket
    # (the last) cannot have been launched, the ones of the later layers must have been
    model[0].weight.register_hook(lambda g: seen.append((red.expect_hooks, list(red.launched))))
    x, y = batch("mlp", 12)
    for step in range(3):
        ddp.zero_grad()
        loss_of("mlp", ddp(shard(x, rank, world)), shard(y, rank, world)).backward()
    return dict(buckets=[b.variables for b in red.buckets], seen=seen, launched=red.launched)
"""


@requires_mpi
def test_buckets_launch_in_order_during_backward(tmp_path):
    res = run_ranks(2, OVERLAP, tmp_path).ok()
    for r in res:
        assert r["buckets"] == [[5], [4], [3], [2], [1], [0]]  # reverse registration order
        assert r["launched"] == [0, 1, 2, 3, 4, 5]
        for in_backward, launched in r["seen"]:
            assert in_backward
            assert launched[:4] == [0, 1, 2, 3] and 5 not in launched


# ---------------------------------------------------------------------------------------------------------
# SyncBatchNorm


SYNC_BN = """
from test_ddp import *

def main(rank, world):
    sizes = SIZES
    rng = np.random.default_rng(0)
    x = rng.standard_normal((sum(sizes), 3, 4, 2)).astype(np.float32) * 2 + 1
    coef = rng.standard_normal(x.shape).astype(np.float32)
    lo = sum(sizes[:rank])
    part = slice(lo, lo + sizes[rank])
    m = nn.SyncBatchNorm(3, momentum=MOMENTUM)
    with mt.no_grad():
        m.weight.copy_(mt.tensor([1.0, 2.0, -0.5]))
        m.bias.copy_(mt.tensor([0.1, 0.2, 0.3]))
    outs, gxs, gws, gbs = [], [], [], []
    for step in range(2):
        xr = mt.tensor(x[part] * (step + 1), requires_grad=True)
        out = m(xr)
        (out * mt.tensor(coef[part])).sum().backward()
        # a rank with no samples gets no gradients (None), as in torch
        gw = m.weight.grad.clone() if m.weight.grad is not None else mt.zeros(3)
        gb = m.bias.grad.clone() if m.bias.grad is not None else mt.zeros(3)
        dist.all_reduce(gw)
        dist.all_reduce(gb)
        m.zero_grad()
        outs.append(out.detach().numpy())
        gxs.append(xr.grad.numpy() if xr.grad is not None else np.zeros(xr.shape, np.float32))
        gws.append(gw.numpy()); gbs.append(gb.numpy())
    m.eval()
    evald = m(mt.tensor(x[part])).detach().numpy()  # eval: the running statistics, no communication
    return dict(out=outs, gx=gxs, gw=gws, gb=gbs, rm=m.running_mean.numpy(), rv=m.running_var.numpy(),
                eval=evald, part=(part.start, part.stop))
"""


@requires_mpi
@pytest.mark.parametrize("sizes,momentum", [([3, 5], 0.3), ([3, 0, 5], None)], ids=["2ranks", "3ranks-empty"])
def test_syncbatchnorm_matches_batchnorm_on_the_whole_batch(sizes, momentum, tmp_path):
    res = run_ranks(len(sizes), f"SIZES, MOMENTUM = {sizes}, {momentum}\n" + SYNC_BN, tmp_path).ok()
    rng = np.random.default_rng(0)
    x = rng.standard_normal((sum(sizes), 3, 4, 2)).astype(np.float32) * 2 + 1
    coef = rng.standard_normal(x.shape).astype(np.float32)
    b = nn.BatchNorm2d(3, momentum=momentum)
    with mt.no_grad():
        b.weight.copy_(mt.tensor([1.0, 2.0, -0.5]))
        b.bias.copy_(mt.tensor([0.1, 0.2, 0.3]))
    want = []
    for step in range(2):
        xf = mt.tensor(x * (step + 1), requires_grad=True)
        out = b(xf)
        (out * mt.tensor(coef)).sum().backward()
        want.append((out.detach().numpy(), xf.grad.numpy(), b.weight.grad.numpy().copy(), b.bias.grad.numpy().copy()))
        b.zero_grad()
    b.eval()
    evald = b(mt.tensor(x)).detach().numpy()
    for r in res:
        lo, hi = r["part"]
        for step, (out, gx, gw, gb) in enumerate(want):
            np.testing.assert_allclose(r["out"][step], out[lo:hi], atol=1e-5)
            np.testing.assert_allclose(r["gx"][step], gx[lo:hi], atol=1e-5)
            np.testing.assert_allclose(r["gw"][step], gw, atol=1e-4, rtol=1e-5)
            np.testing.assert_allclose(r["gb"][step], gb, atol=1e-4, rtol=1e-5)
        np.testing.assert_allclose(r["rm"], b.running_mean.numpy(), atol=1e-6)
        np.testing.assert_allclose(r["rv"], b.running_var.numpy(), atol=1e-5)
        np.testing.assert_allclose(r["eval"], evald[lo:hi], atol=1e-5)


DDP_SYNC_BN = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    mt.manual_seed(0)
    model = nn.SyncBatchNorm.convert_sync_batchnorm(
        nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3)))
    ddp = DDP(model)
    x, y = batch("mlp", 12)
    train(ddp, "mlp", shard(x, rank, world), shard(y, rank, world), 5)
    return dict(params=params(model), rm=model[1].running_mean.numpy(), rv=model[1].running_var.numpy())
"""


@requires_mpi
def test_ddp_with_syncbatchnorm_matches_batchnorm_on_one_process(tmp_path):
    res = run_ranks(2, DDP_SYNC_BN, tmp_path).ok()
    mt.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3))
    x, y = batch("mlp", 12)
    train(model, "mlp", x, y, 5)
    for r in res:
        assert_params(r["params"], params(model))
        np.testing.assert_allclose(r["rm"], model[1].running_mean.numpy(), atol=1e-5)
        np.testing.assert_allclose(r["rv"], model[1].running_var.numpy(), atol=1e-5)


# ---------------------------------------------------------------------------------------------------------
# DistributedSampler


SAMPLER = """
from minitorch.utils.data.distributed import DistributedSampler

def main(rank, world):
    s = DistributedSampler(range(11), seed=3)
    explicit = DistributedSampler(range(11), num_replicas=world, rank=rank, seed=3)
    return s.num_replicas, s.rank, list(s), list(explicit)
"""


@requires_mpi
def test_distributed_sampler_takes_the_process_group(tmp_path):
    res = run_ranks(3, SAMPLER, tmp_path).ok()
    for rank, (replicas, r, got, explicit) in enumerate(res):
        assert (replicas, r) == (3, rank) and got == explicit and len(got) == 4
    assert sorted(sum((x[2] for x in res), [])) == sorted(list(range(11)) + [res[0][2][0]])


# ---------------------------------------------------------------------------------------------------------
# uneven inputs


JOIN = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP

def main(rank, world):
    model = mlp()
    ddp = DDP(model)
    opt = mt.optim.SGD(ddp.parameters(), lr=0.1)
    x, y = batch("mlp", 40)
    steps = 3 if rank == 0 else 5
    with ddp.join():
        for step in range(steps):
            opt.zero_grad()
            part = slice(8 * step + 4 * rank, 8 * step + 4 * rank + 4)
            loss_of("mlp", ddp(x[part]), y[part]).backward()
            opt.step()
    # after the context, training goes on as usual
    opt.zero_grad()
    loss_of("mlp", ddp(x[:4]), y[:4]).backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    # throw_on_early_termination: every rank raises once one has run out
    try:
        with ddp.join(throw_on_early_termination=True):
            for step in range(2 if rank == 0 else 4):
                loss_of("mlp", ddp(x[:4]), y[:4]).backward()
        thrown = None
    except RuntimeError as e:
        thrown = str(e)
    return params(model), grads, thrown
"""


@requires_mpi
def test_join_shadows_the_collectives_of_uneven_inputs(tmp_path):
    res = run_ranks(2, JOIN, tmp_path).ok()
    model = mlp()
    opt = mt.optim.SGD(model.parameters(), lr=0.1)
    x, y = batch("mlp", 40)
    for step in range(5):
        opt.zero_grad()
        loss = 0
        for rank in ((0, 1) if step < 3 else (1,)):  # rank 0 joined after 3 steps: it contributes zeros
            part = slice(8 * step + 4 * rank, 8 * step + 4 * rank + 4)
            loss = loss + loss_of("mlp", model(x[part]), y[part]) / 2
        loss.backward()
        opt.step()
    for got, grads, thrown in res:
        assert_params(got, params(model))
    assert [r[2] for r in res] == ["Rank 0 exhausted all inputs.",
                                   "Detected at least one rank that exhausted inputs. Throwing across all ranks."]
    model.zero_grad()
    loss_of("mlp", model(x[:4]), y[:4]).backward()
    assert_params(res[0][1], [p.grad.numpy() for p in model.parameters()], atol=1e-6)


# ---------------------------------------------------------------------------------------------------------
# construction and API


API = """
from test_ddp import *
from minitorch.nn.parallel import DistributedDataParallel as DDP
import warnings

def err(fn):
    try:
        fn()
    except Exception as e:
        return type(e).__name__, str(e)
    return None

def main(rank, world):
    out = {}
    m = nn.Linear(3, 2)
    ddp = DDP(m)
    out["module"] = ddp.module is m and isinstance(ddp, nn.Module)
    out["repr"] = repr(ddp)
    out["getattr"] = err(lambda: ddp.weight)
    out["device_ids2"] = err(lambda: DDP(m, device_ids=[0, 1]))
    out["device_ids_cpu"] = err(lambda: DDP(m, device_ids=[0]))
    out["comm_hook"] = err(lambda: ddp.register_comm_hook(None, lambda s, b: None))
    frozen = nn.Linear(2, 2).requires_grad_(False)
    out["frozen"] = err(lambda: DDP(frozen))
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        DDP(nn.Linear(2, 2), check_reduction=True, static_graph=True)
        out["warnings"] = [str(x.message) for x in w]
    half = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2))
    half[0].requires_grad_(False)
    out["half"] = [len(b.variables) for b in DDP(half).reducer.buckets]
    two = nn.Sequential(nn.Linear(5, 16), nn.Linear(16, 16))
    out["cap_list"] = [b.variables for b in DDP(two, bucket_cap_mb_list=[0.0004, 1]).reducer.buckets]
    import copy, pickle
    twin = copy.deepcopy(ddp)  # torch's __getstate__/__setstate__: the default group, buckets of its own
    twin(mt.ones(2, 3)).sum().backward()
    out["twin"] = (twin.module is not m and twin.reducer is not ddp.reducer and m.weight.grad is None
                   and twin.module.weight.grad.tolist() == [[2.0] * 3] * 2)
    sub = DDP(nn.Linear(2, 2), process_group=dist.new_group([0, 1]))
    out["pickle_group"] = err(lambda: pickle.dumps(sub))
    other = nn.Linear(3, 2 + rank)
    out["mismatch"] = err(lambda: DDP(other))
    other = nn.Sequential(*[nn.Linear(2, 2) for _ in range(rank + 1)])
    out["count"] = err(lambda: DDP(other))
    return out
"""


@requires_mpi
def test_construction_errors_and_attributes(tmp_path):
    res = run_ranks(2, API, tmp_path).ok()
    for rank, r in enumerate(res):
        assert r["module"]
        assert r["repr"] == ("DistributedDataParallel(\n  (module): Linear(in_features=3, out_features=2, "
                             "bias=True)\n)")
        assert r["getattr"] == ("AttributeError", "'DistributedDataParallel' object has no attribute 'weight'")
        assert r["device_ids2"] == ("ValueError", "device_ids can only be None or contain a single element.")
        assert r["device_ids_cpu"][0] == "ValueError" and "device_ids [0], output_device None" in r["device_ids_cpu"][1]
        assert r["comm_hook"][0] == "NotImplementedError" and "register_comm_hook" in r["comm_hook"][1]
        assert r["frozen"] == ("RuntimeError", "DistributedDataParallel is not needed when a module doesn't have "
                                               "any parameter that requires a gradient.")
        assert r["warnings"] == ["The `check_reduction` argument in `DistributedDataParallel` module is deprecated. "
                                 "Please avoid using it."]
        assert r["half"] == [2]
        assert r["cap_list"] == [[3, 2], [1, 0]]  # 0.0004 MiB closes at the 16x16 weight; 1 MiB holds the rest
        assert r["twin"]
        assert r["pickle_group"] == ("RuntimeError", "DDP Pickling/Unpickling are only supported when using DDP "
                                     "with the default process group. That is, when you have called "
                                     "init_process_group and have not passed process_group argument to DDP "
                                     "constructor")
        assert r["mismatch"][0] == "RuntimeError" and "same model across all ranks" in r["mismatch"][1] or \
            r["mismatch"][1].startswith("[1]: params[0] in this process with sizes [3, 3]")
        assert r["count"][0] == "RuntimeError"
    assert res[1]["mismatch"] == ("RuntimeError", "[1]: params[0] in this process with sizes [3, 3] appears not to "
                                                  "match sizes of the same param in process 0.")
    assert res[0]["count"][1] == ("DDP expects same model across all ranks, but Rank 0 has 2 params, while rank 1 "
                                  "has inconsistent 4 params.")
