"""Per-thread state: grad mode is per thread (as in PyTorch), and threads that share the
core (separate models, or one model for inference) get the results a single thread gets.

The core runs with the GIL held; threads interleave between core calls, and inside
backward when a Python hook runs. These tests force those interleavings with events."""
import threading

import numpy as np

import minitorch


def run_threads(*fns):
    errors = []

    def wrap(fn):
        def go():
            try:
                fn()
            except BaseException as e:  # re-raised in the main thread below
                errors.append(e)
        return go
    ts = [threading.Thread(target=wrap(f)) for f in fns]
    for t in ts:
        t.start()
    for t in ts:
        t.join(timeout=60)
        assert not t.is_alive(), "thread hung"
    if errors:
        raise errors[0]


def test_no_grad_in_another_thread_leaves_this_thread_recording():
    inside, done = threading.Event(), threading.Event()
    seen = {}

    def other():
        with minitorch.no_grad():
            seen["other"] = minitorch.is_grad_enabled()
            inside.set()
            done.wait(10)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(10)
    x = minitorch.ones(3, requires_grad=True)
    y = x * 2
    assert minitorch.is_grad_enabled() and y.requires_grad and y.grad_fn is not None
    done.set()
    t.join()
    assert seen["other"] is False
    assert minitorch.is_grad_enabled()


def test_grad_mode_set_in_a_thread_does_not_leak_out():
    def other():
        minitorch.set_grad_enabled(False)  # never restored: dies with the thread
        assert not minitorch.is_grad_enabled()
    run_threads(other)
    assert minitorch.is_grad_enabled()
    # and a new thread starts with grad mode on, as in PyTorch
    seen = []
    run_threads(lambda: seen.append(minitorch.is_grad_enabled()))
    assert seen == [True]


def test_forward_in_another_thread_records_while_backward_runs():
    # backward turns grad mode off while it runs; that must not reach other threads.
    in_backward, forward_done = threading.Event(), threading.Event()
    seen = {}

    class Pause(minitorch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 1

        @staticmethod
        def backward(ctx, g):
            in_backward.set()  # the engine is mid-backward on this thread
            forward_done.wait(10)
            return g

    def backward_thread():
        x = minitorch.ones(2, requires_grad=True)
        Pause.apply(x * 3).sum().backward()
        seen["grad"] = x.grad.tolist()

    def forward_thread():
        assert in_backward.wait(10)
        w = minitorch.ones(2, requires_grad=True)
        out = (w * w).sum()
        seen["recorded"] = out.requires_grad and out.grad_fn is not None
        out.backward()
        seen["wgrad"] = w.grad.tolist()
        forward_done.set()

    run_threads(backward_thread, forward_thread)
    assert seen == {"grad": [3.0, 3.0], "recorded": True, "wgrad": [2.0, 2.0]}


def make_model():
    return minitorch.nn.Sequential(minitorch.nn.Linear(5, 16), minitorch.nn.Tanh(), minitorch.nn.Linear(16, 1))


def train(seed, init, steps=40):
    # own Generator for the data: the global generator is shared by threads, as in PyTorch
    g = minitorch.Generator().manual_seed(seed)
    model = make_model()
    model.load_state_dict(init)
    opt = minitorch.optim.Adam(model.parameters(), lr=0.01)
    x = minitorch.randn(64, 5, generator=g)
    y = minitorch.randn(64, 1, generator=g)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = ((model(x) - y) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().numpy().copy() for p in model.parameters()]


def test_two_threads_training_separate_models_match_sequential():
    inits = {}
    for s in (1, 2):
        minitorch.manual_seed(s)
        inits[s] = make_model().state_dict()
    want = {s: train(s, inits[s]) for s in (1, 2)}
    got = {}

    def worker(s):
        def go():
            got[s] = train(s, inits[s])
        return go

    run_threads(worker(1), worker(2))
    for s in (1, 2):
        np.testing.assert_array_equal(got[s][0], want[s][0])
        for a, b in zip(got[s][1], want[s][1]):
            np.testing.assert_array_equal(a, b)
    assert want[1][0] != want[2][0]
    assert want[1][0][-1] < want[1][0][0]  # it did train


def test_inference_from_two_threads_on_one_model():
    minitorch.manual_seed(3)
    model = minitorch.nn.LSTM(4, 8, batch_first=True)
    xs = [minitorch.randn(2, 6, 4) for _ in range(2)]
    with minitorch.no_grad():
        want = [model(x)[0].numpy().copy() for x in xs]
    got = [[], []]

    def worker(i):
        def go():
            with minitorch.no_grad():
                for _ in range(20):
                    got[i].append(model(xs[i])[0].numpy().copy())
        return go

    run_threads(worker(0), worker(1))
    for i in (0, 1):
        assert len(got[i]) == 20
        for g in got[i]:
            np.testing.assert_array_equal(g, want[i])
