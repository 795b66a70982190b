"""Tutorial LSTM text model: one training step (batch 128, seq 100, hidden 256; 1 and 2 layers) and
generation of 1000 chars at batch 1 (argmax, sliding window of 100: 1000 full forward passes);
the charrnn model's training step (embedding 64, 2 x LSTM 256, batch 64, seq 100, a prediction at
every position, gradient clipping) and its way of generating (one step per character, the state
carried, sampling); a bare GRU and RNN layer's forward + backward; minitorch vs PyTorch, with the
steps' GFLOP/s against a measured 1024^3 SGEMM rate.

    python bench/bench_lstm.py [--steps N] [--chars N] [--layers 1 2] [--no-torch]
"""
import argparse
import time

import numpy as np

import _bench  # noqa: E402,F401  (first: picks the built source tree or the installed minitorch)
from _bench import time_pair  # noqa: E402
import minitorch  # noqa: E402

try:
    import torch
except ImportError:
    torch = None

VOCAB, HID, SEQ, BATCH = 47, 256, 100, 128


def make_model(lib, layers):
    nn = lib.nn

    class Tutorial(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, HID, num_layers=layers, batch_first=True, dropout=0.2 if layers > 1 else 0.0)
            self.dropout = nn.Dropout(0.2)
            self.linear = nn.Linear(HID, VOCAB)

        def forward(self, x):
            x, _ = self.lstm(x)
            x = x[:, -1, :]
            return self.linear(self.dropout(x))

    return Tutorial()


def make_charrnn(lib):
    nn = lib.nn

    class CharRNN(nn.Module):  # examples/text_generation.py's
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, 64)
            self.lstm = nn.LSTM(64, HID, num_layers=2, batch_first=True, dropout=0.2)
            self.dropout = nn.Dropout(0.2)
            self.linear = nn.Linear(HID, VOCAB)

        def forward(self, x):
            out, _ = self.lstm(self.embedding(x))
            return self.linear(self.dropout(out))

    return CharRNN()


def charrnn_flops(batch=64):
    f = sum(2 * SEQ * batch * 4 * HID * (inp + HID) for inp in (64, HID)) + 2 * SEQ * batch * HID * VOCAB
    return 3 * f


def charrnn_step(lib, batch=64):
    lib.manual_seed(0)
    model = make_charrnn(lib)
    model.train()
    opt = lib.optim.Adam(model.parameters(), lr=2e-3)
    loss_fn = lib.nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.integers(0, VOCAB, (batch, SEQ)).astype(np.int64))
    y = lib.tensor(rng.integers(0, VOCAB, (batch, SEQ)).astype(np.int64))

    def step():
        loss = loss_fn(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()

    return step


def step_flops(layers):
    # forward: projection (I=1 / H*nd) + recurrent gemms; backward ~2x forward
    f = 0
    for layer in range(layers):
        inp = 1 if layer == 0 else HID
        f += 2 * SEQ * BATCH * 4 * HID * (inp + HID)
    f += 2 * BATCH * HID * VOCAB
    return 3 * f


def time_fn(fn, n, warm=2):
    for _ in range(warm):
        fn()
    ts = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return float(np.min(ts))  # min: the machine is shared, contention only adds time


def train_step(lib, layers):
    lib.manual_seed(0)
    model = make_model(lib, layers)
    model.train()
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = lib.nn.CrossEntropyLoss(reduction="sum")
    rng = np.random.default_rng(0)
    x = lib.tensor(rng.random((BATCH, SEQ, 1), dtype=np.float32))
    y = lib.tensor(rng.integers(0, VOCAB, BATCH).astype(np.int64))

    def step():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()

    return step


def bench_generate(lib, layers, chars):
    lib.manual_seed(0)
    model = make_model(lib, layers)
    model.eval()
    rng = np.random.default_rng(0)
    pattern = list(rng.integers(0, VOCAB, SEQ))

    def gen():
        p = list(pattern)
        with lib.no_grad():
            for _ in range(chars):
                x = lib.tensor(np.array(p, dtype=np.float32).reshape(1, SEQ, 1) / VOCAB)
                idx = int(model(x).argmax())
                p.append(idx)
                p = p[1:]

    return time_fn(gen, 1, warm=0)


def bench_generate_charrnn(lib, chars):
    """the charrnn way: one LSTM step per character with the state carried, sampling at temperature 0.8"""
    lib.manual_seed(0)
    model = make_charrnn(lib)
    model.eval()

    def gen():
        with lib.no_grad():
            x, state = lib.tensor([[5]]), None
            for _ in range(chars):
                out, state = model.lstm(model.embedding(x), state)
                probs = lib.softmax(model.linear(out[:, -1]) / 0.8, dim=-1)
                x = lib.multinomial(probs, 1)

    return time_fn(gen, 1, warm=1)


def layer_step(lib, mode, batch=64, inp=64):
    """one forward + backward of a bare GRU / RNN layer (B64 T100 I64 H256): on minitorch's CPU a
    Python time loop per layer with per-step GEMMs (and the fused GRU cell), its own backward"""
    lib.manual_seed(0)
    layer = getattr(lib.nn, mode)(inp, HID, batch_first=True)
    x = lib.randn(batch, SEQ, inp, requires_grad=True)

    def step():
        layer(x)[0].sum().backward()

    return step


def sgemm_rate():
    a = minitorch.randn(1024, 1024)
    b = minitorch.randn(1024, 1024)
    t = time_fn(lambda: a @ b, 10)
    return 2 * 1024 ** 3 / t / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--chars", type=int, default=1000)
    ap.add_argument("--layers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()
    use_torch = torch is not None and not args.no_torch
    rate = sgemm_rate()
    print(f"SGEMM 1024^3 (minitorch/OpenBLAS): {rate:.1f} GFLOP/s, threads {minitorch.get_num_threads()}")
    print(f"{'workload':40s} {'minitorch':>12s} {'torch':>12s} {'speedup':>8s} {'GFLOP/s':>8s} {'% sgemm':>8s}")
    for layers in args.layers:
        tm, tt = time_pair(lambda lib: train_step(lib, layers), args.steps, use_torch)
        gf = step_flops(layers) / tm / 1e9
        print(f"{f'train step LSTM x{layers} (B128 T100 H256)':40s} {tm * 1e3:10.1f}ms {tt * 1e3:10.1f}ms "
              f"{tt / tm:7.2f}x {gf:8.1f} {100 * gf / rate:7.1f}%")
    tm, tt = time_pair(charrnn_step, args.steps, use_torch)
    gf = charrnn_flops() / tm / 1e9
    print(f"{'train step charrnn (B64 T100 E64 2x256)':40s} {tm * 1e3:10.1f}ms {tt * 1e3:10.1f}ms "
          f"{tt / tm:7.2f}x {gf:8.1f} {100 * gf / rate:7.1f}%")
    for mode in ("GRU", "RNN"):
        tm, tt = time_pair(lambda lib: layer_step(lib, mode), args.steps, use_torch)
        print(f"{f'{mode} layer fwd+bwd (B64 T100 I64 H256)':40s} {tm * 1e3:10.1f}ms {tt * 1e3:10.1f}ms {tt / tm:7.2f}x")
    for layers in args.layers:
        tm = bench_generate(minitorch, layers, args.chars)
        tt = bench_generate(torch, layers, args.chars) if use_torch else float("nan")
        print(f"{f'generate {args.chars} chars LSTM x{layers} (B1)':40s} {tm * 1e3:10.1f}ms {tt * 1e3:10.1f}ms "
              f"{tt / tm:7.2f}x")
    tm = bench_generate_charrnn(minitorch, args.chars)
    tt = bench_generate_charrnn(torch, args.chars) if use_torch else float("nan")
    print(f"{f'generate {args.chars} chars charrnn (B1, state)':40s} {tm * 1e3:10.1f}ms {tt * 1e3:10.1f}ms "
          f"{tt / tm:7.2f}x")


if __name__ == "__main__":
    main()
