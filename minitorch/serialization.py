"""Checkpoints: minitorch.save / minitorch.load, and the safetensors format (save_file / load_file).

minitorch.save writes PyTorch's zip format and minitorch.load reads it (and torch's legacy stream) without PyTorch,
by default through an allowlisting unpickler that runs nothing from the file: see _pickle_torch.py.

minitorch's own earlier format, still read by minitorch.load (detected by its magic; JSON and raw buffers only):

    b"MINITORCH1"                      10-byte magic
    u64 header_len, u32 header_crc32   struct "<QI"
    header                             header_len bytes of ASCII JSON (below)
    zero padding                       up to a multiple of 64 bytes from the start of the file
    data                               data_size bytes: the raw values of each tensor, each at a 64-byte aligned
                                       offset (relative to the start of data), zero padding between them

    header = {"format": "minitorch", "version": 1, "root": NODE, "tensors": [TENSOR...],
              "data_size": int, "data_crc32": int}
    TENSOR = {"kind": "tensor", "dtype": "float32", "shape": [2, 3], "offset": 0, "nbytes": 24,
              "requires_grad": false, "device": "cpu", "param": false}
           | {"kind": "ndarray", "dtype": "<f4", "shape": [...], "offset": ..., "nbytes": ...}
    NODE   = null | true | false | int | finite float | str | [NODE, ...]                (a Python list)
           | {"t": "tuple", "v": [NODE...]} | {"t": "dict" | "odict", "items": [[KEY, NODE]...]}
           | {"t": "tensor" | "ndarray", "i": index into tensors} | {"t": "float", "v": "nan" | "inf" | "-inf"}
           | {"t": "bytes", "v": base64} | {"t": "size", "v": [int...]} | {"t": "dtype", "v": "float32"}
           | {"t": "device", "v": "cuda:0"}
    KEY    = a NODE that decodes to str, int, float, bool, None or a tuple of those

A tensor is stored by its own values (views are saved compactly); the same tensor object reached twice is stored
once and loads as one object. A corrupt, truncated or foreign file raises RuntimeError naming the problem
(FileNotFoundError for a missing path, TypeError for a text-mode file); both CRCs are checked, so flipped bits are reported instead of loading silently wrong values.
"""
import base64
import collections
import io
import json
import math
import os
import pickle
import re
import struct
import sys
import tempfile
import warnings
import zlib

import numpy as np

from . import _C, _pickle_torch as _pt
from ._types import ALL_DTYPES, Size, device as _device, dtype as _dtype

__all__ = ["save", "load", "save_file", "load_file", "add_safe_globals", "safe_globals", "get_safe_globals",
           "clear_safe_globals", "get_unsafe_globals_in_checkpoint"]

DEFAULT_PROTOCOL = 2  # the pickle protocol torch.save uses
MAGIC = b"MINITORCH1"
_HDR = struct.Struct("<QI")
_ALIGN = 64
_FORMAT_VERSION = 1
_MAX_HEADER = 1 << 32
_DTYPES = {d.name: d for d in ALL_DTYPES}
_NDARRAY_DTYPE_RE = re.compile(r"^[<>|][biufc][0-9]{1,2}$")


class _CorruptError(RuntimeError):
    pass


def _is_tensor(x):
    return isinstance(x, _C.TensorBase)


def _parameter_class():
    try:
        from .nn.parameter import Parameter
        return Parameter
    except Exception:  # nn not importable: no Parameter to restore
        return None


def _align(n):
    return (n + _ALIGN - 1) // _ALIGN * _ALIGN


def _le(np_dtype):
    return np_dtype.newbyteorder("<") if np_dtype.byteorder not in ("|", "<") and (
        np_dtype.byteorder == ">" or sys.byteorder == "big") else np_dtype


def _is_path(f):
    return isinstance(f, (str, bytes, os.PathLike))


# ------------------------------------------------------------------------------------------------ writing

def _atomic_write(path, write):
    """Call write(fileobj) on a temp file in path's directory, fsync it, then os.replace it onto path:
    a failing write leaves an existing file untouched."""
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = os.fsdecode(path)
    path = os.path.realpath(path)  # through symlinks: replace the file they point to, not the link
    try:  # an existing file must be writable, as for torch.save's open(path, "wb") (PermissionError otherwise)
        os.close(os.open(path, os.O_WRONLY))
    except FileNotFoundError:
        pass
    directory = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except OSError:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fd = None
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        tmp = None
    finally:
        if fd is not None:
            os.close(fd)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    try:  # make the rename itself durable (best effort: not every filesystem allows it)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass


def _tensor_bytes(t):
    """A C-contiguous little-endian NumPy array with the values of tensor t (zero-copy when possible)."""
    t = t.detach()
    if t.device.type != "cpu":
        t = t.cpu()
    arr = np.ascontiguousarray(t.contiguous().numpy())
    le = _le(arr.dtype)
    return arr.astype(le) if le != arr.dtype else arr


class _Encoder:
    def __init__(self):
        self.metas = []
        self.arrays = []
        self.seen = {}      # id(tensor) -> index
        self.keep = []      # keep the tensors alive so that ids stay unique
        self.active = set()  # ids of the containers being encoded (cycle detection)
        self.param_cls = None

    def _add(self, meta, arr):
        self.metas.append(meta)
        self.arrays.append(arr)
        return len(self.metas) - 1

    def tensor(self, t):
        key = id(t)
        if key in self.seen:
            return self.seen[key]
        if self.param_cls is None:
            self.param_cls = _parameter_class() or ()
        arr = _tensor_bytes(t)
        meta = {"kind": "tensor", "dtype": t.dtype.name, "shape": list(t.shape), "requires_grad": bool(t.requires_grad),
                "device": str(t.device), "param": bool(self.param_cls) and isinstance(t, self.param_cls)}
        i = self._add(meta, arr)
        self.seen[key] = i
        self.keep.append(t)
        return i

    def ndarray(self, a):
        if a.dtype.kind not in "biufc" or a.dtype.fields is not None or a.dtype.subdtype is not None:
            raise TypeError(f"minitorch.save: cannot save a numpy.ndarray of dtype {a.dtype} (only bool, integer, "
                            f"floating and complex arrays)")
        arr = np.ascontiguousarray(a)
        le = _le(arr.dtype)
        if le != arr.dtype:
            arr = arr.astype(le)
        return self._add({"kind": "ndarray", "dtype": arr.dtype.str, "shape": list(arr.shape)}, arr)

    def key(self, k):
        if k is None or isinstance(k, (bool, int, float, str)) and type(k) in (bool, int, float, str):
            return self.node(k)
        if type(k) is tuple:
            return {"t": "tuple", "v": [self.key(x) for x in k]}
        if isinstance(k, np.generic):
            return self.node(k)
        raise TypeError(f"minitorch.save: cannot save a dict key of type {type(k).__module__}.{type(k).__qualname__} "
                        f"(keys must be str, int, float, bool, None or tuples of those)")

    def node(self, obj):
        if obj is None or obj is True or obj is False:
            return obj
        tp = type(obj)
        if tp is str or tp is int:
            return obj
        if tp is float:
            if math.isfinite(obj):
                return obj
            return {"t": "float", "v": "nan" if obj != obj else ("inf" if obj > 0 else "-inf")}
        if isinstance(obj, _C.TensorBase):
            return {"t": "tensor", "i": self.tensor(obj)}
        if isinstance(obj, np.generic):
            if isinstance(obj, np.bool_):
                return bool(obj)
            if isinstance(obj, np.integer):
                return int(obj)
            if isinstance(obj, np.floating):
                return self.node(float(obj))
        if tp is bytes:
            return {"t": "bytes", "v": base64.b64encode(obj).decode("ascii")}
        if tp is _dtype:
            return {"t": "dtype", "v": obj.name}
        if tp is _device:
            return {"t": "device", "v": str(obj)}
        if tp in (list, tuple, dict, collections.OrderedDict, Size, np.ndarray):
            if tp is np.ndarray:
                return {"t": "ndarray", "i": self.ndarray(obj)}
            if tp is Size:
                return {"t": "size", "v": [int(s) for s in obj]}
            oid = id(obj)
            if oid in self.active:
                raise ValueError("minitorch.save: circular reference detected")
            self.active.add(oid)
            try:
                if tp is list:
                    return [self.node(x) for x in obj]
                if tp is tuple:
                    return {"t": "tuple", "v": [self.node(x) for x in obj]}
                out = {"t": "dict" if tp is dict else "odict",
                       "items": [[self.key(k), self.node(v)] for k, v in obj.items()]}
                meta = getattr(obj, "_metadata", None)
                if tp is collections.OrderedDict and meta is not None:
                    out["meta"] = self.node(meta)
                return out
            finally:
                self.active.discard(oid)
        raise TypeError(f"minitorch.save: cannot save an object of type {tp.__module__}.{tp.__qualname__}; supported: "
                        f"tensors, NumPy arrays, dict/OrderedDict/list/tuple, int, float, bool, str, bytes, None, "
                        f"minitorch.dtype/device/Size")


def _encode(obj):
    enc = _Encoder()
    try:
        root = enc.node(obj)
    except RecursionError:
        raise ValueError("minitorch.save: the object is nested too deeply") from None
    offset, crc = 0, 0
    for meta, arr in zip(enc.metas, enc.arrays):
        start = _align(offset)
        if start > offset:
            crc = zlib.crc32(bytes(start - offset), crc)
        meta["offset"], meta["nbytes"] = start, int(arr.nbytes)
        if arr.nbytes:
            crc = zlib.crc32(arr.reshape(-1).view(np.uint8), crc)
        offset = start + arr.nbytes
    header = {"format": "minitorch", "version": _FORMAT_VERSION, "root": root, "tensors": enc.metas,
              "data_size": offset, "data_crc32": crc}
    hjson = json.dumps(header, separators=(",", ":"), allow_nan=False).encode("ascii")
    return hjson, enc.arrays, enc.metas


def _write(fh, hjson, arrays, metas):
    head = MAGIC + _HDR.pack(len(hjson), zlib.crc32(hjson)) + hjson
    fh.write(head + bytes(_align(len(head)) - len(head)))
    pos = 0
    for meta, arr in zip(metas, arrays):
        if meta["offset"] > pos:
            fh.write(bytes(meta["offset"] - pos))
        if arr.nbytes:
            fh.write(memoryview(arr.reshape(-1).view(np.uint8)))
        pos = meta["offset"] + arr.nbytes


def _save_minitorch(obj, f):
    """Write obj in minitorch's own format (above). minitorch.save writes PyTorch's zip format now; this writer is
    kept so that the reader of files saved before that change stays tested."""
    hjson, arrays, metas = _encode(obj)
    if _is_path(f):
        _atomic_write(f, lambda fh: _write(fh, hjson, arrays, metas))
    else:
        _write(f, hjson, arrays, metas)


def save(obj, f, pickle_module=None, pickle_protocol=DEFAULT_PROTOCOL, _use_new_zipfile_serialization=True,
         _disable_byteorder_record=False):
    """Save obj as torch.save does: a zip of data.pkl (pickled with PyTorch's names: torch._utils._rebuild_tensor_v2,
    torch.FloatStorage, ...) and one record per storage, so that torch.load(f, weights_only=True) reads it
    (_use_new_zipfile_serialization=False: torch's pre-1.6 stream). Tensors sharing a storage stay shared; a path
    is written atomically (temp file, fsync, rename)."""
    if pickle_module is not None and pickle_module is not pickle:
        raise NotImplementedError("minitorch.save: a custom pickle_module is not supported")
    archive = _pt._archive_name(f)

    def write(fh):
        if _use_new_zipfile_serialization:
            _pt.save_zip(obj, fh, archive, pickle_protocol, _disable_byteorder_record)
        else:
            _pt.save_legacy(obj, fh, pickle_protocol)
    if _is_path(f):
        _atomic_write(f, write)
    elif hasattr(f, "write"):
        if not (hasattr(f, "seekable") and f.seekable()):  # zipfile seeks back to finish each record's header
            buf = io.BytesIO()
            write(buf)
            f.write(buf.getvalue())
        else:
            write(f)
    else:
        raise TypeError(f"minitorch.save: f must be a path or a binary file object, not {type(f).__name__}")


# ------------------------------------------------------------------------------------------------ reading

def _read_exact(fh, n, what):
    """Read exactly n bytes (in bounded chunks, so a corrupt huge n cannot allocate more than the stream holds)."""
    chunks, left = [], n
    while left > 0:
        b = fh.read(min(left, 1 << 26))
        if isinstance(b, str):
            raise TypeError("minitorch.load: expected a file opened in binary mode ('rb')")
        if not b:
            break
        chunks.append(b)
        left -= len(b)
    data = b"".join(chunks)
    if len(data) < n:
        raise _CorruptError(f"file is truncated: expected {n} bytes of {what}, got {len(data)}")
    return data


def _read_into(fh, buf, what):
    """Fill the uint8 array buf from fh; returns nothing, raises on a short read."""
    mv = memoryview(buf)
    n, got = len(mv), 0
    readinto = getattr(fh, "readinto", None)
    while got < n:
        if readinto is not None:
            k = readinto(mv[got:got + (1 << 26)])
        else:
            b = fh.read(min(n - got, 1 << 26))
            k = len(b) if b else 0
            mv[got:got + k] = b
        if not k:
            raise _CorruptError(f"file is truncated: expected {n} bytes of {what}, got {got}")
        got += k


def _remaining(fh):
    """Bytes left in a seekable stream, or None."""
    try:
        if not fh.seekable():
            return None
        pos = fh.tell()
        end = fh.seek(0, io.SEEK_END)
        fh.seek(pos)
        return end - pos
    except (AttributeError, OSError, ValueError):
        return None


def _describe_bad_magic(magic):
    if not magic:
        return "the file is empty"
    if magic[:1] in (b"(", b"}", b"]", b"c"):
        return ("this looks like a protocol 0/1 pickle, not a checkpoint written by torch.save or minitorch.save "
                "(minitorch.load unpickles only those)")
    if len(magic) >= 8 and magic[8:9] == b"{":
        return "this looks like a safetensors file; use minitorch.safetensors.load_file"
    return f"bad magic {magic[:10]!r} (expected {MAGIC!r})"


def _is_int(x):
    return type(x) is int


def _check(cond, msg):
    if not cond:
        raise _CorruptError(msg)


def _validate_metas(metas, data_size):
    _check(type(metas) is list, "'tensors' is not a list")
    pos = 0
    out = []
    for i, m in enumerate(metas):
        _check(type(m) is dict, f"tensor entry {i} is not an object")
        kind = m.get("kind")
        shape, offset, nbytes = m.get("shape"), m.get("offset"), m.get("nbytes")
        _check(type(shape) is list and all(_is_int(s) and s >= 0 for s in shape) and len(shape) <= 64,
               f"tensor {i}: bad shape {shape!r}")
        if kind == "tensor":
            _check(m.get("dtype") in _DTYPES, f"tensor {i}: unknown dtype {m.get('dtype')!r}")
            npdt = np.dtype(_DTYPES[m["dtype"]]._np).newbyteorder("<") if m["dtype"] != "bool" else np.dtype(np.uint8)
            _check(type(m.get("requires_grad")) is bool and type(m.get("param")) is bool,
                   f"tensor {i}: bad requires_grad/param flags")
            _check(type(m.get("device")) is str, f"tensor {i}: bad device")
            try:
                dev = _device(m["device"])
            except Exception:
                raise _CorruptError(f"tensor {i}: bad device {m['device']!r}") from None
            _check(m["requires_grad"] is False or _DTYPES[m["dtype"]].is_floating_point,
                   f"tensor {i}: requires_grad on a non-floating dtype")
        elif kind == "ndarray":
            _check(type(m.get("dtype")) is str and _NDARRAY_DTYPE_RE.match(m["dtype"]) is not None,
                   f"array {i}: bad dtype {m.get('dtype')!r}")
            try:
                npdt = np.dtype(m["dtype"])
            except TypeError:
                raise _CorruptError(f"array {i}: bad dtype {m['dtype']!r}") from None
            dev = None
        else:
            raise _CorruptError(f"entry {i}: unknown kind {kind!r}")
        _check(_is_int(offset) and _is_int(nbytes), f"tensor {i}: bad offset/nbytes")
        # the byte strides must fit in int64 even where a zero dim leaves no data (NumPy and torch refuse more)
        _check(math.prod(max(s, 1) for s in shape) * npdt.itemsize < 1 << 63, f"tensor {i}: shape {shape} is too "
                                                                                f"large")
        _check(nbytes == math.prod(shape) * npdt.itemsize, f"tensor {i}: nbytes {nbytes} does not match its shape "
                                                           f"{shape} and dtype")
        _check(offset >= pos and offset % _ALIGN == 0 and offset + nbytes <= data_size,
               f"tensor {i}: data range [{offset}, {offset + nbytes}) overlaps or lies outside the data section "
               f"of {data_size} bytes")
        pos = offset + nbytes
        out.append({"kind": kind, "npdt": npdt, "shape": tuple(shape), "offset": offset, "nbytes": nbytes,
                    "device": dev, "requires_grad": m.get("requires_grad", False), "param": m.get("param", False)})
    return out


def _read_checkpoint(fh, check_eof):
    magic = fh.read(len(MAGIC))
    if isinstance(magic, str):
        raise TypeError("minitorch.load: expected a file opened in binary mode ('rb')")
    if magic != MAGIC:
        if len(magic) < len(MAGIC) and MAGIC.startswith(magic) and magic:
            raise _CorruptError("file is truncated inside the magic number")
        raise _CorruptError("not a minitorch checkpoint: " + _describe_bad_magic(magic + fh.read(16)))
    hlen, hcrc = _HDR.unpack(_read_exact(fh, _HDR.size, "header length"))
    _check(hlen <= _MAX_HEADER, f"header length {hlen} is implausible")
    remaining = _remaining(fh)
    if remaining is not None and hlen > remaining:
        raise _CorruptError(f"file is truncated: the header needs {hlen} bytes but only {remaining} remain")
    hjson = _read_exact(fh, hlen, "header")
    _check(zlib.crc32(hjson) == hcrc, "header checksum mismatch (the file is corrupt)")

    def bad_constant(name):
        raise ValueError(f"invalid JSON constant {name}")
    try:
        header = json.loads(hjson.decode("ascii"), parse_constant=bad_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as e:
        raise _CorruptError(f"header is not valid JSON ({e})") from None
    _check(type(header) is dict and header.get("format") == "minitorch", "header is not a minitorch header")
    _check(header.get("version") == _FORMAT_VERSION, f"unsupported format version {header.get('version')!r} "
                                                     f"(this minitorch reads version {_FORMAT_VERSION})")
    data_size, data_crc = header.get("data_size"), header.get("data_crc32")
    _check(_is_int(data_size) and data_size >= 0 and _is_int(data_crc), "bad data_size/data_crc32")
    metas = _validate_metas(header.get("tensors"), data_size)
    head_len = len(MAGIC) + _HDR.size + hlen
    pad = _read_exact(fh, _align(head_len) - head_len, "header padding")
    _check(not any(pad), "non-zero header padding (the file is corrupt)")
    remaining = _remaining(fh)
    if remaining is not None and remaining < data_size:
        raise _CorruptError(f"file is truncated: expected {data_size} bytes of tensor data, only {remaining} remain")

    arrays, pos, crc = [], 0, 0
    try:
        for i, m in enumerate(metas):
            npdt, shape, offset, nbytes = m["npdt"], m["shape"], m["offset"], m["nbytes"]
            if offset > pos:
                gap = _read_exact(fh, offset - pos, "tensor data")
                crc = zlib.crc32(gap, crc)
            arr = np.empty(shape, dtype=npdt)
            if nbytes:
                flat = arr.reshape(-1).view(np.uint8)
                _read_into(fh, flat, f"tensor {i}")
                crc = zlib.crc32(flat, crc)
            arrays.append(arr)
            pos = offset + nbytes
    except MemoryError:
        raise _CorruptError(f"cannot allocate tensor data of the sizes the header claims ({data_size} bytes)") from None
    if data_size > pos:
        crc = zlib.crc32(_read_exact(fh, data_size - pos, "tensor data"), crc)
    _check(crc == data_crc, "tensor data checksum mismatch (the file is corrupt)")
    if check_eof:
        _check(fh.read(1) == b"", "unexpected bytes after the end of the checkpoint")
    return header["root"], metas, arrays


def _map_device(saved, map_location):
    if map_location is None:
        return saved
    if isinstance(map_location, dict):
        target = map_location.get(str(saved), saved)
    else:
        target = map_location
    return _device(target) if not isinstance(target, _device) else target


def _build_tensors(metas, arrays, map_location):
    from ._creation import from_numpy
    from . import cuda as _cuda
    result = []
    for m, arr in zip(metas, arrays):
        if m["kind"] == "ndarray":
            result.append(arr)
            continue
        if m["npdt"] == np.dtype(np.uint8):  # a bool tensor, read as bytes: any non-zero byte is True
            arr = np.asarray(arr != 0)
        elif arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("="))
        t = from_numpy(arr)
        saved = m["device"]
        if callable(map_location) and not isinstance(map_location, (str, _device, dict)):
            moved = map_location(t, str(saved))
            if _is_tensor(moved):
                result.append(moved)
                continue
            target = saved
        else:
            target = _map_device(saved, map_location)
        if target.type == "cuda" and not _cuda.is_available():
            raise RuntimeError(_NO_CUDA_MSG)
        result.append(t.to(target) if target.type != "cpu" else t)
    return result


_NO_CUDA_MSG = ("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is False. If you are "
                "running on a CPU-only machine, please use torch.load with map_location=torch.device('cpu') to map "
                "your storages to the CPU.")


class _Decoder:
    def __init__(self, tensors, metas):
        self.tensors = tensors
        self.metas = metas
        self.built = {}
        self.param_cls = None

    def tensor(self, i, kind):
        _check(_is_int(i) and 0 <= i < len(self.tensors), f"reference to missing tensor {i!r}")
        meta = self.metas[i]
        _check(meta["kind"] == kind, f"reference {i} is a {meta['kind']}, not a {kind}")
        if i in self.built:
            return self.built[i]
        t = self.tensors[i]
        if kind == "tensor":
            if meta["param"]:
                if self.param_cls is None:
                    self.param_cls = _parameter_class() or ()
                if self.param_cls:
                    t = self.param_cls(t, requires_grad=meta["requires_grad"])
                elif meta["requires_grad"]:
                    t.requires_grad_(True)
            elif meta["requires_grad"]:
                t.requires_grad_(True)
        self.built[i] = t
        return t

    def key(self, node):
        k = self.node(node)
        _check(k is None or type(k) in (str, int, float, bool) or (type(k) is tuple and _hashable_key(k)),
               f"invalid dict key {node!r}")
        return k

    def node(self, node):
        if node is None or type(node) in (bool, int, float, str):
            return node
        if type(node) is list:
            return [self.node(x) for x in node]
        _check(type(node) is dict, f"invalid node {node!r}")
        t = node.get("t")
        if t in ("tensor", "ndarray"):
            return self.tensor(node.get("i"), t)
        if t == "tuple":
            v = node.get("v")
            _check(type(v) is list, "invalid tuple node")
            return tuple(self.node(x) for x in v)
        if t in ("dict", "odict"):
            items = node.get("items")
            _check(type(items) is list and all(type(it) is list and len(it) == 2 for it in items), "invalid dict node")
            d = ({} if t == "dict" else collections.OrderedDict())
            for k, v in items:
                d[self.key(k)] = self.node(v)
            if t == "odict" and "meta" in node:
                d._metadata = self.node(node["meta"])
            return d
        v = node.get("v")
        if t == "float":
            _check(v in ("nan", "inf", "-inf"), f"invalid float node {v!r}")
            return float(v)
        if t == "bytes":
            _check(type(v) is str, "invalid bytes node")
            try:
                return base64.b64decode(v.encode("ascii"), validate=True)
            except (ValueError, UnicodeEncodeError):
                raise _CorruptError("invalid base64 in a bytes node") from None
        if t == "size":
            _check(type(v) is list and all(_is_int(s) for s in v), "invalid Size node")
            return Size(v)
        if t == "dtype":
            _check(v in _DTYPES, f"invalid dtype {v!r}")
            return _DTYPES[v]
        if t == "device":
            _check(type(v) is str, "invalid device node")
            try:
                return _device(v)
            except Exception:
                raise _CorruptError(f"invalid device {v!r}") from None
        raise _CorruptError(f"unknown node type {t!r}")


def _hashable_key(k):
    return all(x is None or type(x) in (str, int, float, bool) or (type(x) is tuple and _hashable_key(x)) for x in k)


def _weights_only_default(weights_only, pickle_module):
    """torch.load's choice: True unless a pickle_module is given; the TORCH_FORCE_(NO_)WEIGHTS_ONLY_LOAD
    environment variables override it."""
    weights_only_not_set = weights_only is None
    if weights_only_not_set:
        weights_only = pickle_module is None
    true_values = ("1", "y", "yes", "true")  # torch's overrides, by environment variable
    force, force_no = (os.getenv(v, "0").lower() in true_values for v in ("TORCH_FORCE_WEIGHTS_ONLY_LOAD",
                                                                           "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD"))
    if force and force_no:
        raise RuntimeError("Only one of `TORCH_FORCE_WEIGHTS_ONLY_LOAD` or `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD` should "
                           "be set, but both were set.")
    if force:
        weights_only = True
    elif force_no and weights_only_not_set:
        warnings.warn("Environment variable TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD detected, since the`weights_only` "
                      "argument was not explicitly passed to `torch.load`, forcing weights_only=False.", UserWarning,
                      stacklevel=2)
        weights_only = False
    return weights_only


def load(f, map_location=None, pickle_module=None, *, weights_only=None, mmap=None, **pickle_load_args):
    """Load a checkpoint written by torch.save or minitorch.save (PyTorch's zip format or its pre-1.6 legacy stream)
    or by an earlier minitorch.save (minitorch's own format), without PyTorch.

    weights_only=True (the default, as in PyTorch >= 2.6) allows only tensors, containers, numbers, strings and
    the globals torch's weights_only allowlist names (plus add_safe_globals): nothing in the file runs, and
    anything else raises pickle.UnpicklingError naming the global. weights_only=False unpickles anything (it can
    run arbitrary code: trusted files only), mapping torch.* globals to minitorch.*.
    map_location: None, "cpu", "cuda", a device, a dict from saved to new locations, or a callable
    (storage as a 1-D tensor, saved location) -> tensor or None. Each storage record's CRC-32 is checked (torch
    does not), so flipped bits raise instead of loading wrong values; mmap=True maps the tensor data of a zip
    checkpoint (given by path) copy-on-write instead of reading it, and so checks no CRC, as torch."""
    weights_only = _weights_only_default(weights_only, pickle_module)
    if weights_only and pickle_module is not None:
        raise RuntimeError("Can not safely load weights when explicit pickle_module is specified")
    if pickle_load_args and weights_only:
        warnings.warn("pickle_load_args only works if `weights_only=False`.", stacklevel=2)
    pickle_load_args.setdefault("encoding", "utf-8")
    if mmap and not _is_path(f):
        raise ValueError("f must be a file path in order to use the mmap argument")
    if _is_path(f) and os.fsdecode(f).endswith(".safetensors"):  # as torch.load does
        if isinstance(map_location, dict) or callable(map_location):
            kind = "dict" if isinstance(map_location, dict) else "callable"
            raise RuntimeError(f"Loading safetensors file with {kind} map_location is not supported. Use a device "
                               f"string or torch.device instead.")
        return load_file(f, device="cpu" if map_location is None else str(map_location))
    if _is_path(f):
        with open(f, "rb") as fh:
            return _load_stream(fh, f, map_location, pickle_module, weights_only, mmap, pickle_load_args)
    if not hasattr(f, "read"):
        raise TypeError(f"minitorch.load: f must be a path or a binary file object, not {type(f).__name__}")
    return _load_stream(f, None, map_location, pickle_module, weights_only, mmap, pickle_load_args)


def _load_stream(fh, path, map_location, pickle_module, weights_only, mmap, load_args):
    start = fh.tell() if fh.seekable() else 0
    magic = fh.read(len(MAGIC))
    if isinstance(magic, str):
        raise TypeError("minitorch.load: expected a file opened in binary mode ('rb')")
    if magic[:2] == b"PK":
        if not fh.seekable():
            fh = io.BytesIO(magic + fh.read())
        else:
            fh.seek(start)
        return _pt._ZipCheckpoint(fh, path, mmap).load(map_location, weights_only, pickle_module, load_args)
    if magic[:1] == b"\x80":  # a pickle: torch's legacy stream (its first pickle is a magic number)
        if mmap:
            raise RuntimeError("mmap can only be used with files saved with `torch.save(_use_new_zipfile_serialization"
                               "=True), please torch.save your checkpoint with this option in order to use mmap.")
        rest = io.BytesIO(magic + fh.read())
        return _pt._legacy_load(rest, map_location, weights_only, pickle_module, load_args)
    if magic == MAGIC or (magic and MAGIC.startswith(magic)):
        fh.seek(start) if fh.seekable() else None
        return _load_minitorch(fh if fh.seekable() else _Prefixed(magic, fh), path, map_location)
    raise RuntimeError(f"minitorch.load: cannot load{'' if path is None else ' ' + repr(os.fspath(path))}: "
                       f"{_describe_bad_magic(magic + fh.read(16))}")


class _Prefixed:
    """A stream whose first bytes were already read."""

    def __init__(self, head, fh):
        self._head, self._fh = head, fh

    def read(self, n=-1):
        head, self._head = self._head[:n] if n >= 0 else self._head, self._head[n:] if n >= 0 else b""
        return head + (self._fh.read(n - len(head)) if n < 0 or n > len(head) else b"")

    def seekable(self):
        return False


def _load_minitorch(fh, path, map_location):
    """Read minitorch's own format (files saved before minitorch.save wrote PyTorch's)."""
    try:
        root, metas, arrays = _read_checkpoint(fh, check_eof=path is not None)
        tensors = _build_tensors(metas, arrays, map_location)
        return _Decoder(tensors, metas).node(root)
    except _CorruptError as e:
        name = f" {os.fspath(path)!r}" if path is not None else ""
        raise RuntimeError(f"minitorch.load: cannot load{name}: {e}") from None
    except RecursionError:
        raise RuntimeError("minitorch.load: the checkpoint is nested too deeply (corrupt?)") from None


# ---------------------------------------------------------------------------- torch's weights_only allowlist
# The globals a weights_only load allows beyond torch's defaults (see _pickle_torch._allowed_globals).
_SAFE_GLOBALS = []


def add_safe_globals(safe_globals):
    """Marks globals (classes and functions, or (obj, "module.name") pairs) as safe for weights_only=True loads."""
    for g in safe_globals:
        if g not in _SAFE_GLOBALS:
            _SAFE_GLOBALS.append(g)


def get_safe_globals():
    """The globals added by add_safe_globals (and active safe_globals contexts)."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals():
    """Forgets the globals added by add_safe_globals."""
    _SAFE_GLOBALS.clear()


class safe_globals:
    """Context manager allowing globals for weights_only loads inside its block (see add_safe_globals)."""

    def __init__(self, safe_globals):
        self.safe_globals = list(safe_globals)

    def __enter__(self):
        self._added = [g for g in self.safe_globals if g not in _SAFE_GLOBALS]
        _SAFE_GLOBALS.extend(self._added)

    def __exit__(self, *exc):
        for g in self._added:
            _SAFE_GLOBALS.remove(g)
        return False


def get_unsafe_globals_in_checkpoint(f):
    """The "module.name" globals in a torch.save zip checkpoint that a weights_only load would refuse (read
    with pickletools, nothing is unpickled)."""
    import pickletools
    if _is_path(f):
        with open(f, "rb") as fh:
            return get_unsafe_globals_in_checkpoint(fh)
    if f.read(2) != b"PK":
        raise ValueError("Expected input to be a checkpoint returned by torch.save")
    f.seek(0)
    ckpt = _pt._ZipCheckpoint(f, None, False)
    allowed = {**_pt._allowed_globals(), **_pt._user_globals()}
    found = set()
    try:
        for op, arg, _ in pickletools.genops(ckpt.read("data.pkl").tobytes()):
            if op.name in ("GLOBAL", "INST"):
                module, name = _pt._map_compat(*arg.split(" ", 1))
                found.add(f"{module}.{name}")
    except ValueError as e:
        raise pickle.UnpicklingError(f"corrupt pickle in the checkpoint: {e}") from None
    return sorted(g for g in found if g not in allowed or g.split(".")[0] in _pt._BLOCKED_MODULES)


# ------------------------------------------------------------------------------------------------ safetensors

# https://github.com/huggingface/safetensors: u64 little-endian header size N, N bytes of JSON header
# {"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {str: str}},
# then the byte buffer; the tensors cover the buffer exactly, without holes or overlaps.
_ST_DTYPES = {"F32": "float32", "F64": "float64", "I64": "int64", "I32": "int32", "BOOL": "bool"}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}
_ST_OTHER = {"F16", "BF16", "I8", "U8", "I16", "U16", "U32", "U64", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3",
             "F6_E3M2", "F4", "C64", "C128"}
_ST_MAX_HEADER = 100_000_000


def _st_serialize(tensors, metadata):
    if not isinstance(tensors, dict):
        raise TypeError(f"save_file: tensors must be a dict of str -> Tensor, not {type(tensors).__name__}")
    for k, v in tensors.items():
        if not isinstance(k, str):
            raise TypeError(f"save_file: tensor names must be str, got {type(k).__name__} ({k!r})")
        if not _is_tensor(v):
            raise ValueError(f"Key `{k}` is invalid, expected minitorch.Tensor but received {type(v)}")
        if k == "__metadata__":
            raise ValueError("save_file: '__metadata__' is reserved and cannot name a tensor")
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise ValueError("save_file: metadata must be a dict of str -> str")
    order = sorted(tensors, key=lambda k: (-tensors[k].dtype.itemsize, k))
    header, arrays, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = dict(metadata)
    for name in order:
        t = tensors[name]
        arr = _tensor_bytes(t)
        if t.dtype.name == "bool":
            arr = arr.view(np.uint8)
        header[name] = {"dtype": _ST_NAMES[t.dtype.name], "shape": list(t.shape),
                        "data_offsets": [offset, offset + arr.nbytes]}
        arrays.append(arr)
        offset += arr.nbytes
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hjson += b" " * (-len(hjson) % 8)
    return struct.pack("<Q", len(hjson)) + hjson, arrays


def _st_write(fh, head, arrays):
    fh.write(head)
    for arr in arrays:
        if arr.nbytes:
            fh.write(memoryview(arr.reshape(-1).view(np.uint8)))


def save_file(tensors, filename, metadata=None):
    """Write a flat dict of str -> Tensor as a safetensors file (atomically). Non-contiguous tensors are
    written by their values; bool is BOOL, float32 F32, float64 F64, int64 I64, int32 I32."""
    head, arrays = _st_serialize(tensors, metadata)
    _atomic_write(filename, lambda fh: _st_write(fh, head, arrays))


def _st_save_bytes(tensors, metadata=None):
    head, arrays = _st_serialize(tensors, metadata)
    buf = io.BytesIO()
    _st_write(buf, head, arrays)
    return buf.getvalue()


def _st_parse_header(fh, size):
    """Validate a safetensors header; returns (metadata, [(name, dtype, shape, begin, end)] sorted by begin)."""
    _check(size >= 8, f"file too small for a safetensors header ({size} bytes)")
    (n,) = struct.unpack("<Q", _read_exact(fh, 8, "header size"))
    _check(n <= _ST_MAX_HEADER, f"header size {n} exceeds the {_ST_MAX_HEADER}-byte limit")
    _check(8 + n <= size, f"file is truncated: header size {n} but only {size - 8} bytes follow")
    raw = _read_exact(fh, n, "header")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _CorruptError("header is not valid UTF-8") from None
    _check(text.startswith("{"), "header does not start with '{'")

    def bad_constant(name):
        raise ValueError(f"invalid JSON constant {name}")

    def no_duplicates(pairs):
        d = {}
        for k, v in pairs:
            if k in d:
                raise ValueError(f"duplicate key {k!r}")
            d[k] = v
        return d
    try:
        header = json.loads(text, parse_constant=bad_constant, object_pairs_hook=no_duplicates)
    except (ValueError, RecursionError) as e:
        raise _CorruptError(f"header is not valid JSON ({e})") from None
    _check(type(header) is dict, "header is not a JSON object")
    metadata = header.pop("__metadata__", None)
    if metadata is not None:
        _check(type(metadata) is dict and all(type(v) is str for v in metadata.values()),
               "__metadata__ must map str to str")
    buffer_size = size - 8 - n
    entries = []
    for name, info in header.items():
        _check(type(info) is dict and set(info) == {"dtype", "shape", "data_offsets"},
               f"tensor {name!r}: entry must have exactly dtype, shape and data_offsets")
        dt, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if dt in _ST_OTHER:
            raise ValueError(f"safetensors: tensor {name!r} has dtype {dt}, which minitorch does not support "
                             f"(supported: {', '.join(_ST_DTYPES)})")
        _check(dt in _ST_DTYPES, f"tensor {name!r}: unknown dtype {dt!r}")
        _check(type(shape) is list and all(_is_int(s) and s >= 0 for s in shape), f"tensor {name!r}: bad shape "
                                                                                  f"{shape!r}")
        _check(type(offs) is list and len(offs) == 2 and all(_is_int(o) for o in offs) and 0 <= offs[0] <= offs[1],
               f"tensor {name!r}: bad data_offsets {offs!r}")
        d = _DTYPES[_ST_DTYPES[dt]]
        nbytes = math.prod(shape) * d.itemsize
        _check(offs[1] - offs[0] == nbytes, f"tensor {name!r}: data_offsets {offs} span {offs[1] - offs[0]} bytes "
                                            f"but shape {shape} of {dt} needs {nbytes}")
        _check(offs[1] <= buffer_size, f"tensor {name!r}: data_offsets {offs} lie outside the {buffer_size}-byte "
                                       f"buffer (truncated file?)")
        entries.append((name, d, tuple(shape), offs[0], offs[1]))
    entries.sort(key=lambda e: (e[3], e[4]))
    pos = 0
    for name, _, _, b, e in entries:
        _check(b == pos, f"tensor {name!r}: data_offsets start at {b}, expected {pos} (overlap or hole in the "
                         f"buffer)")
        pos = e
    _check(pos == buffer_size, f"the tensors cover {pos} bytes but the buffer holds {buffer_size} (truncated or "
                               f"trailing data)")
    return metadata, entries


def _st_read(fh, size, device):
    from ._creation import from_numpy
    _, entries = _st_parse_header(fh, size)
    out = {}
    for name, d, shape, b, e in entries:
        npdt = np.dtype(np.uint8) if d.name == "bool" else np.dtype(d._np).newbyteorder("<")
        arr = np.empty(shape, dtype=npdt)
        if e > b:
            _read_into(fh, arr.reshape(-1).view(np.uint8), f"tensor {name!r}")
        if d.name == "bool":
            arr = np.asarray(arr != 0)
        elif arr.dtype.byteorder == ">" or (arr.dtype.byteorder == "=" and sys.byteorder == "big"):
            arr = arr.astype(arr.dtype.newbyteorder("="))
        t = from_numpy(arr)
        out[name] = t if device is None or _device(device).type == "cpu" else t.to(device)
    return {k: out[k] for k in sorted(out)}


def _st_call(fn, what):
    try:
        return fn()
    except _CorruptError as e:
        raise RuntimeError(f"safetensors: cannot load {what}: {e}") from None


def load_file(filename, device="cpu"):
    """Read a safetensors file into a dict of str -> Tensor (on `device`). Corrupt or truncated files raise
    RuntimeError; a dtype minitorch lacks (F16, BF16, U8, ...) raises ValueError."""
    with open(filename, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        return _st_call(lambda: _st_read(fh, size, device), repr(os.fspath(filename)))


def _st_load_bytes(data, device="cpu"):
    data = bytes(data)
    return _st_call(lambda: _st_read(io.BytesIO(data), len(data), device), "bytes")


def safe_metadata(filename):
    """The __metadata__ dict of a safetensors file (None when absent)."""
    with open(filename, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        return _st_call(lambda: _st_parse_header(fh, size)[0], repr(os.fspath(filename)))
