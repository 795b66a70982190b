"""examples/text_generation.py's GPT (nanoGPT's model.py, character level): the same model code run on minitorch and
on PyTorch (the example's source with `import torch`) gives the same logits, loss, gradients and AdamW steps from the
same weights; a tiny config learns; top-k sampling; generation from a checkpoint; the `train --model gpt` CLI."""
import math
import re
import types
from dataclasses import asdict

import numpy as np
import pytest

import minitorch
from test_run_shim import as_pytorch_source
from test_text_generation import EXAMPLE, _chi2_ok, _corpus_slice, _example, _run_cli

TINY = dict(block_size=16, n_layer=2, n_head=2, n_embd=32, dropout=0.0)


@pytest.fixture(scope="module")
def tg():
    return _example()


@pytest.fixture(scope="module")
def tg_torch():
    """The example module as the PyTorch program it stands for: its GPT is nanoGPT's model on real torch."""
    pytest.importorskip("torch")
    with open(EXAMPLE, encoding="utf-8") as f:
        src = as_pytorch_source(f.read())
    assert not re.search(r"^\s*(import|from)\s+minitorch", src, flags=re.M)
    mod = types.ModuleType("text_generation_on_torch")
    exec(compile(src, EXAMPLE, "exec"), mod.__dict__)
    return mod


def _pair(tg, tg_torch, **kw):
    """A minitorch GPT and the torch one with its weights (minitorch -> NumPy -> torch)."""
    import torch
    cfg = dict(TINY, vocab_size=29)
    cfg.update(kw)
    minitorch.manual_seed(0)
    model = tg.GPT(tg.GPTConfig(**cfg))
    ref = tg_torch.GPT(tg_torch.GPTConfig(**cfg))
    ref.load_state_dict({k: torch.tensor(v.numpy()) for k, v in model.state_dict().items()})
    return model, ref


def _close(a, b, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=rtol, atol=atol)


@pytest.mark.parametrize("kw", [{}, {"bias": True, "tie": False}], ids=["tied-nobias", "untied-bias"])
def test_gpt_logits_loss_and_gradients_match_torch(tg, tg_torch, kw):
    import torch
    model, ref = _pair(tg, tg_torch, **kw)
    assert list(model.state_dict()) == list(ref.state_dict())
    assert [n for n, _ in model.named_parameters()] == [n for n, _ in ref.named_parameters()]
    assert (model.lm_head.weight is model.transformer.wte.weight) == (not kw)
    rng = np.random.default_rng(0)
    idx, tgt = rng.integers(0, 29, (3, 16)), rng.integers(0, 29, (3, 16))
    tgt[0, :4] = -1  # ignored, as nanoGPT's ignore_index=-1
    logits, loss = model(minitorch.tensor(idx), minitorch.tensor(tgt))
    rlogits, rloss = ref(torch.tensor(idx), torch.tensor(tgt))
    assert tuple(logits.shape) == (3, 16, 29)
    _close(logits, rlogits)
    assert abs(loss.item() - rloss.item()) <= 1e-5 * abs(rloss.item())
    loss.backward()
    rloss.backward()
    for (name, p), (_, rp) in zip(model.named_parameters(), ref.named_parameters()):
        scale = float(rp.grad.abs().max())
        np.testing.assert_allclose(p.grad.numpy(), rp.grad.numpy(), rtol=1e-3, atol=1e-5 * max(scale, 1e-3),
                                   err_msg=name)
    # without targets: the last position's logits only, on a context shorter than the block
    last, none = model(minitorch.tensor(idx[:, :7]))
    rlast, _ = ref(torch.tensor(idx[:, :7]))
    assert none is None and tuple(last.shape) == (3, 1, 29)
    _close(last, rlast)
    with pytest.raises(AssertionError, match="block size is only 16"):
        model(minitorch.tensor(rng.integers(0, 29, (1, 17))))


def test_gpt_adamw_steps_match_torch(tg, tg_torch):
    """configure_optimizers' two groups (decay on 2-D weights only), clipping and the schedule: 5 steps on both."""
    import torch
    model, ref = _pair(tg, tg_torch, bias=True)
    opt = model.configure_optimizers(0.1, 3e-3, (0.9, 0.99))
    ropt = ref.configure_optimizers(0.1, 3e-3, (0.9, 0.99))
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() == 2 for p in decay["params"]) and all(p.dim() == 1 for p in no_decay["params"])
    # every Linear and Embedding weight once (the tied lm head is the token embedding), every bias and LN gain
    assert len(decay["params"]) == 4 * TINY["n_layer"] + 2
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 29, 500)
    for step in range(5):
        x, y = tg.get_batch(ids, 16, 4, rng)
        for o in (opt, ropt):
            for g in o.param_groups:
                g["lr"] = tg.gpt_lr(step, 3e-3, 1e-4, 2, 5)
        _, loss = model(x, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        minitorch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        _, rloss = ref(torch.tensor(x.numpy()), torch.tensor(y.numpy()))
        ropt.zero_grad(set_to_none=True)
        rloss.backward()
        torch.nn.utils.clip_grad_norm_(ref.parameters(), 1.0)
        ropt.step()
        assert abs(loss.item() - rloss.item()) <= 1e-4 * abs(rloss.item()), step
    for k, v in ref.state_dict().items():
        np.testing.assert_allclose(model.state_dict()[k].numpy(), v.numpy(), rtol=1e-3, atol=2e-5, err_msg=k)


def test_gpt_init_is_nanogpts(tg):
    minitorch.manual_seed(0)
    model = tg.GPT(tg.GPTConfig(vocab_size=50, n_layer=3, n_embd=64, bias=True, tie=False))
    for name, p in model.named_parameters():
        w = p.detach().numpy()
        if name.endswith("c_proj.weight"):
            std = 0.02 / math.sqrt(2 * 3)
        elif w.ndim == 2:
            std = 0.02
        else:  # LayerNorm gains 1, biases 0
            np.testing.assert_array_equal(w, 1.0 if name.endswith("weight") else 0.0, err_msg=name)
            continue
        assert abs(w.mean()) < 4 * std / math.sqrt(w.size) + 1e-6, name
        assert abs(w.std() / std - 1) < 0.1, (name, w.std(), std)


def test_gpt_lr_schedule_is_warmup_then_cosine(tg):
    lrs = [tg.gpt_lr(i, 1e-3, 1e-4, 10, 110) for i in range(120)]
    np.testing.assert_allclose(lrs[:10], [1e-3 * (i + 1) / 11 for i in range(10)])
    assert lrs[10] == pytest.approx(1e-3) and lrs[60] == pytest.approx(5.5e-4) and lrs[110] == pytest.approx(1e-4)
    assert all(a >= b for a, b in zip(lrs[10:], lrs[11:])) and lrs[-1] == 1e-4


def test_tiny_gpt_trains_and_its_validation_loss_falls(tg):
    minitorch.manual_seed(0)
    text = _corpus_slice(20000)
    vocab = tg.build_vocab(text)
    h0 = tg.unigram_entropy(tg.split_ids(tg.encode(text, vocab))[0], len(vocab))
    model, best, char_to_int, history = tg.train_gpt(
        text, steps=160, batch_size=32, lr=3e-3, warmup=10, eval_interval=80, eval_iters=8, progress=False,
        log=lambda *a: None, **TINY)
    vals = [h["eval_loss"] for h in history]
    print(f"unigram entropy {h0:.3f}; validation {[round(v, 3) for v in vals]}")
    assert [h["step"] for h in history] == [0, 80, 160]
    assert vals[0] > math.log(len(vocab)) - 0.3  # the init predicts nearly uniformly
    # past the unigram plateau: it uses the context
    assert vals[-1] < vals[0] - 1.0 and vals[-1] < h0 - 0.2, vals
    assert model.config.vocab_size == len(char_to_int) and set(best) == set(model.state_dict())


def test_top_k_samples_only_the_k_likeliest_in_softmax_proportion(tg):
    minitorch.manual_seed(0)
    logits = np.random.default_rng(2).normal(size=(1, 12)).astype(np.float32)
    top = np.argsort(-logits[0])[:4]
    draws = np.array([int(tg.sample_next(minitorch.tensor(logits), 0.7, top_k=4)) for _ in range(3000)])
    assert set(draws) <= set(top)
    p = np.zeros(12)
    p[top] = np.exp(logits[0, top] / 0.7)
    _chi2_ok(np.bincount(draws, minlength=12), p / p.sum())
    greedy = tg.sample_next(minitorch.tensor(logits), 0.0)
    assert int(greedy) == int(np.argmax(logits)) and tuple(greedy.shape) == (1, 1)
    assert int(tg.sample_next(minitorch.tensor(logits), 1.0, top_k=1)) == int(np.argmax(logits))


def test_generate_from_a_tiny_checkpoint(tg, tmp_path):
    minitorch.manual_seed(0)
    text = _corpus_slice(3000)
    model, best, char_to_int, history = tg.train_gpt(
        text, steps=5, batch_size=4, eval_interval=5, eval_iters=1, progress=False, log=lambda *a: None, **TINY)
    path = str(tmp_path / "gpt.pth")
    minitorch.save([best, char_to_int, asdict(model.config)], path)
    state, c2i, model_args = minitorch.load(path)
    m = tg.model_from_state_dict(state, len(c2i), model_args)
    assert isinstance(m, tg.GPT) and model_args["n_head"] == 2 and c2i == char_to_int
    with pytest.raises(SystemExit, match="has no model_args"):
        tg.model_from_state_dict(state, len(c2i))
    prompt = "alice was beginning to get very tired of sitting"  # longer than the block: the last 16 are used
    minitorch.manual_seed(1)
    s1 = tg.generate_gpt(m, c2i, prompt, length=40, temperature=0.8, top_k=5)
    minitorch.manual_seed(1)
    assert tg.generate_gpt(m, c2i, prompt, length=40, temperature=0.8, top_k=5) == s1
    assert len(s1) == 40 and set(s1) <= set(c2i)
    greedy = tg.generate_gpt(m, c2i, "Alice", length=20, temperature=0)  # capitals lowered for a lower-case vocab
    assert greedy == tg.generate_gpt(m, c2i, "alice", length=20, temperature=1.0, top_k=1)


def test_gpt_cli_trains_saves_and_generates(tmp_path):
    corpus = tmp_path / "small.txt"
    corpus.write_text(_corpus_slice(3000), encoding="utf-8")
    ckpt = str(tmp_path / "gpt.pth")
    r = _run_cli(["train", "--model", "gpt", "--steps", "4", "--data", str(corpus), "--n-layer", "1", "--n-head", "2",
                  "--n-embd", "16", "--block-size", "16", "--batch-size", "4", "--eval-interval", "2",
                  "--eval-iters", "2", "--seed", "0", "--device", "cpu", "--checkpoint", ckpt], cwd=str(tmp_path),
                 timeout=60)
    assert r.returncode == 0, r.stderr
    steps = [line.split(":")[0] for line in r.stdout.splitlines() if line.startswith("step ")]
    assert steps == ["step 0", "step 2", "step 4"], r.stdout
    assert "4/4" in r.stderr  # the progress bar counted the steps
    state, char_to_int, model_args = minitorch.load(ckpt)
    assert model_args == dict(block_size=16, vocab_size=len(char_to_int), n_layer=1, n_head=2, n_embd=16,
                              dropout=0.0, bias=False, tie=True)
    assert state["transformer.wpe.weight"].shape == (16, 16) and "transformer.h.1.ln_1.weight" not in state
    history = (tmp_path / "gpt_history.csv").read_text().splitlines()
    assert history[0].startswith("step,train_loss,eval_loss") and len(history) == 4
    r = _run_cli(["generate", "--checkpoint", ckpt, "--prompt", "alice was", "--length", "30", "--temperature", "0.8",
                  "--top-k", "5", "--seed", "1", "--device", "cpu"], cwd=str(tmp_path), timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith('Prompt: "alice was"\n')
    generated = r.stdout[len('Prompt: "alice was"\n'):].rsplit("\nDone.", 1)[0]
    assert len(generated) == 30 and set(generated) <= set(char_to_int)


def test_gpt_cli_refuses_distributed(tmp_path):
    r = _run_cli(["train", "--model", "gpt", "--distributed", "--steps", "1"], cwd=str(tmp_path), timeout=60)
    assert r.returncode != 0 and "--distributed trains --model charrnn" in r.stderr


@pytest.mark.skipif(not minitorch.cuda.is_available(), reason="no CUDA device")
def test_gpt_on_cuda_matches_the_cpu(tg):
    minitorch.manual_seed(0)
    model = tg.GPT(tg.GPTConfig(vocab_size=29, **TINY))
    idx = minitorch.tensor(np.random.default_rng(0).integers(0, 29, (2, 16)))
    logits, loss = model(idx, idx)
    loss.backward()
    grad = model.lm_head.weight.grad.clone()
    model.zero_grad()
    model.to("cuda")
    glogits, gloss = model(idx.to("cuda"), idx.to("cuda"))
    gloss.backward()
    np.testing.assert_allclose(glogits.cpu().detach().numpy(), logits.detach().numpy(), rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(model.lm_head.weight.grad.cpu().numpy(), grad.numpy(), rtol=1e-3, atol=1e-5)
    out = tg.generate_gpt(model, {chr(97 + i): i for i in range(26)} | {" ": 26, ".": 27, "\n": 28}, "abc", 10,
                          device="cuda")
    assert len(out) == 10
