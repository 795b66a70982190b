"""PyTorch checkpoints both ways: files torch.save writes (inside each test, into tmp_path) load with minitorch.load
(also in a subprocess where `import torch` fails), files minitorch.save writes load with torch.load(weights_only=True);
storages shared between tensors stay shared, views and non-contiguous tensors keep their values, map_location and
mmap=True work as in torch, and a hostile pickle is refused without running (the file it would create never
appears). Truncated or corrupted zips raise. PyTorch-trained LSTM, GRU and CNN state_dicts give torch's outputs."""
import collections
import io
import json
import math
import os
import pickle
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import minitorch as mt
from minitorch import serialization

torch = pytest.importorskip("torch")

MT_DTYPES = [n for n in ("float32", "float64", "int64", "int32", "bool", "float16", "bfloat16", "uint8", "int8",
                         "int16") if isinstance(getattr(mt, n, None), mt.dtype)]
TORCH_ONLY = [n for n in ("float16", "bfloat16", "uint8", "int8", "int16", "complex64", "complex128", "uint16")
              if n not in MT_DTYPES]


def sample(lib, name, shape=(3, 4), seed=0):
    rng = np.random.default_rng(seed)
    if name == "bool":
        a = rng.integers(0, 2, size=shape).astype(bool)
    elif name.startswith(("int", "uint")):
        a = rng.integers(-100 if name.startswith("int") else 0, 100, size=shape).astype(name)
    else:
        a = rng.standard_normal(shape).astype("float32")
    return lib.tensor(a).to(getattr(lib, name))


def to_np(t):
    t = t.detach()
    if str(t.dtype).endswith("bfloat16"):
        t = t.float()
    return t.cpu().numpy()


def same_values(m, t):
    assert str(m.dtype) == str(t.dtype) and tuple(m.shape) == tuple(t.shape)
    np.testing.assert_array_equal(to_np(m), to_np(t))


def tsave(obj, path, **kw):
    torch.save(obj, path, **kw)
    return path


def msave(obj, path):
    mt.save(obj, path)
    return path


# ------------------------------------------------------------------------------------------ torch -> minitorch

@pytest.mark.parametrize("name", MT_DTYPES)
def test_torch_file_every_minitorch_dtype(tmp_path, name):
    sd = collections.OrderedDict(w=sample(torch, name), s=sample(torch, name, ()), e=sample(torch, name, (0, 3)))
    out = mt.load(tsave(sd, tmp_path / "a.pt"))
    assert isinstance(out, collections.OrderedDict) and list(out) == list(sd)
    for k in sd:
        same_values(out[k], sd[k])
        assert out[k].dtype is getattr(mt, name)


@pytest.mark.parametrize("name", TORCH_ONLY)
def test_dtype_minitorch_lacks_raises_typeerror_naming_it(tmp_path, name):
    t = torch.ones(3, dtype=getattr(torch, name))
    p = tsave({"t": t}, tmp_path / "a.pt")
    with pytest.raises(TypeError, match=name):
        mt.load(p)


def test_views_and_shared_storage_from_torch(tmp_path):
    base = torch.arange(60.0).view(6, 10)
    views = {"base": base, "t": base.t(), "row": base[2], "col": base[:, 3], "step": base[1:5:2, ::3],
             "perm": base.view(2, 3, 10).permute(2, 0, 1), "exp": base[0, :4].unsqueeze(0).expand(3, 4),
             "narrow": base.narrow(1, 2, 5), "scalar": base[1, 1], "empty": base[:0]}
    out = mt.load(tsave(views, tmp_path / "v.pt"))
    for k, v in views.items():
        same_values(out[k], v)
        assert out[k].stride() == v.stride(), k
    # one storage: the contiguous, transposed, permuted and expanded layouts are minitorch views of one tensor
    flat = out["base"]._base
    assert flat is not None and all(out[k]._base is flat for k in ("t", "row", "col", "perm", "exp", "narrow"))
    out["base"][3, 3] = -1.0  # and writes show through every tensor of the storage, as in torch
    assert [out["t"][3, 3].item(), out["col"][3].item(), out["step"][1, 1].item(), out["narrow"][3, 1].item(),
            out["perm"][3, 1, 0].item()] == [-1.0] * 5


def test_requires_grad_and_parameters_from_torch(tmp_path):
    obj = {"p": torch.nn.Parameter(torch.randn(3)), "frozen": torch.nn.Parameter(torch.randn(2), requires_grad=False),
           "g": torch.randn(2, requires_grad=True), "plain": torch.randn(2)}
    out = mt.load(tsave(obj, tmp_path / "p.pt"))
    assert type(out["p"]) is mt.nn.Parameter and out["p"].requires_grad and out["p"].is_leaf
    assert type(out["frozen"]) is mt.nn.Parameter and not out["frozen"].requires_grad
    assert type(out["g"]) is mt.Tensor and out["g"].requires_grad and out["g"].is_leaf
    assert not out["plain"].requires_grad
    for k in obj:
        same_values(out[k], obj[k])


def torch_to_py(x):
    """torch's objects as plain Python/NumPy, to compare with what minitorch loads."""
    if isinstance(x, torch.Tensor):
        return ("T", str(x.dtype), to_np(x).tolist())
    if isinstance(x, mt.Tensor):
        return ("T", str(x.dtype), to_np(x).tolist())
    if isinstance(x, (torch.dtype, mt.dtype, torch.device, mt.device)):
        return repr(x)
    if isinstance(x, (torch.Size, mt.Size)):
        return ("Size", tuple(x))
    if isinstance(x, dict):
        return (type(x).__name__, [(torch_to_py(k), torch_to_py(v)) for k, v in x.items()])
    if isinstance(x, (list, tuple)):
        return (type(x).__name__, [torch_to_py(v) for v in x])
    if isinstance(x, float) and math.isnan(x):
        return "nan"
    return (type(x).__name__, x)


def containers(lib):
    return {"none": None, "t": True, "i": -(2 ** 70), "f": 1.5, "nan": float("nan"), "inf": -float("inf"),
            "s": "h\u00e9llo \u2603", "b": b"\x00\xff", "ba": bytearray(b"ab"), "c": 1 + 2j, "set": {1, 2},
            "tuple": (1, (2.0, "3"), ()), "list": [[], [1, [2]]], 5: "int key", (1, "a"): "tuple key",
            "od": collections.OrderedDict(b=lib.ones(2), a=[lib.zeros(1)]), "cnt": collections.Counter("aab"),
            "dtype": lib.float64, "dev": lib.device("cpu"), "size": lib.Size([2, 3])}


def test_nested_containers_both_ways(tmp_path):
    got = mt.load(tsave(containers(torch), tmp_path / "t.pt"))
    assert torch_to_py(got) == torch_to_py(containers(torch))
    assert got["dtype"] is mt.float64 and type(got["size"]) is mt.Size and type(got["dev"]) is mt.device
    back = torch.load(msave(containers(mt), tmp_path / "m.pt"), weights_only=True)
    assert torch_to_py(back) == torch_to_py(containers(mt))
    assert back["dtype"] is torch.float64 and type(back["size"]) is torch.Size


def test_loaded_views_save_back_to_torch(tmp_path):
    base = torch.arange(200.0)
    rng = np.random.default_rng(3)
    layouts = [((2, 3), (7, 2), 5), ((4,), (13,), 1), ((3, 2, 2), (1, 0, 30), 0), ((2, 2), (3, 3), 9)]
    for _ in range(20):
        nd = int(rng.integers(1, 4))
        size, stride = tuple(int(x) for x in rng.integers(1, 5, nd)), tuple(int(x) for x in rng.integers(0, 12, nd))
        extent = sum((n - 1) * st for n, st in zip(size, stride))
        layouts.append((size, stride, int(rng.integers(0, 200 - extent))))
    for size, stride, offset in layouts:
        v = base.as_strided(size, stride, offset)
        loaded = mt.load(tsave({"v": v, "base": base}, tmp_path / "v.pt"))
        same_values(loaded["v"], v)
        for obj in (loaded, {"v": loaded["v"]}):  # with and without the tensor holding the whole storage
            again = torch.load(msave(obj, tmp_path / "m.pt"), weights_only=True)
            same_values(loaded["v"], again["v"])
            same_values(mt.load(tmp_path / "m.pt")["v"], v)


def test_tensor_attributes_and_pickle_protocols(tmp_path):
    t = torch.ones(3)
    t.note = "kept"
    p = torch.nn.Parameter(torch.ones(2))
    p.tag = 7
    out = mt.load(tsave({"t": t, "p": p}, tmp_path / "a.pt"))
    assert out["t"].note == "kept" and type(out["p"]) is mt.nn.Parameter and out["p"].tag == 7
    for proto in (2, 3, 4, 5):
        obj = {"w": mt.arange(4.0), "x": [b"by", {1, 2}, "a" * 300, (1,) * 10, None]}
        path = tmp_path / f"p{proto}.pt"
        mt.save(obj, path, pickle_protocol=proto)
        assert torch_to_py(mt.load(path)) == torch_to_py(obj)
        assert torch_to_py(torch.load(path, weights_only=False)) == torch_to_py(obj)


def test_same_tensor_object_and_cycles(tmp_path):
    w = torch.randn(3)
    loop = [w]
    loop.append(loop)
    out = mt.load(tsave({"a": w, "b": [w], "loop": loop}, tmp_path / "s.pt"))
    assert out["a"] is out["b"][0] and out["loop"][1] is out["loop"] and out["loop"][0] is out["a"]


# ------------------------------------------------------------------------------------------ minitorch -> torch

@pytest.mark.parametrize("name", MT_DTYPES)
def test_minitorch_file_loads_in_torch_every_dtype(tmp_path, name):
    sd = collections.OrderedDict(w=sample(mt, name), s=sample(mt, name, ()), e=sample(mt, name, (0, 2)))
    out = torch.load(msave(sd, tmp_path / "m.pt"), weights_only=True)
    for k in sd:
        same_values(sd[k], out[k])


def test_minitorch_views_and_sharing_load_in_torch(tmp_path):
    base = mt.arange(60.0).view(6, 10)
    views = {"base": base, "t": base.t(), "col": base[:, 3], "step": base[1:5:2, ::3],
             "perm": base.view(2, 3, 10).permute(2, 0, 1), "exp": base[0, :4].unsqueeze(0).expand(3, 4),
             "other": mt.ones(2)}
    p = msave(views, tmp_path / "m.pt")
    out = torch.load(p, weights_only=True)
    for k, v in views.items():
        same_values(v, out[k])
        assert out[k].stride() == v.stride() and out[k].storage_offset() == v.storage_offset(), k
    ptr = out["base"].untyped_storage().data_ptr()
    assert all(out[k].untyped_storage().data_ptr() == ptr for k in ("t", "col", "step", "perm", "exp"))
    assert out["other"].untyped_storage().data_ptr() != ptr
    with zipfile.ZipFile(p) as z:  # one record per storage, as torch writes them
        assert sorted(n for n in z.namelist() if "/data/" in n) == ["m/data/0", "m/data/1"]
    back = mt.load(p)  # and minitorch reads its own file the same way
    for k, v in views.items():
        same_values(back[k], out[k])


def test_minitorch_parameters_and_requires_grad_in_torch(tmp_path):
    obj = {"p": mt.nn.Parameter(mt.randn(3)), "f": mt.nn.Parameter(mt.randn(2), requires_grad=False),
           "g": mt.randn(2, requires_grad=True)}
    out = torch.load(msave(obj, tmp_path / "m.pt"), weights_only=True)
    assert type(out["p"]) is torch.nn.Parameter and out["p"].requires_grad
    assert type(out["f"]) is torch.nn.Parameter and not out["f"].requires_grad
    assert type(out["g"]) is torch.Tensor and out["g"].requires_grad
    for k in obj:
        same_values(obj[k], out[k])


def test_optimizer_and_model_state_dict_load_in_torch(tmp_path):
    mnet = mt.nn.Sequential(mt.nn.Linear(4, 3), mt.nn.ReLU(), mt.nn.Linear(3, 2))
    opt = mt.optim.Adam(mnet.parameters(), lr=0.01)
    mnet(mt.randn(5, 4)).square().sum().backward()
    opt.step()
    p = msave({"model": mnet.state_dict(), "optim": opt.state_dict(), "epoch": 3}, tmp_path / "ckpt.pt")
    ck = torch.load(p, weights_only=True)
    tnet = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    tnet.load_state_dict(ck["model"])
    topt = torch.optim.Adam(tnet.parameters(), lr=0.01)
    topt.load_state_dict(ck["optim"])
    assert ck["epoch"] == 3 and topt.state_dict()["param_groups"][0]["lr"] == 0.01
    for i, st in opt.state_dict()["state"].items():
        for k, v in st.items():
            tv = topt.state_dict()["state"][i][k]
            np.testing.assert_allclose(to_np(tv) if torch.is_tensor(tv) else tv, to_np(v) if mt.is_tensor(v) else v)
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(to_np(tnet(torch.tensor(x))), to_np(mnet(mt.tensor(x))), rtol=1e-5, atol=1e-6)


def test_whole_minitorch_module_loads_in_torch(tmp_path):
    mnet = mt.nn.Sequential(mt.nn.Linear(4, 3), mt.nn.Tanh(), mt.nn.Linear(3, 2))
    p = msave(mnet, tmp_path / "model.pt")
    with pytest.raises(pickle.UnpicklingError, match="torch.nn"):  # a whole module is no weights_only file
        torch.load(p, weights_only=True)
    tnet = torch.load(p, weights_only=False)
    assert type(tnet) is torch.nn.Sequential and type(tnet[0]) is torch.nn.Linear
    x = np.random.default_rng(0).standard_normal((2, 4)).astype(np.float32)
    np.testing.assert_allclose(to_np(tnet(torch.tensor(x))), to_np(mnet(mt.tensor(x))), rtol=1e-5, atol=1e-6)


# ------------------------------------------------------------------------------------------ whole modules, legacy

NETDEF = """
import {lib} as torch
nn = torch.nn

class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = nn.Embedding(10, 4)
        self.rnn = nn.LSTM(4, 5, batch_first=True)
        self.drop = nn.Dropout(0.2)
        self.fc = nn.Linear(5, 3)

    def forward(self, x):
        h, _ = self.rnn(self.drop(self.emb(x)))
        return self.fc(h)
"""


def run_py(code, path_dirs, block_torch=False):
    pre = "import sys\nsys.modules['torch'] = None\n" if block_torch else ""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(d) for d in path_dirs] + [os.path.dirname(
        os.path.dirname(os.path.abspath(mt.__file__)))]))
    r = subprocess.run([sys.executable, "-c", pre + textwrap.dedent(code)], capture_output=True, text=True, env=env,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_whole_torch_module_loads_as_minitorch_module(tmp_path):
    """PyTorch's word_language_model example saves the whole model (torch.save(model, f)); minitorch loads it, with
    weights_only=False, as the minitorch modules of the same classes, giving torch's outputs."""
    (tmp_path / "t").mkdir()
    (tmp_path / "m").mkdir()
    (tmp_path / "t" / "netdef.py").write_text(NETDEF.format(lib="torch"))
    (tmp_path / "m" / "netdef.py").write_text(NETDEF.format(lib="minitorch"))
    want = run_py(f"""
        import json, torch, netdef
        torch.manual_seed(0)
        net = netdef.Net().eval()
        torch.save(net, {str(tmp_path / 'whole.pt')!r})
        print(json.dumps(net(torch.tensor([[1, 2, 3, 9]])).tolist()))
        """, [tmp_path / "t"])
    got = run_py(f"""
        import json, minitorch, netdef
        net = minitorch.load({str(tmp_path / 'whole.pt')!r}, weights_only=False)
        assert type(net) is netdef.Net and type(net.rnn) is minitorch.nn.LSTM and not net.training
        try:
            minitorch.load({str(tmp_path / 'whole.pt')!r})
        except Exception as e:
            assert "netdef.Net" in str(e), e
        else:
            raise AssertionError("weights_only=True loaded a whole module")
        minitorch.save(net, {str(tmp_path / 'back.pt')!r})
        print(json.dumps(net(minitorch.tensor([[1, 2, 3, 9]])).tolist()))
        """, [tmp_path / "m"], block_torch=True)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    again = run_py(f"""
        import json, torch, netdef
        net = torch.load({str(tmp_path / 'back.pt')!r}, weights_only=False)
        print(json.dumps(net(torch.tensor([[1, 2, 3, 9]])).tolist()))
        """, [tmp_path / "t"])
    np.testing.assert_allclose(again, want, rtol=1e-5, atol=1e-6)


def test_loading_without_torch_installed(tmp_path):
    base = torch.arange(12.0).view(3, 4)
    sd = {"w": base, "t": base.t(), "i": torch.tensor([1, 2], dtype=torch.int32), "p": torch.nn.Parameter(base[1])}
    p = tsave(sd, tmp_path / "a.pt")
    got = run_py(f"""
        import json, minitorch
        try:
            import torch
        except ImportError:
            pass
        else:
            raise AssertionError("torch importable")
        sd = minitorch.load({str(p)!r})
        sd["w"][0, 1] = 100.0  # shared with "t"
        print(json.dumps({{k: [str(v.dtype), type(v).__name__, v.tolist()] for k, v in sd.items()}}))
        """, [], block_torch=True)
    base[0, 1] = 100.0
    for k, v in sd.items():
        assert got[k] == [str(v.dtype), type(v).__name__, v.tolist()]


def test_legacy_format(tmp_path):
    base = torch.arange(12.0).view(3, 4)
    obj = {"w": base, "t": base.t(), "p": torch.nn.Parameter(torch.ones(2)), "i": torch.tensor([7]), "x": [1, "a"]}
    p = tsave(obj, tmp_path / "old.pt", _use_new_zipfile_serialization=False)
    out = mt.load(p)
    for k in ("w", "t", "p", "i"):
        same_values(out[k], obj[k])
    assert type(out["p"]) is mt.nn.Parameter and out["x"] == [1, "a"]
    out["w"][0, 1] = -5.0
    assert out["t"][1, 0].item() == -5.0
    with pytest.raises(RuntimeError, match="mmap"):
        mt.load(p, mmap=True)
    data = p.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 60)):
        with pytest.raises((RuntimeError, pickle.UnpicklingError)):
            mt.load(io.BytesIO(data[:cut]))
    # and minitorch writes it: torch.load reads it back, sharing kept
    keys = [str(i) for i in range(12)]  # more than 10 storages: the keys are written sorted as strings
    mobj = {"w": out["w"], "t": out["t"], "p": out["p"], "many": [mt.full((2,), float(i)) for i in keys]}
    q = tmp_path / "mt_old.pt"
    mt.save(mobj, q, _use_new_zipfile_serialization=False)
    assert not zipfile.is_zipfile(q)
    back = torch.load(q, weights_only=True)
    for k in ("w", "t", "p"):
        same_values(mobj[k], back[k])
    assert [v.tolist() for v in back["many"]] == [[float(i)] * 2 for i in keys]
    assert back["t"].untyped_storage().data_ptr() == back["w"].untyped_storage().data_ptr()
    assert torch_to_py(mt.load(q)) == torch_to_py(mobj)


def test_old_minitorch_format_still_loads(tmp_path):
    obj = {"w": mt.randn(3, 2), "n": [1, 2.5, "x"]}
    p = tmp_path / "old.mt"
    serialization._save_minitorch(obj, p)
    assert p.read_bytes().startswith(serialization.MAGIC)
    out = mt.load(p)
    same_values(out["w"], obj["w"])
    assert out["n"] == [1, 2.5, "x"]


# ------------------------------------------------------------------------------------------ map_location, mmap

def test_map_location_variants(tmp_path):
    p = tsave({"w": torch.randn(3), "v": torch.arange(4)}, tmp_path / "a.pt")
    seen = []

    def fn(storage, location):
        seen.append(location)
        return None

    for ml in (None, "cpu", mt.device("cpu"), {"cpu": "cpu"}, fn, lambda s, loc: s):
        out = mt.load(p, map_location=ml)
        assert out["w"].device.type == "cpu"
        same_values(out["v"], torch.arange(4))
    assert seen == ["cpu", "cpu"]
    doubled = mt.load(p, map_location=lambda s, loc: s * 2)
    same_values(doubled["v"], torch.arange(4) * 2)
    with pytest.raises(TypeError, match="map_location"):
        mt.load(p, map_location=lambda s, loc: s[:1])
    with pytest.raises(TypeError, match="map_location"):
        mt.load(p, map_location=3)


def _with_location(src, dst, location):
    """Copy a torch checkpoint, retagging its storages with another location."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_STORED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"X\x03\x00\x00\x00cpu", b"X" + len(location).to_bytes(4, "little") +
                                    location.encode())
            zout.writestr(info.filename, data)
    return dst


def test_cuda_location(tmp_path):
    p = _with_location(tsave({"w": torch.randn(3)}, tmp_path / "a.pt"), tmp_path / "cuda.pt", "cuda:0")
    if not mt.cuda.is_available():
        with pytest.raises(RuntimeError) as me:
            mt.load(p)
        if not torch.cuda.is_available():
            with pytest.raises(RuntimeError) as te:
                torch.load(p)
            assert str(me.value) == str(te.value)
    else:
        assert mt.load(p)["w"].device.type == "cuda"
        assert mt.load(p, map_location={"cuda:0": "cpu"})["w"].device.type == "cpu"
    assert mt.load(p, map_location="cpu")["w"].device.type == "cpu"
    assert mt.load(p, map_location=lambda s, loc: s)["w"].device.type == "cpu"


def _maps_of(path):
    ranges = []
    with open("/proc/self/maps") as fh:
        for line in fh:
            if line.rstrip().endswith(str(path)):
                lo, hi = line.split()[0].split("-")
                ranges.append((int(lo, 16), int(hi, 16)))
    return ranges


@pytest.mark.skipif(not os.path.exists("/proc/self/maps"), reason="needs /proc/self/maps")
def test_mmap_maps_without_copying(tmp_path):
    sd = {"a": torch.randn(1000, 100), "b": torch.arange(10), "t": torch.randn(30, 20).t()}
    p = tsave(sd, tmp_path / "big.pt")
    out = mt.load(p, mmap=True)
    ranges = _maps_of(p)
    assert ranges, "the file is not mapped"
    for k, v in sd.items():
        same_values(out[k], v)
        assert any(lo <= out[k].data_ptr() < hi for lo, hi in ranges), k
    before = p.read_bytes()
    out["a"].add_(1.0)  # copy-on-write, as torch's mmap: the file does not change
    assert p.read_bytes() == before
    np.testing.assert_allclose(to_np(out["a"]), to_np(sd["a"]) + 1, rtol=1e-6)
    with pytest.raises(ValueError, match="file path"):
        mt.load(io.BytesIO(before), mmap=True)


# ------------------------------------------------------------------------------------------ safety

def _pickle_zip(path, payload):
    """A torch-style zip whose data.pkl is `payload` (bytes of a pickle)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", payload)
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/version", "3\n")
    return path


def hostile_payloads(target):
    cmd = f"echo pwned > {target}"

    class System:
        def __reduce__(self):
            return (os.system, (cmd,))

    class Exec:
        def __reduce__(self):
            return (exec, (f"open({str(target)!r}, 'w').write('pwned')",))

    class Popen:
        def __reduce__(self):
            return (subprocess.Popen, (["sh", "-c", cmd],))

    class Open:
        def __reduce__(self):
            return (open, (str(target), "w"))

    class Eval:
        def __reduce__(self):
            return (eval, (f"open({str(target)!r}, 'w')",))

    return {"os.system": ("posix.system" if os.name == "posix" else "nt.system", System()),
            "exec": ("exec", Exec()), "subprocess": ("subprocess.Popen", Popen()), "open": ("io.open", Open()),
            "eval": ("eval", Eval())}


@pytest.mark.parametrize("kind", ["os.system", "exec", "subprocess", "open", "eval"])
@pytest.mark.parametrize("container", ["zip", "legacy", "torch"])
def test_hostile_pickle_is_refused_and_never_runs(tmp_path, kind, container):
    target = tmp_path / "pwned"
    name, evil = hostile_payloads(target)[kind]
    p = tmp_path / "evil.pt"
    if container == "zip":
        _pickle_zip(p, pickle.dumps({"w": [1, evil]}, protocol=2))
    elif container == "legacy":
        p.write_bytes(pickle.dumps(evil, protocol=2))
    else:
        torch.save({"w": torch.ones(2), "evil": evil}, p)
    with pytest.raises(pickle.UnpicklingError) as e:
        mt.load(p)
    assert not target.exists()
    msg = str(e.value)
    assert msg.startswith("Weights only load failed") and f"GLOBAL {name}" in msg
    with pytest.raises(pickle.UnpicklingError) as te:
        torch.load(p, weights_only=True)
    assert not target.exists()
    if container != "legacy" and kind != "subprocess":  # (torch names subprocess.Popen commands.Popen)
        line = [s for s in msg.split("\n") if "GLOBAL" in s][0].split("error: ")[-1]
        assert line in str(te.value)
        ours = serialization.get_unsafe_globals_in_checkpoint(p)
        assert ours == torch.serialization.get_unsafe_globals_in_checkpoint(p) == [name if "." in name else
                                                                                    "builtins." + name]


def test_hostile_opcodes_refused(tmp_path):
    # BUILD on a non-allowlisted object, INST/OBJ opcodes, calling a non-allowlisted global via STACK_GLOBAL
    payloads = [pickle.dumps(collections.OrderedDict(), protocol=2)[:-1] + b"}\x94b.",   # BUILD with a dict: fine
                b"\x80\x02cbuiltins\ngetattr\n.",
                b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93.",
                b"(cos\nsystem\nS'echo hi'\no.",
                b"\x80\x02]q\x00(K\x01e" + b"\x85q\x01R.",  # REDUCE on a list
                b"\x80\x02X\x01\x00\x00\x00a",               # truncated
                b"\x80\x02h\x05.",                            # memo miss
                b"\x80\x02e.",                                # APPENDS without mark
                b"\x80\x02X\xff\xff\xff\x7f"]                 # string longer than the data
    for i, data in enumerate(payloads):
        p = _pickle_zip(tmp_path / f"p{i}.pt", data)
        if i == 0:
            assert mt.load(p) == collections.OrderedDict()
            continue
        with pytest.raises(pickle.UnpicklingError):
            mt.load(p)


class _StorageId:
    pass


class _Crafted:
    """Pickles as torch's _rebuild_tensor_v2 call with whatever arguments a hostile file could hold."""

    def __init__(self, *args):
        self.args = args

    def __reduce__(self):
        return (torch._utils._rebuild_tensor_v2, (_StorageId(),) + self.args + (False, collections.OrderedDict()))


def _crafted_zip(path, obj, pid=("storage", None, "0", "cpu", 4), data=bytes(16)):
    class P(pickle.Pickler):
        def persistent_id(self, o):
            return (pid[0], torch.FloatStorage) + pid[2:] if isinstance(o, _StorageId) else None
    buf = io.BytesIO()
    P(buf, protocol=2).dump(obj)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", buf.getvalue())
        z.writestr("archive/byteorder", "little")
        z.writestr("archive/data/0", data)
        z.writestr("archive/version", "3\n")
    return path


@pytest.mark.parametrize("args,pid", [
    ((0, (0, 2 ** 62, 2 ** 62), (1, 1, 1)), None),   # no data, but strides past int64
    ((0, (2 ** 40, 2 ** 40), (0, 0)), None),          # element count past int64
    ((0, (3,), (2 ** 70,)), None),
    ((2, (3,), (1,)), None),                          # past the end of the storage
    ((-1, (2,), (1,)), None),
    ((0, (2,), (-1,)), None),
    ((0, (2, 2), (1,)), None),
    ((0, (2,), (1,)), ("storage", None, "0", "cpu", 100)),   # the record is shorter than numel says
    ((0, (2,), (1,)), ("storage", None, "7", "cpu", 4)),     # no such record
    ((0, (2,), (1,)), ("storage", None, "0", "mps", 4)),     # a location minitorch cannot restore
])
def test_crafted_tensor_records_raise(tmp_path, args, pid):
    p = _crafted_zip(tmp_path / "c.pt", {"w": _Crafted(*args)}, **({} if pid is None else {"pid": pid}))
    with pytest.raises(RuntimeError):
        mt.load(p)
    if args[1] != (0, 2 ** 62, 2 ** 62):  # (torch keeps that empty tensor with its odd strides; minitorch's
        with pytest.raises(Exception):    # contiguous strides for it would overflow) torch refuses the others too
            torch.load(p, weights_only=True)
    ok = _crafted_zip(tmp_path / "ok.pt", {"w": _Crafted(1, (3,), (1,))}, data=np.arange(4, dtype="<f4").tobytes())
    assert mt.load(ok)["w"].tolist() == torch.load(ok)["w"].tolist() == [1.0, 2.0, 3.0]


class Config:
    def __init__(self, lr):
        self.lr = lr


def test_safe_globals(tmp_path):
    p = tsave({"cfg": Config(0.5), "w": torch.ones(1)}, tmp_path / "c.pt")
    assert serialization.get_unsafe_globals_in_checkpoint(p) == [f"{__name__}.Config"]
    with pytest.raises(pickle.UnpicklingError, match=f"GLOBAL {__name__}.Config"):
        mt.load(p)
    with serialization.safe_globals([Config]):
        assert serialization.get_safe_globals() == [Config]
        assert serialization.get_unsafe_globals_in_checkpoint(p) == []
        assert mt.load(p)["cfg"].lr == 0.5
    assert serialization.get_safe_globals() == []
    serialization.add_safe_globals([(Config, f"{__name__}.Config")])
    try:
        assert mt.load(p)["cfg"].lr == 0.5
    finally:
        serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError):
        mt.load(p)
    assert mt.load(p, weights_only=False)["cfg"].lr == 0.5
    with pytest.raises(RuntimeError, match="pickle_module"):
        mt.load(p, pickle_module=pickle, weights_only=True)
    assert mt.load(p, pickle_module=pickle)["cfg"].lr == 0.5  # a pickle_module means weights_only=False, as torch


def test_error_messages_and_flags_as_torch(tmp_path, monkeypatch):
    target = tmp_path / "pwned"
    for kind in ("os.system", "exec"):  # a blocked module, a global that is not allowed
        p = tsave({"e": hostile_payloads(target)[kind][1]}, tmp_path / f"{kind}.pt")
        with pytest.raises(pickle.UnpicklingError) as me:
            mt.load(p)
        with pytest.raises(pickle.UnpicklingError) as te:
            torch.load(p)
        assert str(me.value) == str(te.value)
    p = _pickle_zip(tmp_path / "op.pt", b"\x80\x02I1\n.")  # INT: an opcode neither unpickler interprets
    with pytest.raises(pickle.UnpicklingError) as me:
        mt.load(p)
    assert "Please file an issue" in str(me.value) and "Unsupported operand 73" in str(me.value)
    assert not target.exists()
    ok = tsave({"w": torch.ones(2)}, tmp_path / "ok.pt")
    with pytest.warns(UserWarning, match="pickle_load_args only works"):
        mt.load(ok, encoding="latin1")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    cfg = tsave({"cfg": Config(2.0)}, tmp_path / "cfg.pt")
    with pytest.warns(UserWarning, match="forcing weights_only=False"):
        assert mt.load(cfg)["cfg"].lr == 2.0
    monkeypatch.setenv("TORCH_FORCE_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(RuntimeError, match="Only one of"):
        mt.load(cfg)
    monkeypatch.delenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD")
    with pytest.raises(pickle.UnpicklingError):
        mt.load(cfg, weights_only=False)


def test_safetensors_path_loads_as_torch_load_does(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.torch import save_file
    p = tmp_path / "w.safetensors"
    save_file({"w": torch.arange(3.0)}, str(p))
    assert mt.load(p)["w"].tolist() == torch.load(p)["w"].tolist() == [0.0, 1.0, 2.0]
    with pytest.raises(RuntimeError, match="dict map_location"):
        mt.load(p, map_location={"cpu": "cpu"})


def test_numpy_needs_allowlisting_as_in_torch(tmp_path):
    p = tsave({"a": np.arange(3)}, tmp_path / "n.pt")
    with pytest.raises(pickle.UnpicklingError, match="numpy"):
        mt.load(p)
    assert mt.load(p, weights_only=False)["a"].tolist() == [0, 1, 2]


def test_truncated_and_corrupted_zips_raise(tmp_path):
    base = torch.arange(24.0).view(4, 6)
    obj = {"w": base, "t": base.t(), "i": torch.arange(5), "s": "text"}
    data = tsave(obj, tmp_path / "a.pt").read_bytes()
    p = tmp_path / "bad.pt"
    errors = (RuntimeError, pickle.UnpicklingError, EOFError, ValueError)
    for cut in sorted(set(range(0, len(data), 23)) | {len(data) - 1, len(data) - 22}):
        p.write_bytes(data[:cut])
        with pytest.raises(errors):
            mt.load(p)
        with pytest.raises(errors):
            mt.load(p, mmap=True) if cut else mt.load(io.BytesIO(b""))
    rng = np.random.default_rng(0)
    for pos in sorted(set(rng.integers(0, len(data), size=400).tolist())):
        bad = bytearray(data)
        bad[pos] ^= 0x55
        try:
            out = mt.load(io.BytesIO(bytes(bad)))
        except errors:
            continue
        # a flip the format cannot see (a timestamp, padding) must not change what loads
        assert torch_to_py(out) == torch_to_py(obj), pos


def test_chunked_crc_check(tmp_path, monkeypatch):
    """Records are read in chunks whose CRCs are computed in parallel and chained: small chunks here."""
    from minitorch import _pickle_torch
    monkeypatch.setattr(_pickle_torch, "_CHUNK", 1024)
    w = torch.randn(1000)  # 4000 bytes: three whole chunks and a tail
    data = bytearray(tsave({"w": w, "e": torch.ones(256)}, tmp_path / "a.pt").read_bytes())
    same_values(mt.load(io.BytesIO(bytes(data)))["w"], w)
    start = data.index(w.numpy().tobytes())
    for pos in (0, 1023, 1024, 2500, 3999):
        bad = bytearray(data)
        bad[start + pos] ^= 1
        with pytest.raises(RuntimeError, match="CRC-32"):
            mt.load(io.BytesIO(bytes(bad)))


# ------------------------------------------------------------------------------------------ trained models

def _copy_run(make_t, make_m, x, tmp_path, train=None):
    torch.manual_seed(0)
    tnet = make_t()
    if train is not None:
        train(tnet)
    tnet.eval()
    p = tsave(tnet.state_dict(), tmp_path / "sd.pt")
    mnet = make_m().eval()
    mnet.load_state_dict(mt.load(p))
    return tnet, mnet


def test_torch_trained_lstm_and_gru_state_dicts(tmp_path):
    x = np.random.default_rng(1).standard_normal((3, 7, 5)).astype(np.float32)
    for cls in ("LSTM", "GRU"):
        def train(net, cls=cls):
            opt = torch.optim.SGD(net.parameters(), lr=0.1)
            for _ in range(3):
                opt.zero_grad()
                net(torch.tensor(x))[0].square().mean().backward()
                opt.step()
        tnet, mnet = _copy_run(lambda: getattr(torch.nn, cls)(5, 6, num_layers=2, batch_first=True),
                               lambda: getattr(mt.nn, cls)(5, 6, num_layers=2, batch_first=True), x, tmp_path, train)
        tout, mout = tnet(torch.tensor(x)), mnet(mt.tensor(x))
        np.testing.assert_allclose(to_np(mout[0]), to_np(tout[0]), rtol=1e-5, atol=1e-6)
        th, mh = (tout[1], mout[1]) if cls == "GRU" else (tout[1][1], mout[1][1])
        np.testing.assert_allclose(to_np(mh), to_np(th), rtol=1e-5, atol=1e-6)


def test_torch_trained_cnn_state_dict(tmp_path):
    def make(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                             nn.Linear(4 * 6 * 6, 5))
    x = np.random.default_rng(2).standard_normal((2, 3, 6, 6)).astype(np.float32)

    def train(net):
        opt = torch.optim.SGD(net.parameters(), lr=0.05)
        for _ in range(3):  # moves BatchNorm's running statistics and num_batches_tracked (an int64 buffer)
            opt.zero_grad()
            net(torch.tensor(x)).square().mean().backward()
            opt.step()
    tnet, mnet = _copy_run(lambda: make(torch), lambda: make(mt), x, tmp_path, train)
    assert mnet[1].num_batches_tracked.item() == 3
    np.testing.assert_allclose(to_np(mnet(mt.tensor(x))), to_np(tnet(torch.tensor(x))), rtol=1e-5, atol=1e-5)
