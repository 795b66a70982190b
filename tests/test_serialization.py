"""Checkpoints: minitorch.save / minitorch.load and the safetensors format.

minitorch.save writes PyTorch's zip format (tests/test_torch_checkpoints.py checks it against torch); files in
minitorch's own earlier format (written here with serialization._save_minitorch) must stay readable, so every round
trip below goes through both. Round trips of nested structures (state-dict-like OrderedDicts, tuples, None, strings,
floats incl. nan/inf, bools, int keys, every dtype, 0-d, empty and non-contiguous tensors), file objects, atomic
writes, and clean exceptions for missing, truncated, bit-flipped, foreign and pickle files. safetensors: round
trips, a hand-built file, corrupt headers, and interop with the real `safetensors` package when it is installed."""
import collections
import io
import json
import math
import os
import pickle
import struct

import numpy as np
import pytest

import minitorch as mt
from minitorch import serialization
from minitorch.serialization import load, save
import minitorch.safetensors as st

DTYPES = [mt.float32, mt.float64, mt.int64, mt.int32, mt.bool]


def sample_tensor(dtype, shape=(2, 3), seed=0):
    rng = np.random.default_rng(seed)
    if dtype is mt.bool:
        a = rng.integers(0, 2, size=shape).astype(bool)
    elif dtype in (mt.int64, mt.int32):
        a = rng.integers(-1000, 1000, size=shape).astype(dtype._np)
    else:
        a = rng.standard_normal(shape).astype(dtype._np)
    return mt.tensor(a)


def assert_same(a, b):
    """Deep equality with types; tensors by dtype, shape and values (nan == nan)."""
    assert type(a) is type(b), (type(a), type(b))
    if mt.is_tensor(a):
        assert a.dtype is b.dtype and tuple(a.shape) == tuple(b.shape) and a.device == b.device
        assert a.requires_grad == b.requires_grad
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
    elif isinstance(a, np.ndarray):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    elif isinstance(a, dict):
        assert list(a.keys()) == list(b.keys())
        for k in a:
            assert type(k) is type([kk for kk in b if kk == k][0])
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert a == b


def roundtrip(obj, tmp_path=None, weights_only=True):
    """Save and load obj in PyTorch's zip format (the default) and in minitorch's earlier format; both must agree."""
    buf = io.BytesIO()
    save(obj, buf)
    buf.seek(0)
    out = load(buf, weights_only=weights_only)
    old = io.BytesIO(checkpoint_bytes(obj))
    if not weights_only:  # the old format turned NumPy scalars into Python numbers
        load(old)
    else:
        assert_same(load(old), out)
        assert old.read() == b""  # the old reader stops exactly at the end of the checkpoint
    if tmp_path is not None:
        p = tmp_path / "ckpt.pt"
        save(obj, p)
        assert_same(load(p, weights_only=weights_only), out)
        assert_same(load(str(p), weights_only=weights_only), out)
    return out


def checkpoint_bytes(obj):
    """obj in minitorch's earlier format (what the old-format reader tests feed it)."""
    buf = io.BytesIO()
    serialization._save_minitorch(obj, buf)
    return buf.getvalue()


def zip_bytes(obj):
    buf = io.BytesIO()
    save(obj, buf)
    return buf.getvalue()


# ------------------------------------------------------------------------------------------ round trips

def test_roundtrip_text_example(tmp_path):
    sd = collections.OrderedDict([("lstm.weight_ih_l0", mt.randn(8, 4)), ("lstm.bias", mt.zeros(8)),
                                  ("fc.weight", mt.randn(3, 2)), ("step", mt.tensor(5))])
    obj = [sd, {"a": 1, "b": 2}]
    out = roundtrip(obj, tmp_path)
    assert_same(out, obj)
    assert isinstance(out[0], collections.OrderedDict)


def test_roundtrip_scalars_and_containers(tmp_path):
    obj = {
        "none": None, "t": True, "f": False, "i": -(2 ** 70), "zero": 0, "x": 1.5, "neg0": -0.0,
        "nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "tiny": 5e-324, "big": 1.7976931348623157e308,
        "s": "héllo \u2603 \"quoted\" \n\t\\", "empty": "", "surrogate": "\udc80",
        "tuple": (1, (2.0, "3"), ()), "list": [[], [[]], [1, [2, [3]]]], "bytes": b"\x00\xff",
        1: "int key", -5: "negative", 2.5: "float key", None: "none key", (1, "a"): "tuple key", True: "bool key",
        "nested": {"deep": collections.OrderedDict(b=1, a=2)},
        "dtype": mt.float64, "device": mt.device("cpu"), "size": mt.Size([2, 3]),
    }
    out = roundtrip(obj, tmp_path)
    assert_same(out, obj)
    assert math.copysign(1.0, out["neg0"]) == -1.0
    assert out["i"] == -(2 ** 70)
    assert type(out["size"]) is mt.Size and out["dtype"] is mt.float64


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: d.name)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)])
def test_roundtrip_every_dtype_and_shape(dtype, shape):
    t = sample_tensor(dtype, shape)
    out = roundtrip({"t": t})["t"]
    assert_same(out, t)


def test_roundtrip_float_specials_in_tensors():
    t = mt.tensor([float("nan"), float("inf"), -float("inf"), -0.0, 1e-45], dtype=mt.float32)
    out = roundtrip(t)
    np.testing.assert_array_equal(out.numpy(), t.numpy())
    assert np.signbit(out.numpy()[3])


def test_views_saved_compactly_in_the_old_format():
    base = mt.arange(1000.0).view(10, 100)
    views = {"t": base[:, :2].t(), "col": base[:, 3], "slice": base[2:4, ::7], "expand": mt.tensor([1.0, 2.0]).expand(3, 2)}
    data = checkpoint_bytes(views)
    assert len(data) < 2000  # not the whole 4000-byte storage
    out = load(io.BytesIO(data))
    for k, v in views.items():
        np.testing.assert_array_equal(out[k].numpy(), v.numpy())
        assert out[k].is_contiguous()


def test_shared_tensor_object_stays_shared():
    w = mt.randn(3)
    out = roundtrip({"a": w, "b": [w]})
    assert out["a"] is out["b"][0]


def test_requires_grad_and_independent_storage():
    w = mt.randn(3, requires_grad=True)
    out = roundtrip([w, w.detach(), mt.tensor([1, 2])])
    assert out[0].requires_grad and out[0].is_leaf and not out[1].requires_grad
    out[1].add_(1.0)  # loaded tensors do not share memory with what was saved
    assert not np.array_equal(out[1].numpy(), w.detach().numpy())
    np.testing.assert_array_equal(out[0].detach().numpy(), out[1].numpy())  # but w and w.detach() stay one storage


def test_parameter_roundtrip():
    nn = pytest.importorskip("minitorch.nn")
    p = nn.Parameter(mt.randn(2, 2))
    out = roundtrip({"p": p})["p"]
    assert isinstance(out, nn.Parameter) and out.requires_grad
    np.testing.assert_array_equal(out.detach().numpy(), p.detach().numpy())


def test_numpy_arrays_and_scalars():
    obj = {"a": np.arange(6, dtype=np.int16).reshape(2, 3), "b": np.float32(1.5), "c": np.int64(3), "d": np.bool_(True),
           "e": np.array([1 + 2j])}
    old = load(io.BytesIO(checkpoint_bytes(obj)))
    assert old["a"].dtype == np.int16 and old["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert old["b"] == 1.5 and type(old["b"]) is float and old["c"] == 3 and old["d"] is True
    assert old["e"].tolist() == [1 + 2j]
    # PyTorch's format pickles NumPy objects, which weights_only refuses as torch does; weights_only=False loads them
    with pytest.raises(pickle.UnpicklingError, match="numpy"):
        load(io.BytesIO(zip_bytes(obj)))
    out = roundtrip(obj, weights_only=False)
    assert out["a"].dtype == np.int16 and out["a"].tolist() == [[0, 1, 2], [3, 4, 5]]
    assert out["b"] == np.float32(1.5) and out["c"] == 3 and out["d"] == True and out["e"].tolist() == [1 + 2j]


def test_map_location():
    t = mt.randn(4)
    data = zip_bytes({"t": t})
    for ml in (None, "cpu", mt.device("cpu"), {"cpu": "cpu"}, lambda tensor, loc: tensor):
        out = load(io.BytesIO(data), map_location=ml)
        assert out["t"].device.type == "cpu"
        np.testing.assert_array_equal(out["t"].numpy(), t.numpy())
    assert load(io.BytesIO(data), weights_only=False)["t"].shape == (4,)


@pytest.mark.skipif(not mt.cuda.is_available(), reason="CUDA not available")
def test_map_location_cuda():
    t = mt.randn(4)
    for to_bytes in (zip_bytes, checkpoint_bytes):
        out = load(io.BytesIO(to_bytes(t)), map_location="cuda")
        assert out.device.type == "cuda"
        np.testing.assert_array_equal(out.cpu().numpy(), t.numpy())
        back = load(io.BytesIO(to_bytes(out)))  # saved from CUDA: loads back to CUDA by default
        assert back.device.type == "cuda"
        assert load(io.BytesIO(to_bytes(out)), map_location="cpu").device.type == "cpu"


def test_cuda_checkpoint_without_cuda_raises():
    if mt.cuda.is_available():
        pytest.skip("CUDA is available")
    data = _rewrite_header(checkpoint_bytes({"t": mt.randn(2)}),
                           lambda h: {**h, "tensors": [{**h["tensors"][0], "device": "cuda:0"}]})
    with pytest.raises(RuntimeError, match="map_location"):
        load(io.BytesIO(data))
    assert load(io.BytesIO(data), map_location="cpu")["t"].device.type == "cpu"


def _rewrite_header(data, edit):
    """Parse a checkpoint, apply edit(header dict) -> header, and re-emit it with a correct header CRC."""
    import zlib
    m = len(serialization.MAGIC)
    hlen, _ = struct.unpack("<QI", data[m:m + 12])
    header = edit(json.loads(data[m + 12:m + 12 + hlen]))
    data_start = (m + 12 + hlen + 63) // 64 * 64
    body = data[data_start:]
    hj = json.dumps(header, separators=(",", ":")).encode()
    head = serialization.MAGIC + struct.pack("<QI", len(hj), zlib.crc32(hj)) + hj
    return head + bytes(-len(head) % 64) + body


def test_file_objects_and_multiple_checkpoints_in_one_stream_old_format():
    # (PyTorch's zip format cannot do this: torch.load of the first of two zips in one stream fails)
    buf = io.BytesIO()
    serialization._save_minitorch({"a": mt.tensor([1.0])}, buf)
    serialization._save_minitorch([2, "x"], buf)
    buf.seek(0)
    assert load(buf)["a"].tolist() == [1.0]
    assert load(buf) == [2, "x"]


def test_pathlike_and_overwrite(tmp_path):
    p = tmp_path / "m.pt"
    save({"v": 1}, p)
    save({"v": 2}, p)
    assert load(p) == {"v": 2}
    assert [f.name for f in tmp_path.iterdir()] == ["m.pt"]  # no temp files left behind
    mode = os.stat(p).st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask


# ------------------------------------------------------------------------------------------ save errors

class Custom:
    pass


def test_save_pickles_like_torch_save():
    # PyTorch's format pickles: any picklable object saves, what pickle cannot save raises as in torch.save, and a
    # weights_only load refuses what torch's allowlist does not name
    class Local:
        pass
    for bad in (lambda: 0, Local(), (x for x in [1])):
        with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
            save(bad, io.BytesIO())
    for obj, name in ((Custom(), "Custom"), (collections.defaultdict(int), "defaultdict")):
        with pytest.raises(pickle.UnpicklingError, match=name):
            load(io.BytesIO(zip_bytes(obj)))
        assert type(load(io.BytesIO(zip_bytes(obj)), weights_only=False)) is type(obj)
    assert load(io.BytesIO(zip_bytes({1, 2}))) == {1, 2}


def test_save_circular_reference():
    a = []
    a.append(a)
    out = load(io.BytesIO(zip_bytes(a)))
    assert out[0] is out
    with pytest.raises(ValueError, match="circular"):  # the old format could not
        serialization._save_minitorch(a, io.BytesIO())


def test_failing_save_leaves_existing_file_untouched(tmp_path):
    p = tmp_path / "ckpt.pt"
    save({"good": mt.arange(3)}, p)
    before = p.read_bytes()
    with pytest.raises((pickle.PicklingError, AttributeError)):
        save({"good": mt.arange(3), "bad": lambda: 0}, p)
    assert p.read_bytes() == before

    # a failure in the middle of writing (after the temp file exists) also leaves it untouched
    real = serialization._pt.save_zip

    def failing_write(obj, fh, *args):
        fh.write(b"partial garbage")
        raise OSError("disk full")
    serialization._pt.save_zip = failing_write
    try:
        with pytest.raises(OSError, match="disk full"):
            save({"other": mt.arange(5)}, p)
    finally:
        serialization._pt.save_zip = real
    assert p.read_bytes() == before
    assert sorted(f.name for f in tmp_path.iterdir()) == ["ckpt.pt"]
    assert load(p)["good"].tolist() == [0, 1, 2]


def test_save_into_missing_directory(tmp_path):
    with pytest.raises(FileNotFoundError):
        save({"a": 1}, tmp_path / "nope" / "x.pt")


# ------------------------------------------------------------------------------------------ load errors

def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")


def _payload():
    return [collections.OrderedDict(w=mt.randn(5, 7), b=mt.arange(4), m=mt.tensor([True, False])), {"k": "v" * 50}]


def test_truncated_files_raise_runtimeerror(tmp_path):
    data = checkpoint_bytes(_payload())
    cuts = sorted(set([0, 1, 5, 9, 10, 11, 17, 21, 22, 30, 60, 64, len(data) // 2, len(data) - 64, len(data) - 9,
                       len(data) - 1] + list(range(0, len(data), 37))))
    p = tmp_path / "t.pt"
    for cut in cuts:
        p.write_bytes(data[:cut])
        with pytest.raises(RuntimeError, match="minitorch.load"):
            load(p)
        with pytest.raises(RuntimeError, match="minitorch.load"):
            load(io.BytesIO(data[:cut]))


def test_trailing_garbage_in_file_rejected(tmp_path):
    p = tmp_path / "t.pt"
    p.write_bytes(checkpoint_bytes([1]) + b"x")
    with pytest.raises(RuntimeError, match="unexpected bytes"):
        load(p)


def test_flipped_bytes_raise_cleanly():
    data = checkpoint_bytes(_payload())
    rng = np.random.default_rng(0)
    positions = sorted(set(list(range(0, 40)) + list(rng.integers(0, len(data), size=150))))
    for pos in positions:
        for mask in (0x01, 0x80, 0xFF):
            bad = bytearray(data)
            bad[pos] ^= mask
            with pytest.raises(RuntimeError, match="minitorch.load"):
                load(io.BytesIO(bytes(bad)))


def test_header_validation_rejects_crafted_headers():
    data = checkpoint_bytes({"w": mt.randn(4, 4)})
    edits = [
        lambda h: {**h, "format": "other"},
        lambda h: {**h, "version": 99},
        lambda h: {**h, "root": {"t": "tensor", "i": 5}},
        lambda h: {**h, "root": {"t": "exec", "v": "import os"}},
        lambda h: {**h, "root": {"t": "dict", "items": [[[1], 2]]}},
        lambda h: {**h, "tensors": [{**h["tensors"][0], "dtype": "complex128"}]},
        lambda h: {**h, "tensors": [{**h["tensors"][0], "shape": [4, 5]}]},
        lambda h: {**h, "tensors": [{**h["tensors"][0], "shape": [-4, -4]}]},
        lambda h: {**h, "tensors": [{**h["tensors"][0], "shape": [2 ** 40, 2 ** 40], "nbytes": 2 ** 82}]},
        lambda h: {**h, "tensors": [{**h["tensors"][0], "offset": 64}]},
        lambda h: {**h, "tensors": [h["tensors"][0], h["tensors"][0]]},  # overlapping ranges
        lambda h: {**h, "data_size": 2 ** 62},
        lambda h: {**h, "tensors": "nope"},
        lambda h: [h],
    ]
    for edit in edits:
        with pytest.raises(RuntimeError, match="minitorch.load"):
            load(io.BytesIO(_rewrite_header(data, edit)))


def test_pickle_and_foreign_files_rejected(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned > " + str(tmp_path / "pwned"),))
    cases = {
        "pickle": pickle.dumps(Evil()),
        "pickle2": pickle.dumps(Evil(), protocol=2),
        "pickle0": pickle.dumps({"a": 1}, protocol=0),
        "zip": b"PK\x03\x04" + b"\x00" * 100,
        "text": b"hello world, not a checkpoint",
        "empty": b"",
        "magic_then_pickle": serialization.MAGIC + pickle.dumps(Evil()),
        "safetensors": st.save({"a": mt.zeros(2)}),
    }
    for name, data in cases.items():
        p = tmp_path / f"{name}.pt"
        p.write_bytes(data)
        with pytest.raises((RuntimeError, pickle.UnpicklingError)) as e:
            load(p)
        if name.startswith("pickle") and name != "pickle0":  # read as torch's legacy stream, refused unrun
            assert type(e.value) is pickle.UnpicklingError and "GLOBAL posix.system" in str(e.value), name
        elif name != "zip":
            assert "minitorch.load" in str(e.value), name
    assert not (tmp_path / "pwned").exists()


def test_torch_checkpoint_loads(tmp_path):
    torch = pytest.importorskip("torch")
    p = tmp_path / "torch.pt"
    torch.save({"w": torch.arange(3.0)}, p)
    assert load(p)["w"].tolist() == [0.0, 1.0, 2.0]


def test_text_mode_file_rejected(tmp_path):
    p = tmp_path / "x.pt"
    save([1], p)
    with open(p, "r", encoding="latin-1") as fh:
        with pytest.raises(TypeError, match="binary"):
            load(fh)


def test_deeply_nested_json_rejected():
    import zlib
    depth = 100000
    hj = (b'{"format":"minitorch","version":1,"tensors":[],"data_size":0,"data_crc32":0,"root":' + b"[" * depth + b"1"
          + b"]" * depth + b"}")
    head = serialization.MAGIC + struct.pack("<QI", len(hj), zlib.crc32(hj)) + hj
    with pytest.raises(RuntimeError, match="minitorch.load"):
        load(io.BytesIO(head + bytes(-len(head) % 64)))


# ------------------------------------------------------------------------------------------ safetensors

def st_tensors():
    return {name: sample_tensor(d, (3, 2), seed=i) for i, (name, d) in
            enumerate([("a.f32", mt.float32), ("b.f64", mt.float64), ("c.i64", mt.int64), ("d.i32", mt.int32),
                       ("e.bool", mt.bool)])} | {"scalar": mt.tensor(2.5), "empty": mt.zeros(0, 4),
                                                  "view": mt.arange(12.0).view(3, 4).t()}


def test_safetensors_roundtrip(tmp_path):
    p = tmp_path / "m.safetensors"
    ts = st_tensors()
    st.save_file(ts, p, metadata={"format": "pt", "note": "hi"})
    out = st.load_file(p)
    assert sorted(out) == sorted(ts)
    for k in ts:
        assert out[k].dtype is ts[k].dtype and tuple(out[k].shape) == tuple(ts[k].shape)
        np.testing.assert_array_equal(out[k].numpy(), ts[k].numpy())
    assert st.safe_metadata(p) == {"format": "pt", "note": "hi"}
    out2 = st.load(st.save(ts))
    for k in ts:
        np.testing.assert_array_equal(out2[k].numpy(), ts[k].numpy())


def test_safetensors_file_layout(tmp_path):
    p = tmp_path / "m.safetensors"
    st.save_file({"x": mt.tensor([1.0, 2.0]), "y": mt.tensor([3], dtype=mt.int64)}, p)
    data = p.read_bytes()
    (n,) = struct.unpack("<Q", data[:8])
    assert n % 8 == 0
    header = json.loads(data[8:8 + n])
    assert header["x"] == {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}  # 8-byte dtypes first
    assert header["y"] == {"dtype": "I64", "shape": [1], "data_offsets": [0, 8]}
    assert data[8 + n:] == struct.pack("<q", 3) + struct.pack("<2f", 1.0, 2.0)


def hand_built(entries, metadata=None, pad=True, extra=b""):
    """entries: name -> (dtype str, shape, bytes). Builds a safetensors file by hand."""
    header, buf = {}, b""
    for name, (dt, shape, raw) in entries.items():
        header[name] = {"dtype": dt, "shape": shape, "data_offsets": [len(buf), len(buf) + len(raw)]}
        buf += raw
    if metadata is not None:
        header["__metadata__"] = metadata
    hj = json.dumps(header).encode()
    if pad:
        hj += b" " * (-len(hj) % 8)
    return struct.pack("<Q", len(hj)) + hj + buf + extra


def test_safetensors_hand_built(tmp_path):
    data = hand_built({"w": ("F32", [2, 2], struct.pack("<4f", 1, 2, 3, 4)),
                       "i": ("I32", [3], struct.pack("<3i", -1, 0, 7)),
                       "m": ("BOOL", [2], b"\x01\x00"),
                       "d": ("F64", [], struct.pack("<d", math.pi)),
                       "l": ("I64", [0, 3], b"")}, metadata={"k": "v"}, pad=False)
    p = tmp_path / "h.safetensors"
    p.write_bytes(data)
    out = st.load_file(p)
    assert out["w"].tolist() == [[1, 2], [3, 4]] and out["w"].dtype is mt.float32
    assert out["i"].tolist() == [-1, 0, 7] and out["i"].dtype is mt.int32
    assert out["m"].tolist() == [True, False] and out["m"].dtype is mt.bool
    assert out["d"].item() == math.pi and out["d"].dim() == 0
    assert tuple(out["l"].shape) == (0, 3) and out["l"].dtype is mt.int64


def test_safetensors_corrupt_headers_rejected(tmp_path):
    good = {"a": ("F32", [2], struct.pack("<2f", 1, 2)), "b": ("I64", [1], struct.pack("<q", 5))}
    p = tmp_path / "bad.safetensors"

    def craft(header_obj, buf=struct.pack("<2f", 1, 2) + struct.pack("<q", 5)):
        hj = json.dumps(header_obj).encode() if not isinstance(header_obj, bytes) else header_obj
        return struct.pack("<Q", len(hj)) + hj + buf

    ok = {"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
          "b": {"dtype": "I64", "shape": [1], "data_offsets": [8, 16]}}
    cases = [
        b"",                                                    # empty
        b"\x05\x00\x00",                                        # shorter than the length field
        struct.pack("<Q", 2 ** 60) + b"{}",                     # absurd header length
        struct.pack("<Q", 100) + b"{}",                         # header longer than the file
        craft(b"[1, 2]", b""),                                  # not an object
        craft(b"{not json", b""),
        craft(b"\xff\xfe{}", b""),                              # not UTF-8 / not '{'
        craft({**ok, "a": {**ok["a"], "dtype": "F33"}}),        # unknown dtype
        craft({**ok, "a": {**ok["a"], "shape": [3]}}),          # size mismatch
        craft({**ok, "a": {**ok["a"], "shape": [-2]}}),
        craft({**ok, "a": {**ok["a"], "data_offsets": [0, 8, 9]}}),
        craft({**ok, "a": {**ok["a"], "data_offsets": [8, 0]}}),
        craft({**ok, "b": {**ok["b"], "data_offsets": [4, 12]}}),   # overlap
        craft({**ok, "b": {**ok["b"], "data_offsets": [16, 24]}}),  # outside the file
        craft(ok, struct.pack("<2f", 1, 2)),                     # truncated buffer
        craft(ok, struct.pack("<2f", 1, 2) + struct.pack("<q", 5) + b"junk"),  # trailing bytes
        craft({"a": {**ok["a"], "data_offsets": [8, 16]}, "b": {**ok["b"], "data_offsets": [16, 24]}},
              bytes(24)),                                        # hole at the start
        craft({**ok, "a": {**ok["a"], "extra": 1}}),
        craft({**ok, "a": "F32"}),
        craft({**ok, "__metadata__": {"k": 1}}),
        craft(b'{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "a": {"dtype": "F32", "shape": [2], '
              b'"data_offsets": [0, 8]}}', struct.pack("<2f", 1, 2)),  # duplicate names
        craft({**ok, "a": {**ok["a"], "shape": [True, 1]}}),
        craft({**ok, "a": {**ok["a"], "shape": [2 ** 62, 2 ** 62]}}),
    ]
    for i, data in enumerate(cases):
        p.write_bytes(data)
        with pytest.raises((RuntimeError, ValueError)):
            st.load_file(p)
        with pytest.raises((RuntimeError, ValueError)):
            st.load(data)
    # a real file, truncated anywhere or with its header bytes flipped, fails cleanly
    full = hand_built(good)
    for cut in range(len(full)):
        with pytest.raises((RuntimeError, ValueError)):
            st.load(full[:cut])
    (n,) = struct.unpack("<Q", full[:8])
    for pos in range(8 + n):
        bad = bytearray(full)
        bad[pos] ^= 0x5A
        try:
            st.load(bytes(bad))
        except (RuntimeError, ValueError):
            pass


def test_safetensors_unsupported_dtype_message():
    data = hand_built({"h": ("F16", [2], b"\x00" * 4)})
    with pytest.raises(ValueError, match="F16"):
        st.load(data)


def test_safetensors_save_errors(tmp_path):
    with pytest.raises(ValueError, match="expected minitorch.Tensor"):
        st.save_file({"a": [1, 2]}, tmp_path / "x")
    with pytest.raises(TypeError):
        st.save_file({1: mt.zeros(1)}, tmp_path / "x")
    with pytest.raises(ValueError, match="metadata"):
        st.save_file({"a": mt.zeros(1)}, tmp_path / "x", metadata={"a": 1})
    assert not (tmp_path / "x").exists()


def test_safetensors_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        st.load_file(tmp_path / "missing.safetensors")


def test_safetensors_interop_with_real_package(tmp_path):
    pytest.importorskip("safetensors")
    from safetensors.numpy import load_file as np_load, save_file as np_save
    ts = {k: v for k, v in st_tensors().items()}
    ours = tmp_path / "ours.safetensors"
    st.save_file(ts, ours, metadata={"format": "np"})
    got = np_load(str(ours))
    assert sorted(got) == sorted(ts)
    for k in ts:
        np.testing.assert_array_equal(got[k], ts[k].numpy())
        assert got[k].dtype == ts[k].numpy().dtype
    theirs = tmp_path / "theirs.safetensors"
    arrays = {k: np.ascontiguousarray(v.numpy()) for k, v in ts.items()}
    np_save(arrays, str(theirs), metadata={"format": "np"})
    back = st.load_file(theirs)
    for k in ts:
        np.testing.assert_array_equal(back[k].numpy(), arrays[k])
        assert back[k].dtype is ts[k].dtype
    assert st.safe_metadata(theirs) == {"format": "np"}


def test_safetensors_interop_with_torch(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("safetensors")
    from safetensors.torch import load_file as t_load, save_file as t_save
    p = tmp_path / "t.safetensors"
    t_save({"w": torch.arange(6, dtype=torch.float32).view(2, 3), "m": torch.tensor([True, False])}, str(p))
    out = st.load_file(p)
    assert out["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and out["m"].tolist() == [True, False]
    q = tmp_path / "m.safetensors"
    st.save_file({"w": mt.arange(6.0).view(2, 3), "i": mt.tensor([1, 2], dtype=mt.int32)}, q)
    back = t_load(str(q))
    assert back["w"].tolist() == [[0, 1, 2], [3, 4, 5]] and back["i"].dtype == torch.int32
