"""Key-value stores for rendezvous, as torch.distributed's: HashStore, TCPStore, FileStore, PrefixStore.

The TCPStore server (rank 0's, on MASTER_ADDR:MASTER_PORT) also speaks the PMI-1 wire protocol that an
MPICH process uses to find its peers at MPI_Init: each rank connects a socket, announces its rank on it,
and hands it to MPI as PMI_FD, the way MPICH's own launcher (hydra) does. So processes started by any
launcher (minitorch.distributed.run, multiprocessing.spawn, a batch system) form one MPI world; the store
only carries business cards, the collectives are MPI's. The server also notices a rank whose socket
closes before MPI_Finalize (it died) and records that in the store, so the others fail instead of hang.
"""
import fcntl
import os
import pickle
import socket
import struct
import threading
import time
from datetime import timedelta

__all__ = ["Store", "HashStore", "TCPStore", "FileStore", "PrefixStore", "DistError", "DistStoreError",
           "DistBackendError", "DistNetworkError"]


class DistError(RuntimeError):
    """Base class of torch.distributed's errors."""


class DistStoreError(DistError):
    """A store operation failed or timed out."""


class DistBackendError(DistError):
    """A collective failed in the backend (or a peer failed)."""


class DistNetworkError(DistError):
    """A network operation failed."""


FAILED_KEY = "mt/failed"  # set (by the server or a failing rank) when a rank died or raised


def _seconds(timeout):
    return timeout.total_seconds() if isinstance(timeout, timedelta) else float(timeout)


def _as_bytes(value):
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, (list, tuple)):  # torch accepts a list of byte values
        return bytes(value)
    raise TypeError(f"store values must be str or bytes, not {type(value).__name__}")


class _Table:
    """The key-value state behind HashStore and the TCPStore server: one dict, one condition."""

    def __init__(self):
        self.data = {}
        self.cv = threading.Condition()

    def call(self, op, args, timeout):
        with self.cv:
            if op == "set":
                self.data[args[0]] = args[1]
                self.cv.notify_all()
                return None
            if op == "get":
                if not self.cv.wait_for(lambda: args[0] in self.data, timeout):
                    raise DistStoreError("Wait timeout")
                return self.data[args[0]]
            if op == "add":
                value = int(self.data.get(args[0], b"0")) + int(args[1])
                self.data[args[0]] = str(value).encode()
                self.cv.notify_all()
                return value
            if op == "append":
                self.data[args[0]] = self.data.get(args[0], b"") + args[1]
                self.cv.notify_all()
                return None
            if op == "compare_set":
                key, expected, desired = args
                current = self.data.get(key)
                if current is None and expected == b"" or current == expected:
                    self.data[key] = desired
                    self.cv.notify_all()
                    return desired
                return expected if current is None else current
            if op == "check":
                return all(k in self.data for k in args[0])
            if op == "wait":
                if not self.cv.wait_for(lambda: all(k in self.data for k in args[0]), timeout):
                    raise DistStoreError("Wait timeout")
                return None
            if op == "delete_key":
                found = self.data.pop(args[0], None) is not None
                return found
            if op == "num_keys":
                return len(self.data)
            if op == "list_keys":
                return list(self.data)
            raise DistStoreError(f"unknown store operation {op!r}")


class Store:
    """The store interface; subclasses implement _call(op, args, timeout)."""

    def __init__(self, timeout=timedelta(seconds=300)):
        self._timeout = timeout if isinstance(timeout, timedelta) else timedelta(seconds=float(timeout))

    @property
    def timeout(self):
        return self._timeout

    def set_timeout(self, timeout):
        self._timeout = timeout if isinstance(timeout, timedelta) else timedelta(seconds=float(timeout))

    def set(self, key, value):
        self._call("set", (key, _as_bytes(value)))

    def get(self, key):
        return self._call("get", (key,))

    def add(self, key, value):
        return self._call("add", (key, int(value)))

    def append(self, key, value):
        self._call("append", (key, _as_bytes(value)))

    def compare_set(self, key, expected_value, desired_value):
        return self._call("compare_set", (key, _as_bytes(expected_value), _as_bytes(desired_value)))

    def check(self, keys):
        return self._call("check", (list(keys),))

    def wait(self, keys, timeout=None):
        self._call("wait", (list(keys),), timeout)

    def delete_key(self, key):
        return self._call("delete_key", (key,))

    def num_keys(self):
        return self._call("num_keys", ())

    def list_keys(self):
        return self._call("list_keys", ())

    def multi_get(self, keys):
        return [self.get(k) for k in keys]

    def multi_set(self, keys, values):
        for k, v in zip(keys, values):
            self.set(k, v)

    def has_extended_api(self):
        return True

    def _call(self, op, args, timeout=None):
        raise NotImplementedError


class HashStore(Store):
    """An in-process store (threads of one process)."""

    def __init__(self):
        super().__init__()
        self._table = _Table()

    def _call(self, op, args, timeout=None):
        return self._table.call(op, args, _seconds(self._timeout if timeout is None else timeout))


class PrefixStore(Store):
    """Prefixes every key with `prefix/` before passing it to `store`."""

    def __init__(self, prefix, store):
        super().__init__(store.timeout)
        self.prefix = prefix
        self.underlying_store = store

    def _key(self, key):
        return f"{self.prefix}/{key}"

    def _call(self, op, args, timeout=None):
        if op in ("check", "wait"):
            args = ([self._key(k) for k in args[0]],) + tuple(args[1:])
        elif op == "num_keys":
            return self.underlying_store._call(op, args, timeout)
        elif op != "list_keys":
            args = (self._key(args[0]),) + tuple(args[1:])
        return self.underlying_store._call(op, args, timeout)


# ---- TCPStore: length-prefixed pickled (op, args, timeout) requests, one thread per connection ----

def _send_msg(sock, obj):
    data = pickle.dumps(obj)
    sock.sendall(struct.pack("!I", len(data)) + data)


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("connection closed")
        buf += chunk
    return bytes(buf)


def _recv_msg(sock):
    (n,) = struct.unpack("!I", _recv_exact(sock, 4))
    return pickle.loads(_recv_exact(sock, n))


_PMI_DEBUG = os.environ.get("MINITORCH_PMI_DEBUG") == "1"
PMI_HELLO = b"mt-pmi"  # first bytes of a connection that carries PMI for one rank


class _Server:
    """The TCPStore server: the table, plus PMI-1 for MPICH processes of one world (see module doc)."""

    def __init__(self, host, port):
        self.table = _Table()
        self.sock = socket.create_server((host, port), reuse_port=False)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.port = self.sock.getsockname()[1]
        self.barrier = {"count": 0, "generation": 0}
        self.pmi_live = set()  # ranks whose PMI connection is open
        self.pmi_files = {}
        self.closed = False
        threading.Thread(target=self._accept, name="minitorch-store", daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def wait_pmi_closed(self, keep, seconds):
        """Waits until only the ranks in `keep` hold PMI connections (the others sent MPI's finalize)."""
        with self.table.cv:
            self.table.cv.wait_for(lambda: self.pmi_live <= set(keep), seconds)

    def preack_finalize(self, rank):
        """Answers, ahead of time, the PMI finalize that the hosting process's own libmpi sends from a C exit
        handler, when Python (and so this server's threads) has already gone."""
        f = self.pmi_files.get(rank)
        if f is not None:
            f.write(b"cmd=finalize_ack rc=0\n")

    def close(self):
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def _serve(self, conn):
        try:
            head = _recv_exact(conn, len(PMI_HELLO))
            if head == PMI_HELLO:
                return self._serve_pmi(conn)
            rest = head
            while True:
                (n,) = struct.unpack("!I", rest[:4])
                body = rest[4:]
                body += _recv_exact(conn, n - len(body)) if n > len(body) else b""
                op, args, timeout = pickle.loads(body[:n])
                try:
                    reply = ("ok", self.table.call(op, args, timeout))
                except DistStoreError as e:
                    reply = ("err", str(e))
                _send_msg(conn, reply)
                rest = _recv_exact(conn, 4)
        except (ConnectionError, OSError, struct.error):
            pass
        finally:
            conn.close()

    # -- PMI-1 (the wire protocol of MPICH's simple PMI client: "cmd=... key=value ...\n" lines) --

    def _serve_pmi(self, conn):
        f = conn.makefile("rwb", buffering=0)
        header = f.readline().decode().split()  # " rank=R size=N kvs=NAME"
        info = dict(p.split("=", 1) for p in header)
        rank, size, kvs = int(info["rank"]), int(info["size"]), info["kvs"]
        finalized = False
        with self.table.cv:
            self.pmi_live.add(rank)
            self.pmi_files[rank] = f
        try:
            while True:
                line = f.readline()
                if not line:
                    break
                msg = dict(p.split("=", 1) for p in line.decode().split() if "=" in p)
                cmd = msg.get("cmd")
                reply = self._pmi_reply(cmd, msg, rank, size, kvs)
                if _PMI_DEBUG:
                    print(f"[pmi {rank}] {line.decode().strip()} -> {reply}", flush=True)
                f.write((reply + "\n").encode())
                if cmd == "finalize":
                    finalized = True
                    break
        except (ConnectionError, OSError):
            pass
        finally:
            conn.close()
            with self.table.cv:
                self.pmi_live.discard(rank)
                self.table.cv.notify_all()
            if not finalized and f"mt/exiting/{rank}" not in self.table.data:  # it died in its MPI session
                with self.table.cv:
                    self.table.data.setdefault(FAILED_KEY, f"rank {rank} exited without finishing "
                                                          "(its process died or was killed)".encode())
                    self.barrier["dead"] = self.barrier.get("dead", 0) + 1
                    self.table.cv.notify_all()

    def _pmi_reply(self, cmd, msg, rank, size, kvs):
        t = self.table
        if cmd == "init":
            return "cmd=response_to_init pmi_version=1 pmi_subversion=1 rc=0"
        if cmd == "get_maxes":
            return "cmd=maxes rc=0 kvsname_max=256 keylen_max=256 vallen_max=1024"
        if cmd == "get_appnum":
            return "cmd=appnum rc=0 appnum=0"
        if cmd == "get_my_kvsname":
            return f"cmd=my_kvsname rc=0 kvsname={kvs}"
        if cmd == "get_universe_size":
            return f"cmd=universe_size rc=0 size={size}"
        if cmd == "put":
            t.call("set", (f"pmi/{kvs}/{msg['key']}", msg.get("value", "").encode()), None)
            return "cmd=put_result rc=0"
        if cmd == "get":
            key = msg["key"]
            if key == "PMI_process_mapping":
                return f"cmd=get_result rc=0 value={self._process_mapping(kvs, size)}"
            value = t.data.get(f"pmi/{kvs}/{key}")
            if value is None:
                return "cmd=get_result rc=-1 msg=key_not_found"
            return f"cmd=get_result rc=0 value={value.decode()}"
        if cmd == "barrier_in":
            with t.cv:
                b = self.barrier
                generation = b["generation"]
                b["count"] += 1
                if b["count"] + b.get("dead", 0) >= size:
                    b["count"] = 0
                    b["generation"] += 1
                    t.cv.notify_all()
                else:
                    t.cv.wait_for(lambda: b["generation"] != generation or b["count"] + b.get("dead", 0) >= size)
                    if b["generation"] == generation:  # released by a death
                        return "cmd=barrier_out rc=-1 msg=a_rank_died"
            return "cmd=barrier_out rc=0"
        if cmd == "finalize":
            return "cmd=finalize_ack rc=0"
        if cmd == "abort":
            with t.cv:
                t.data.setdefault(FAILED_KEY, f"rank {rank} called MPI_Abort".encode())
                t.cv.notify_all()
            return "cmd=abort_ack rc=0"
        return f"cmd={cmd} rc=-1 msg=unsupported_by_minitorch_pmi"

    def _process_mapping(self, kvs, size):
        """MPICH's node layout: (vector,(first_node,node_count,ranks_per_node),...) over ranks in order,
        from the node id each rank registered under pmi/<kvs>/node/<rank>."""
        keys = [f"pmi/{kvs}/node/{r}" for r in range(size)]
        self.table.call("wait", (keys,), 300)
        nodes = [self.table.data[k].decode() for k in keys]
        ids = {}
        for n in nodes:
            ids.setdefault(n, len(ids))
        blocks = []  # runs of consecutive ranks on one node
        for n in nodes:
            if blocks and blocks[-1][0] == ids[n]:
                blocks[-1][1] += 1
            else:
                blocks.append([ids[n], 1])
        return "(vector," + ",".join(f"({node},1,{count})" for node, count in blocks) + ")"


class TCPStore(Store):
    """torch.distributed.TCPStore: the master hosts the server; every instance (the master's too) is a client."""

    def __init__(self, host_name, port, world_size=None, is_master=False, timeout=timedelta(seconds=300),
                 wait_for_workers=True, multi_tenant=False, master_listen_fd=None, use_libuv=True):
        super().__init__(timeout)
        self.host = host_name
        self._server = _Server("" if host_name in ("", "0.0.0.0") else host_name, int(port)) if is_master else None
        self.port = self._server.port if self._server else int(port)
        self.world_size = world_size
        self._lock = threading.Lock()
        self._sock = self._connect()
        if is_master and wait_for_workers and world_size:
            self.add("mt/workers", 1)
            deadline = time.monotonic() + _seconds(self._timeout)
            while int(self.get("mt/workers")) < world_size:
                if time.monotonic() > deadline:
                    raise DistStoreError(f"Timed out after {_seconds(self._timeout):g} seconds waiting for "
                                         f"clients. {int(self.get('mt/workers'))}/{world_size} clients joined.")
                time.sleep(0.01)
        elif wait_for_workers and world_size:
            self.add("mt/workers", 1)

    def _connect(self):
        deadline = time.monotonic() + _seconds(self._timeout)
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=10)
                sock.settimeout(None)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as e:
                if time.monotonic() > deadline:
                    raise DistNetworkError(f"The client socket has timed out after {_seconds(self._timeout):g}s "
                                           f"while trying to connect to ({self.host}, {self.port}): {e}") from None
                time.sleep(0.05)

    def connect_pmi(self, rank, size, kvs):
        """A socket announced to the server as rank's PMI connection, to hand to MPI as PMI_FD."""
        sock = self._connect()
        sock.sendall(PMI_HELLO + f" rank={rank} size={size} kvs={kvs}\n".encode())
        return sock

    def _call(self, op, args, timeout=None):
        t = _seconds(self._timeout if timeout is None else timeout)
        with self._lock:
            try:
                _send_msg(self._sock, (op, args, t))
                status, value = _recv_msg(self._sock)
            except (ConnectionError, OSError) as e:
                raise DistNetworkError(f"lost the connection to the store at {self.host}:{self.port}: {e}") from None
        if status == "err":
            raise DistStoreError(value)
        return value

    def close(self):
        try:
            self._sock.close()
        except OSError:
            pass
        if self._server:
            self._server.close()


class FileStore(Store):
    """A store in a file shared by the processes (init_method='file://...'): an append-only log of pickled
    records under an exclusive lock, read back on every access."""

    def __init__(self, file_name, world_size=-1):
        super().__init__()
        self.path = file_name
        self.world_size = world_size
        open(self.path, "ab").close()

    def _read(self, f):
        f.seek(0)
        data = {}
        raw = f.read()
        pos = 0
        while pos + 4 <= len(raw):
            (n,) = struct.unpack("!I", raw[pos:pos + 4])
            if pos + 4 + n > len(raw):
                break
            key, value = pickle.loads(raw[pos + 4:pos + 4 + n])
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
            pos += 4 + n
        return data

    def _call(self, op, args, timeout=None):
        t = _seconds(self._timeout if timeout is None else timeout)
        deadline = time.monotonic() + t
        while True:
            with open(self.path, "a+b") as f:
                fcntl.flock(f, fcntl.LOCK_EX)
                table = _Table()
                table.data = self._read(f)
                before = dict(table.data)
                try:
                    result = table.call(op, args, 0)
                except DistStoreError:
                    if time.monotonic() > deadline:
                        raise
                    result = None
                    retry = True
                else:
                    retry = False
                f.seek(0, os.SEEK_END)
                for k in set(before) | set(table.data):
                    if before.get(k) != table.data.get(k):
                        rec = pickle.dumps((k, table.data.get(k)))
                        f.write(struct.pack("!I", len(rec)) + rec)
            if not retry:
                return result
            time.sleep(0.01)
