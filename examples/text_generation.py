"""Character-level text generation on Alice's Adventures in Wonderland: two LSTMs and a GPT.

Three models:

  tutorial  the classic "Text Generation with LSTM in PyTorch" recipe: the lower-cased text, windows of 100
            characters scaled to [0, 1] as a (N, 100, 1) float tensor predicting the next character, LSTM(1, 256)
            (--layers 2 for the deeper variant), dropout 0.2, a linear layer to the vocabulary,
            CrossEntropyLoss(reduction="sum"), Adam, batches of 128 shuffled; after every epoch the loss over all
            windows, keeping the best weights. Generation takes a random (or --prompt) 100-character window and
            writes 1000 characters by argmax.
  charrnn   an embedding, a stacked LSTM (batch_first) predicting the next character at every position,
            a held-out 10% validation split, gradient clipping, and sampling with --temperature.
  gpt       Karpathy's nanoGPT (model.py, train.py; its shakespeare_char config, "Let's build GPT") at character
            level: token + position embeddings, --n-layer pre-LayerNorm blocks of causal self-attention
            (F.scaled_dot_product_attention) and a GELU MLP, a final LayerNorm, the lm head tied to the token
            embedding (--untied: its own); AdamW with weight decay on the 2-D weights only, warmup then a cosine
            learning rate, gradient clipping, --steps random batches of --block-size windows of the first 90% of
            the text; the losses estimated every --eval-interval steps, keeping the weights with the best
            validation loss. Generation samples with --temperature and --top-k from the last block_size
            characters.

  python3 examples/text_generation.py train --model tutorial --epochs 1 --checkpoint single-char.pth
  python3 examples/text_generation.py generate --checkpoint single-char.pth
  python3 examples/text_generation.py train --model charrnn --epochs 5 --checkpoint charrnn.pth
  python3 examples/text_generation.py generate --checkpoint charrnn.pth --temperature 0.8 --prompt "alice was"
  python3 examples/text_generation.py train --model gpt --steps 2000 --checkpoint gpt.pth
  python3 examples/text_generation.py generate --checkpoint gpt.pth --temperature 0.8 --top-k 10 --prompt "alice was"

The corpus is --data PATH, else $MINITORCH_DATA, else a cached copy of Project Gutenberg eBook #11 downloaded on
first use to $MINITORCH_CACHE (default ~/.cache/minitorch)/wonderland.txt with the Gutenberg header and licence
removed ($MINITORCH_OFFLINE=1 forbids the download). A checkpoint is [state_dict, char_to_int] written by
minitorch.save (the GPT's: [state_dict, char_to_int, model_args], model_args its GPTConfig's fields as a dict, as
the head count is in no shape); `generate` infers the model (and its sizes) from them.

The model code is plain PyTorch: with `import torch` for `import minitorch as torch` it runs on PyTorch
(tests/test_gpt_example.py runs the GPT on both from the same weights).
"""
import argparse
import csv
import math
import os
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np

import minitorch as torch
import minitorch.distributed as dist
import minitorch.nn as nn
import minitorch.nn.functional as F
import minitorch.optim as optim
from minitorch.utils import data

GUTENBERG_URL = "https://www.gutenberg.org/cache/epub/11/pg11.txt"
SEQ_LENGTH = 100
GPT_STEPS = 2000
EXIT_NO_CORPUS = 2


# ----------------------------------------------------------------------------------------------------------- corpus
class CorpusError(Exception):
    pass


def cache_dir():
    return os.environ.get("MINITORCH_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "minitorch")


def strip_gutenberg(text):
    """The book without Project Gutenberg's header (up to the "*** START OF ..." line) and licence (from "*** END")."""
    lines = text.splitlines(keepends=True)
    start, end = 0, len(lines)
    for i, line in enumerate(lines):
        u = line.upper()
        if start == 0 and u.startswith("*** START OF") and "PROJECT GUTENBERG" in u:
            start = i + 1
        elif u.startswith("*** END OF") and "PROJECT GUTENBERG" in u:
            end = i
            break
    return "".join(lines[start:end]).strip("\n\r\ufeff") + "\n"


def _no_corpus_message(path, why):
    return (f"error: no text corpus ({why}).\n"
            f"Pass --data PATH, set MINITORCH_DATA=PATH, or save Project Gutenberg eBook #11 "
            f"(Alice's Adventures in Wonderland, plain text UTF-8: https://www.gutenberg.org/ebooks/11.txt.utf-8)\n"
            f"to {path} - the Gutenberg header and licence are removed when it is downloaded here on first use\n"
            f"(this needs network access; MINITORCH_OFFLINE=1 disables it).")


def download_corpus(path):
    import urllib.request
    req = urllib.request.Request(GUTENBERG_URL, headers={"User-Agent": "minitorch-text-generation"})
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read().decode("utf-8-sig")
    text = strip_gutenberg(raw)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".part"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path


def corpus_path(data_arg=None):
    """--data, else $MINITORCH_DATA, else the cached download (fetched now when missing). CorpusError when none."""
    for p in (data_arg, os.environ.get("MINITORCH_DATA")):
        if p:
            if not os.path.isfile(p):
                raise CorpusError(f"error: corpus file not found: {p}")
            return p
    path = os.path.join(cache_dir(), "wonderland.txt")
    if os.path.isfile(path):
        return path
    if os.environ.get("MINITORCH_OFFLINE", "") not in ("", "0"):
        raise CorpusError(_no_corpus_message(path, "MINITORCH_OFFLINE is set and no cached copy exists"))
    print(f"downloading Project Gutenberg eBook #11 to {path} ...", file=sys.stderr)
    try:
        return download_corpus(path)
    except Exception as e:  # offline, DNS failure, HTTP error, read-only cache, ...
        raise CorpusError(_no_corpus_message(path, f"download failed: {e}")) from None


def load_text(data_arg=None, lower=True):
    with open(corpus_path(data_arg), encoding="utf-8") as f:
        text = f.read()
    return text.lower() if lower else text


def build_vocab(text):
    chars = sorted(set(text))
    return {c: i for i, c in enumerate(chars)}


def encode(text, char_to_int):
    return np.array([char_to_int[c] for c in text], dtype=np.int64)


# ---------------------------------------------------------------------------------------------------------- models
class CharModel(nn.Module):
    """The tutorial model: LSTM over a scaled character window, the last output to the vocabulary."""

    def __init__(self, n_vocab, hidden=256, layers=1, dropout=0.2):
        super().__init__()
        self.lstm = nn.LSTM(input_size=1, hidden_size=hidden, num_layers=layers, batch_first=True,
                            dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, n_vocab)

    def forward(self, x):
        x, _ = self.lstm(x)
        x = x[:, -1, :]  # only the last output
        return self.linear(self.dropout(x))


class CharRNN(nn.Module):
    """Embedding -> stacked LSTM -> dropout -> linear, a prediction at every position."""

    def __init__(self, n_vocab, hidden=256, layers=2, embed=64, dropout=0.2):
        super().__init__()
        self.embedding = nn.Embedding(n_vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, batch_first=True, dropout=dropout if layers > 1 else 0.0)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden, n_vocab)

    def forward(self, x, state=None):
        out, state = self.lstm(self.embedding(x), state)
        return self.linear(self.dropout(out)), state


# The GPT: nanoGPT's model.py (Karpathy), character-level as its shakespeare_char config and "Let's build GPT".
@dataclass
class GPTConfig:
    block_size: int = 64
    vocab_size: int = 65
    n_layer: int = 4
    n_head: int = 4
    n_embd: int = 128
    dropout: float = 0.0
    bias: bool = False  # biases in the Linears and LayerNorms (nanoGPT's train.py default: none)
    tie: bool = True    # the lm head shares the token embedding's weight


class CausalSelfAttention(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert config.n_embd % config.n_head == 0
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)  # q, k, v for all heads
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.n_head, self.n_embd, self.dropout = config.n_head, config.n_embd, config.dropout

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)  # (B, nh, T, hs)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, dropout_p=self.dropout if self.training else 0,
                                           is_causal=True)
        y = y.transpose(1, 2).contiguous().view(B, T, C)  # the heads side by side again
        return self.resid_dropout(self.c_proj(y))


class MLP(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-LayerNorm: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd),
            wpe=nn.Embedding(config.block_size, config.n_embd),
            drop=nn.Dropout(config.dropout),
            h=nn.ModuleList([Block(config) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, bias=config.bias),
        ))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie:
            self.transformer.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2's scaled init of the residual projections: each block adds two to the residual stream
        for pn, p in self.named_parameters():
            if pn.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def forward(self, idx, targets=None):
        """logits (B, T, vocab) and the mean cross-entropy with targets (B, T); without targets the logits of the
        last position only, (B, 1, vocab), and None."""
        b, t = idx.size()
        assert t <= self.config.block_size, f"Cannot forward sequence of length {t}, block size is only " \
                                            f"{self.config.block_size}"
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.drop(self.transformer.wte(idx) + self.transformer.wpe(pos))
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        if targets is not None:
            logits = self.lm_head(x)
            loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1), ignore_index=-1)
        else:
            logits, loss = self.lm_head(x[:, [-1], :]), None  # generation needs only the last position
        return logits, loss

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        """AdamW; weight decay on the matrices and embeddings (2-D), none on biases and LayerNorm gains."""
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)

    @torch.no_grad()
    def generate(self, idx, max_new_tokens, temperature=1.0, top_k=None):
        """Append max_new_tokens sampled tokens to idx (B, T), each from the last block_size tokens."""
        for _ in range(max_new_tokens):
            idx_cond = idx if idx.size(1) <= self.config.block_size else idx[:, -self.config.block_size:]
            logits, _ = self(idx_cond)
            idx = torch.cat((idx, sample_next(logits[:, -1, :], temperature, top_k)), dim=1)
        return idx


def sample_next(logits, temperature=1.0, top_k=None):
    """(B, vocab) logits -> (B, 1) indices drawn from softmax(logits / temperature) restricted to the top_k
    largest (temperature 0: the argmax)."""
    if temperature <= 0:
        return logits.argmax(dim=-1, keepdim=True)
    logits = logits / temperature
    if top_k is not None:
        v, _ = torch.topk(logits, min(top_k, logits.size(-1)))
        logits[logits < v[:, [-1]]] = -float("Inf")
    return torch.multinomial(F.softmax(logits, dim=-1), num_samples=1)


def model_from_state_dict(state_dict, n_vocab, model_args=None):
    """Rebuild the model a checkpoint was trained with from its parameter names and shapes (and, for the GPT,
    its model_args: the GPTConfig's fields, as the head count is not in any shape)."""
    if model_args is not None:
        model = GPT(GPTConfig(**model_args))
        model.load_state_dict(state_dict)
        return model
    if "lm_head.weight" in state_dict:
        raise SystemExit("error: a GPT checkpoint is [state_dict, char_to_int, model_args]: this one has no model_args")
    layers = sum(1 for k in state_dict if k.startswith("lstm.weight_ih_l") and not k.endswith("_reverse"))
    hidden = state_dict["lstm.weight_hh_l0"].shape[1]
    if "embedding.weight" in state_dict:
        model = CharRNN(n_vocab, hidden, layers, embed=state_dict["embedding.weight"].shape[1])
    else:
        model = CharModel(n_vocab, hidden, layers)
    model.load_state_dict(state_dict)
    return model


# -------------------------------------------------------------------------------------------------- progress, logs
def _fmt_time(s):
    if not math.isfinite(s):
        return "--:--"
    s = int(s)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class Progress:
    """tqdm when it is installed, else a one-line bar on stderr: batches done/total, loss, batches/s, time left."""

    def __init__(self, total, desc="", enabled=True, stream=None):
        self.total, self.desc, self.enabled = total, desc, enabled
        self.stream = stream or sys.stderr
        self.n, self.loss, self.t0, self.last = 0, float("nan"), time.perf_counter(), 0.0
        self._tqdm = None
        if enabled:
            try:
                from tqdm import tqdm
                self._tqdm = tqdm(total=total, desc=desc, unit="batch", leave=True, file=self.stream)
            except ImportError:
                pass

    def update(self, loss):
        self.n += 1
        self.loss = loss
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.set_postfix(loss=f"{loss:.4f}", refresh=False)
            self._tqdm.update(1)
            return
        now = time.perf_counter()
        if now - self.last >= 0.2:
            self.last = now
            self._draw(now)

    def _draw(self, now):
        el = now - self.t0
        rate = self.n / el if el > 0 else float("nan")
        left = (self.total - self.n) / rate if rate and rate > 0 else float("nan")
        width = 24
        fill = int(width * self.n / self.total) if self.total else width
        bar = "#" * fill + "." * (width - fill)
        self.stream.write(f"\r{self.desc} [{bar}] {self.n}/{self.total} loss {self.loss:.4f} "
                          f"{rate:.2f} batch/s elapsed {_fmt_time(el)} left {_fmt_time(left)} ")
        self.stream.flush()

    def interrupt(self):
        """Before a log line mid-run: end the one-line bar's line (it goes on on the next one)."""
        if self.enabled and self._tqdm is None and self.n:
            self.stream.write("\n")

    def close(self):
        if not self.enabled:
            return
        if self._tqdm is not None:
            self._tqdm.close()
        else:
            self._draw(time.perf_counter())
            self.stream.write("\n")
            self.stream.flush()


def write_history(history, path):
    if not history or not path:
        return
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(history[0]))
        w.writeheader()
        w.writerows(history)


def plot_history(history, path, ylabel):
    """A PNG of the per-epoch (GPT: per-evaluation) losses when matplotlib is installed; returns the path or None."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    x = "step" if "step" in history[0] else "epoch"
    xs = [h[x] for h in history]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, [h["train_loss"] for h in history], "o-", label="train (mean per char)")
    ax.plot(xs, [h["eval_loss"] for h in history], "s-", label=ylabel)
    ax.set_xlabel(x)
    ax.set_ylabel("cross-entropy (nats per char)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def _side_paths(args):
    stem = os.path.splitext(args.checkpoint)[0]
    return (args.history or stem + "_history.csv"), stem + "_loss.png"


def resolve_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: --device cuda but CUDA is not available (minitorch.cuda.is_available() is False)")
    return name


def _clone_state(model):
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def unigram_entropy(ids, n_vocab):
    """Entropy (nats) of the characters' frequencies: the loss of a model that ignores context."""
    p = np.bincount(ids, minlength=n_vocab) / len(ids)
    p = p[p > 0]
    return float(-(p * np.log(p)).sum())


# ------------------------------------------------------------------------------------------------- tutorial model
def tutorial_dataset(text, char_to_int, seq_length=SEQ_LENGTH):
    """X: (N, seq_length, 1) float32 in [0, 1] (char index / vocabulary size), y: (N,) the next char's index."""
    ids = encode(text, char_to_int)
    n = len(ids) - seq_length
    if n <= 0:
        raise SystemExit(f"error: the text has {len(ids)} characters, fewer than a window of {seq_length} + 1")
    windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], seq_length)[:n]
    X = torch.from_numpy(np.ascontiguousarray(windows, dtype=np.float32).reshape(n, seq_length, 1) / np.float32(len(char_to_int)))
    y = torch.from_numpy(ids[seq_length:].copy())
    return X, y


def train_tutorial(text, epochs=1, hidden=256, layers=1, batch_size=128, seq_length=SEQ_LENGTH, lr=1e-3,
                   dropout=0.2, device="cpu", max_batches=None, time_limit=None, progress=True, log=print):
    char_to_int = build_vocab(text)
    n_vocab = len(char_to_int)
    X, y = tutorial_dataset(text, char_to_int, seq_length)
    log(f"Total characters: {len(text)}, vocabulary: {n_vocab}, windows: {len(X)}")
    model = CharModel(n_vocab, hidden, layers, dropout).to(device)
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    loader = data.DataLoader(data.TensorDataset(X, y), shuffle=True, batch_size=batch_size)
    eval_loader = data.DataLoader(data.TensorDataset(X, y), shuffle=False, batch_size=max(batch_size, 1024))
    best_model, best_loss, history = None, math.inf, []
    deadline = None if time_limit is None else time.perf_counter() + time_limit
    for epoch in range(epochs):
        model.train()
        n_batches = len(loader) if max_batches is None else min(len(loader), max_batches)
        bar = Progress(n_batches, f"epoch {epoch + 1}/{epochs}", progress)
        t0 = time.perf_counter()
        total, seen, nb = 0.0, 0, 0
        for X_batch, y_batch in loader:
            if nb >= n_batches or (deadline is not None and time.perf_counter() > deadline):
                break
            X_batch, y_batch = X_batch.to(device), y_batch.to(device)
            y_pred = model(X_batch)
            loss = loss_fn(y_pred, y_batch)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            lv = loss.item()
            total, seen, nb = total + lv, seen + len(y_batch), nb + 1
            bar.update(lv / len(y_batch))
        bar.close()
        train_time = time.perf_counter() - t0
        # the loss over all windows (over the first max_batches eval batches when --max-batches limits the run)
        model.eval()
        eval_sum, eval_n = 0.0, 0
        n_eval = len(eval_loader) if max_batches is None else min(len(eval_loader), max_batches)
        with torch.no_grad():
            for i, (X_batch, y_batch) in enumerate(eval_loader):
                if i >= n_eval:
                    break
                eval_sum += loss_fn(model(X_batch.to(device)), y_batch.to(device)).item()
                eval_n += len(y_batch)
        if eval_sum < best_loss:
            best_loss, best_model = eval_sum, _clone_state(model)
        row = {"epoch": epoch + 1, "batches": nb, "train_loss": total / max(seen, 1), "eval_loss": eval_sum / eval_n,
               "eval_loss_sum": eval_sum, "train_seconds": round(train_time, 3),
               "seconds": round(time.perf_counter() - t0, 3)}
        history.append(row)
        log(f"Epoch {epoch}: Cross-entropy: {eval_sum:.4f} ({row['eval_loss']:.4f} per char; train "
            f"{row['train_loss']:.4f}; {nb} batches in {train_time:.1f} s, {train_time / max(nb, 1) * 1000:.0f} ms/batch)")
        if deadline is not None and time.perf_counter() > deadline:
            break
    return model, best_model, char_to_int, history


def generate_tutorial(model, char_to_int, prompt, length=1000, device="cpu", seq_length=SEQ_LENGTH, out=None):
    """Slide a seq_length window over the text, appending the argmax character each step."""
    n_vocab = len(char_to_int)
    int_to_char = {i: c for c, i in char_to_int.items()}
    prompt = prompt.lower()
    unknown = sorted({c for c in prompt if c not in char_to_int})
    if unknown:
        raise SystemExit(f"error: the prompt has characters outside the model's vocabulary: {unknown!r}")
    pattern = [char_to_int[c] for c in prompt][-seq_length:]
    model.eval()
    result = []
    with torch.no_grad():
        for _ in range(length):
            x = torch.tensor(np.array(pattern, dtype=np.float32).reshape(1, len(pattern), 1) / np.float32(n_vocab),
                             device=device)
            index = int(model(x).argmax())
            result.append(int_to_char[index])
            if out is not None:
                out.write(int_to_char[index])
                out.flush()
            pattern.append(index)
            pattern = pattern[1:] if len(pattern) > seq_length else pattern
    return "".join(result)


# --------------------------------------------------------------------------------------------------- charrnn model
def split_ids(ids, val_fraction=0.1):
    n_val = max(int(len(ids) * val_fraction), 2)
    return ids[:-n_val], ids[-n_val:]


def _chunks(ids, seq_len, offset=0):
    """Non-overlapping (input, target) windows: (n, seq_len) int64 each."""
    n = (len(ids) - 1 - offset) // seq_len
    a = ids[offset:offset + n * seq_len + 1]
    return a[:-1].reshape(n, seq_len), a[1:].reshape(n, seq_len)


def evaluate_charrnn(model, ids, seq_len=100, batch_size=256, device="cpu"):
    """Mean cross-entropy per character (nats) over ids cut into windows of seq_len (eval mode)."""
    x, t = _chunks(ids, min(seq_len, len(ids) - 1))
    loss_fn = nn.CrossEntropyLoss(reduction="sum")
    was_training = model.training
    model.eval()
    total = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch_size):
            xb = torch.from_numpy(x[i:i + batch_size]).to(device)
            tb = torch.from_numpy(t[i:i + batch_size]).to(device)
            logits, _ = model(xb)
            total += loss_fn(logits.reshape(-1, logits.shape[-1]), tb.reshape(-1)).item()
    model.train(was_training)
    return total / x.size


def train_charrnn(text, epochs=1, hidden=256, layers=2, embed=64, batch_size=64, seq_len=100, lr=2e-3, dropout=0.2,
                  clip=5.0, device="cpu", max_batches=None, time_limit=None, stop_below=None, progress=True,
                  log=print, char_to_int=None, distributed=False):
    """Train on the first 90% of the text, validate on the last 10% after every epoch (a pass over the training
    text in shuffled non-overlapping windows). Stops after `epochs`, `time_limit` seconds, or once the validation
    loss is below `stop_below`. Returns model, best state_dict, char_to_int, history (one dict per epoch).

    distributed: this process is one rank of an initialised process group; the model is wrapped in
    DistributedDataParallel and each rank takes its share (every world_size-th window) of every batch of
    batch_size windows, so the updates are those of one process on the whole batch. Rank 0 logs."""
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    if rank != 0:
        log, progress = (lambda *a, **k: None), False
    char_to_int = char_to_int or build_vocab(text)
    n_vocab = len(char_to_int)
    ids = encode(text, char_to_int)
    train_ids, val_ids = split_ids(ids)
    log(f"Total characters: {len(text)} (train {len(train_ids)}, validation {len(val_ids)}), vocabulary: {n_vocab}, "
        f"unigram entropy {unigram_entropy(train_ids, n_vocab):.4f} nats")
    model = CharRNN(n_vocab, hidden, layers, embed, dropout).to(device)
    seed = [int(torch.randint(0, 2 ** 31 - 1, (1,)).item())]  # follows --seed
    if distributed:
        model = nn.parallel.DistributedDataParallel(model)  # rank 0's initial weights everywhere
        dist.broadcast_object_list(seed, src=0)              # and one window order
    optimizer = optim.Adam(model.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed[0])
    best_model, best_loss, history = None, math.inf, []
    t_start = time.perf_counter()
    deadline = None if time_limit is None else t_start + time_limit
    stop = False
    for epoch in range(epochs):
        x, t = _chunks(train_ids, seq_len, offset=int(rng.integers(0, seq_len)))
        order = rng.permutation(len(x))
        n_batches = math.ceil(len(x) / batch_size) if world == 1 else len(x) // batch_size  # every rank a share
        if max_batches is not None:
            n_batches = min(n_batches, max_batches)
        bar = Progress(n_batches, f"epoch {epoch + 1}/{epochs}", progress)
        model.train()
        t0 = time.perf_counter()
        total, nb = 0.0, 0
        for b in range(n_batches):
            over = deadline is not None and time.perf_counter() > deadline
            if distributed and deadline is not None:
                over = _any_rank(over)  # all ranks stop at the same batch (DDP's collectives must match)
            if over:
                stop = True
                break
            sel = order[b * batch_size:(b + 1) * batch_size][rank::world]
            xb = torch.from_numpy(x[sel]).to(device)
            tb = torch.from_numpy(t[sel]).to(device)
            logits, _ = model(xb)
            loss = loss_fn(logits.reshape(-1, n_vocab), tb.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), clip)
            optimizer.step()
            if distributed:  # the logged loss is the whole batch's
                loss = loss.detach().clone()
                dist.all_reduce(loss, op=dist.ReduceOp.AVG)
            lv = loss.item()
            total, nb = total + lv, nb + 1
            bar.update(lv)
        bar.close()
        train_time = time.perf_counter() - t0
        plain = model.module if distributed else model  # (every rank evaluates the same weights)
        val = evaluate_charrnn(plain, val_ids, seq_len, device=device)
        if val < best_loss:
            best_loss, best_model = val, _clone_state(plain)
        row = {"epoch": epoch + 1, "batches": nb, "train_loss": total / max(nb, 1), "eval_loss": val,
               "train_seconds": round(train_time, 3), "seconds": round(time.perf_counter() - t0, 3)}
        history.append(row)
        log(f"Epoch {epoch}: train loss {row['train_loss']:.4f}, validation loss {val:.4f} nats/char "
            f"({nb} batches in {train_time:.1f} s, {train_time / max(nb, 1) * 1000:.0f} ms/batch)")
        if stop or (stop_below is not None and val < stop_below):
            break
    return (model.module if distributed else model), best_model, char_to_int, history


def _any_rank(flag):
    t = torch.tensor([1.0 if flag else 0.0])
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return t.item() > 0


def generate_charrnn(model, char_to_int, prompt, length=1000, temperature=1.0, device="cpu", out=None):
    """Run the prompt through the LSTM, then sample one character at a time from softmax(logits / temperature)
    (temperature 0: argmax), carrying the hidden state."""
    int_to_char = {i: c for c, i in char_to_int.items()}
    model.eval()
    result = []
    with torch.no_grad():
        x = torch.tensor([prompt_ids(prompt, char_to_int)], device=device)
        state = None
        for _ in range(length):
            logits, state = model(x, state)
            index = int(sample_next(logits[:, -1], temperature).item())
            c = int_to_char[index]
            result.append(c)
            if out is not None:
                out.write(c)
                out.flush()
            x = torch.tensor([[index]], device=device)
    return "".join(result)


def prompt_ids(prompt, char_to_int):
    """The prompt's characters in the vocabulary (lower-cased first when the vocabulary has no capitals); a space
    (else a newline) when none is."""
    if not any(c.isupper() for c in char_to_int):
        prompt = prompt.lower()
    ids = [char_to_int[c] for c in prompt if c in char_to_int]
    return ids or [char_to_int.get(" ", char_to_int.get("\n", 0))]


# ------------------------------------------------------------------------------------------------------- gpt model
def get_batch(ids, block_size, batch_size, rng, device="cpu"):
    """batch_size random windows of block_size characters and the same windows one character on: (B, T) each."""
    ix = rng.integers(0, len(ids) - block_size, batch_size)[:, None] + np.arange(block_size)
    return torch.from_numpy(ids[ix]).to(device), torch.from_numpy(ids[ix + 1]).to(device)


def gpt_lr(it, lr, min_lr, warmup, decay_steps):
    """nanoGPT's schedule: linear warmup over `warmup` steps, then a cosine down to min_lr at decay_steps."""
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_steps:
        return min_lr
    ratio = (it - warmup) / max(decay_steps - warmup, 1)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


@torch.no_grad()
def estimate_loss(model, splits, block_size, batch_size, eval_iters, rng, device="cpu"):
    """The mean loss over eval_iters random batches of each split (eval mode: no dropout)."""
    was_training = model.training
    model.eval()
    out = {}
    for name, ids in splits.items():
        out[name] = sum(model(*get_batch(ids, block_size, batch_size, rng, device))[1].item()
                        for _ in range(eval_iters)) / eval_iters
    model.train(was_training)
    return out


def train_gpt(text, steps=2000, n_layer=4, n_head=4, n_embd=128, block_size=64, batch_size=32, dropout=0.0,
              bias=False, tie=True, lr=1e-3, min_lr=1e-4, warmup=100, weight_decay=0.1, betas=(0.9, 0.99), clip=1.0,
              eval_interval=250, eval_iters=20, device="cpu", time_limit=None, progress=True, log=print,
              char_to_int=None):
    """nanoGPT's train.py on the first 90% of the text: `steps` AdamW steps on random batches of block_size windows,
    the learning rate warmed up then cosine-decayed to min_lr, gradients clipped to `clip`; the train and
    validation losses estimated at step 0, every eval_interval steps and at the end, the weights with the best
    validation loss kept. Stops early after time_limit seconds. Returns model, best state_dict, char_to_int,
    history (one dict per evaluation); the model's GPTConfig is model.config."""
    char_to_int = char_to_int or build_vocab(text)
    n_vocab = len(char_to_int)
    ids = encode(text, char_to_int)
    train_ids, val_ids = split_ids(ids)
    if len(val_ids) <= block_size:
        raise SystemExit(f"error: the validation split has {len(val_ids)} characters, not more than the block size "
                         f"{block_size}: use a longer text or a smaller --block-size")
    log(f"Total characters: {len(text)} (train {len(train_ids)}, validation {len(val_ids)}), vocabulary: {n_vocab}, "
        f"unigram entropy {unigram_entropy(train_ids, n_vocab):.4f} nats")
    config = GPTConfig(block_size=block_size, vocab_size=n_vocab, n_layer=n_layer, n_head=n_head, n_embd=n_embd,
                       dropout=dropout, bias=bias, tie=tie)
    model = GPT(config).to(device)
    log(f"GPT {n_layer} layers, {n_head} heads, {n_embd} wide, block {block_size}: "
        f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    optimizer = model.configure_optimizers(weight_decay, lr, betas)
    rng = np.random.default_rng(int(torch.randint(0, 2 ** 31 - 1, (1,)).item()))  # follows --seed
    splits = {"train": train_ids, "val": val_ids}
    best_model, best_loss, history = None, math.inf, []
    t0 = time.perf_counter()
    deadline = None if time_limit is None else t0 + time_limit
    bar = Progress(steps, "gpt", progress)

    def set_lr(step):
        for group in optimizer.param_groups:
            group["lr"] = gpt_lr(step, lr, min_lr, warmup, steps)

    def evaluate(step):
        nonlocal best_model, best_loss
        losses = estimate_loss(model, splits, block_size, batch_size, eval_iters, rng, device)
        if losses["val"] < best_loss:
            best_loss, best_model = losses["val"], _clone_state(model)
        history.append({"step": step, "train_loss": losses["train"], "eval_loss": losses["val"],
                        "lr": optimizer.param_groups[0]["lr"], "seconds": round(time.perf_counter() - t0, 3)})
        bar.interrupt()
        log(f"step {step}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}")

    set_lr(0)  # (the history's lr is the last step's; at step 0 the first one's)
    evaluate(0)
    model.train()
    step = 0
    while step < steps and not (deadline is not None and time.perf_counter() > deadline):
        set_lr(step)
        x, y = get_batch(train_ids, block_size, batch_size, rng, device)
        _, loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if clip:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        step += 1
        bar.update(loss.item())
        if step % eval_interval == 0 and step < steps:
            evaluate(step)
    bar.close()
    train_time = time.perf_counter() - t0
    evaluate(step)
    log(f"{step} steps in {train_time:.1f} s ({train_time / max(step, 1) * 1000:.0f} ms/step with the evaluations)")
    return model, best_model, char_to_int, history


def generate_gpt(model, char_to_int, prompt, length=1000, temperature=1.0, top_k=None, device="cpu", out=None):
    """Sample `length` characters after the prompt (GPT.generate one token at a time, to write each as it comes)."""
    int_to_char = {i: c for c, i in char_to_int.items()}
    model.eval()
    idx = torch.tensor([prompt_ids(prompt, char_to_int)], device=device)
    result = []
    for _ in range(length):
        idx = model.generate(idx, 1, temperature, top_k)[:, -model.config.block_size:]
        c = int_to_char[int(idx[0, -1].item())]
        result.append(c)
        if out is not None:
            out.write(c)
            out.flush()
    return "".join(result)


# ------------------------------------------------------------------------------------------------------------- CLI
def build_parser():
    p = argparse.ArgumentParser(description="Character-level text generation (Alice in Wonderland): LSTMs, a GPT.")
    sub = p.add_subparsers(dest="command", required=True)

    def common(sp):
        sp.add_argument("--data", help="text file (default: $MINITORCH_DATA, else the cached Gutenberg #11)")
        sp.add_argument("--device", choices=["cpu", "cuda", "auto"], default="auto")
        sp.add_argument("--seed", type=int, default=None, help="minitorch.manual_seed (and NumPy's) for repeatable runs")
        sp.add_argument("--checkpoint", default=None, help="[state_dict, char_to_int] file (default: <model>.pth)")

    t = sub.add_parser("train", help="train a model and save the checkpoint")
    common(t)
    t.add_argument("--model", choices=["tutorial", "charrnn", "gpt"], default="tutorial")
    t.add_argument("--epochs", type=int, default=None, help="default: 20 (tutorial), 10 (charrnn)")
    t.add_argument("--steps", type=int, default=GPT_STEPS, help=f"gpt training steps ({GPT_STEPS})")
    t.add_argument("--max-batches", type=int, default=None, help="tutorial, charrnn: stop each epoch after N batches")
    t.add_argument("--time-limit", type=float, default=None, help="stop training after this many seconds")
    t.add_argument("--layers", type=int, default=None, help="LSTM layers (tutorial 1, charrnn 2)")
    t.add_argument("--hidden", type=int, default=256)
    t.add_argument("--embed", type=int, default=64, help="charrnn embedding size")
    t.add_argument("--batch-size", type=int, default=None, help="default: 128 (tutorial), 64 (charrnn), 32 (gpt)")
    t.add_argument("--seq-len", type=int, default=SEQ_LENGTH, help="window length (100)")
    t.add_argument("--lr", type=float, default=None,
                   help="Adam(W) learning rate (tutorial 1e-3, charrnn 2e-3, gpt 1e-3: its peak)")
    t.add_argument("--dropout", type=float, default=None, help="default: 0.2 (tutorial, charrnn), 0 (gpt)")
    t.add_argument("--clip", type=float, default=None, help="gradient-norm clipping (charrnn 5, gpt 1; 0: none)")
    t.add_argument("--max-chars", type=int, default=None, help="use only the first N characters of the text")
    t.add_argument("--keep-case", action="store_true", help="charrnn, gpt: do not lower-case the text")
    t.add_argument("--n-layer", type=int, default=4, help="gpt blocks (4)")
    t.add_argument("--n-head", type=int, default=4, help="gpt attention heads (4)")
    t.add_argument("--n-embd", type=int, default=128, help="gpt width (128)")
    t.add_argument("--block-size", type=int, default=64, help="gpt context length (64)")
    t.add_argument("--bias", action="store_true", help="gpt: biases in the Linears and LayerNorms")
    t.add_argument("--untied", action="store_true", help="gpt: an lm head of its own, not the token embedding")
    t.add_argument("--min-lr", type=float, default=1e-4, help="gpt: the cosine schedule's final learning rate")
    t.add_argument("--warmup", type=int, default=100, help="gpt: linear learning-rate warmup steps (100)")
    t.add_argument("--weight-decay", type=float, default=0.1, help="gpt: AdamW weight decay of the 2-D weights")
    t.add_argument("--eval-interval", type=int, default=250, help="gpt: estimate the losses every N steps")
    t.add_argument("--eval-iters", type=int, default=20, help="gpt: batches per loss estimate")
    t.add_argument("--history", default=None, help="CSV of the per-epoch losses (default: <checkpoint>_history.csv)")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")
    t.add_argument("--distributed", action="store_true",
                   help="charrnn: one rank of a process group (start with python -m minitorch.distributed.run "
                        "--nproc_per_node N, or mpiexec -n N); DDP over the ranks, rank 0 logs and saves")

    g = sub.add_parser("generate", help="write text with a trained checkpoint")
    common(g)
    g.add_argument("--prompt", default=None, help="start text (default: a random window of the corpus)")
    g.add_argument("--length", type=int, default=1000, help="characters to write (1000)")
    g.add_argument("--temperature", type=float, default=1.0, help="charrnn, gpt sampling temperature (0: argmax)")
    g.add_argument("--top-k", type=int, default=None, help="gpt: sample among the k likeliest characters only")
    g.add_argument("--seq-len", type=int, default=SEQ_LENGTH, help="tutorial window length (100)")
    return p


def _seed(seed):
    if seed is not None:
        torch.manual_seed(seed)
        np.random.seed(seed)


def cmd_train(args):
    device = resolve_device(args.device)
    _seed(args.seed)
    tutorial = args.model == "tutorial"
    if args.distributed:
        if args.model != "charrnn":
            raise SystemExit("error: --distributed trains --model charrnn")
        dist.init_process_group()
        try:
            return _cmd_train(args, device, tutorial)
        finally:
            dist.destroy_process_group()
    return _cmd_train(args, device, tutorial)


def _cmd_train(args, device, tutorial):
    main_rank = not args.distributed or dist.get_rank() == 0
    text = load_text(args.data, lower=tutorial or not args.keep_case)
    if args.max_chars:
        text = text[:args.max_chars]
    args.checkpoint = args.checkpoint or {"tutorial": "single-char.pth"}.get(args.model, args.model + ".pth")
    if main_rank:
        print(f"model {args.model} on {device}" + (f", rank 0 of {dist.get_world_size()}" if args.distributed else ""))
    t0 = time.perf_counter()
    if args.model == "gpt":
        model, best, char_to_int, history = train_gpt(
            text, steps=args.steps, n_layer=args.n_layer, n_head=args.n_head, n_embd=args.n_embd,
            block_size=args.block_size, batch_size=args.batch_size or 32,
            dropout=0.0 if args.dropout is None else args.dropout, bias=args.bias, tie=not args.untied,
            lr=args.lr or 1e-3, min_lr=args.min_lr, warmup=args.warmup, weight_decay=args.weight_decay,
            clip=1.0 if args.clip is None else args.clip, eval_interval=args.eval_interval,
            eval_iters=args.eval_iters, device=device, time_limit=args.time_limit, progress=not args.no_progress)
        # the head count is in no shape: the GPTConfig's fields go after [state_dict, char_to_int], as nanoGPT's
        # checkpoints keep model_args
        return _save(args, best, char_to_int, history, [asdict(model.config)], "validation", t0)
    common = dict(epochs=args.epochs or (20 if tutorial else 10), hidden=args.hidden,
                  dropout=0.2 if args.dropout is None else args.dropout, device=device, max_batches=args.max_batches,
                  time_limit=args.time_limit, progress=not args.no_progress)
    if tutorial:
        model, best, char_to_int, history = train_tutorial(
            text, layers=args.layers or 1, batch_size=args.batch_size or 128, seq_length=args.seq_len,
            lr=args.lr or 1e-3, **common)
    else:
        model, best, char_to_int, history = train_charrnn(
            text, layers=args.layers or 2, embed=args.embed, batch_size=args.batch_size or 64, seq_len=args.seq_len,
            lr=args.lr or 2e-3, clip=5.0 if args.clip is None else args.clip, distributed=args.distributed,
            **common)
    if not main_rank:
        return 0
    return _save(args, best, char_to_int, history, [], "loss over all windows" if tutorial else "validation", t0)


def _save(args, best, char_to_int, history, extra, eval_name, t0):
    torch.save([best, char_to_int] + extra, args.checkpoint)
    csv_path, png_path = _side_paths(args)
    write_history(history, csv_path)
    png = plot_history(history, png_path, eval_name)
    print(f"saved {args.checkpoint} (best {'loss' if eval_name.startswith('loss') else 'validation loss'} "
          f"{min(h['eval_loss'] for h in history):.4f} per char), history {csv_path}"
          + (f", plot {png}" if png else "") + f"; {time.perf_counter() - t0:.1f} s")
    return 0


def cmd_generate(args):
    device = resolve_device(args.device)
    _seed(args.seed)
    args.checkpoint = args.checkpoint or "single-char.pth"
    if not os.path.isfile(args.checkpoint):
        raise SystemExit(f"error: checkpoint not found: {args.checkpoint} (run the train command first)")
    state_dict, char_to_int, *model_args = torch.load(args.checkpoint)  # the GPT's: [.., .., GPTConfig fields]
    model = model_from_state_dict(state_dict, len(char_to_int), *model_args).to(device)
    tutorial = isinstance(model, CharModel)
    prompt = args.prompt
    if prompt is None:
        text = load_text(args.data, lower=tutorial or all(c.islower() or not c.isalpha() for c in char_to_int))
        n = args.seq_len if tutorial else 50
        if len(text) <= n:
            raise SystemExit(f"error: the corpus is shorter than a {n}-character prompt window")
        start = int(np.random.randint(0, len(text) - n))
        prompt = text[start:start + n]
    print(f'Prompt: "{prompt}"')
    t0 = time.perf_counter()
    if tutorial:
        generate_tutorial(model, char_to_int, prompt, args.length, device, args.seq_len, out=sys.stdout)
    elif isinstance(model, GPT):
        generate_gpt(model, char_to_int, prompt, args.length, args.temperature, args.top_k, device, out=sys.stdout)
    else:
        generate_charrnn(model, char_to_int, prompt, args.length, args.temperature, device, out=sys.stdout)
    dt = time.perf_counter() - t0
    print()
    print(f"Done. ({args.length} characters in {dt:.2f} s)")
    return 0


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return cmd_train(args) if args.command == "train" else cmd_generate(args)
    except CorpusError as e:
        print(str(e), file=sys.stderr)
        return EXIT_NO_CORPUS


if __name__ == "__main__":
    sys.exit(main())
