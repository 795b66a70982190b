"""nn.utils.rnn: PackedSequence, pack_padded_sequence, pad_packed_sequence, pad_sequence, pack_sequence,
unpad_sequence, unpack_sequence and invert_permutation, with PyTorch's signatures, layouts and errors.

Packing and unpacking are one index_select each (plus one cat for the padding row), so gradients flow
through them; the index arithmetic on the lengths runs in NumPy on the host (lengths and batch_sizes are
CPU int64 tensors, as in torch)."""
from collections import namedtuple

import numpy as np

from ..._C import TensorBase, cat, stack
from ..._creation import as_tensor, full, tensor
from ..._types import int64

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]

PackedSequence_ = namedtuple("PackedSequence_", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])


def bind(optional, fn):
    if optional is None:
        return None
    return fn(optional)


class PackedSequence(PackedSequence_):
    """Holds the data and the list of batch_sizes of a packed sequence: data (sum of lengths, *) with the
    sequences' steps interleaved time-major (step 0 of every sequence, then step 1 of those at least 2 long,
    ...), batch_sizes[t] the number of sequences longer than t, sorted_indices the permutation that sorted
    the batch by decreasing length (None if it was sorted) and unsorted_indices its inverse."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        return super().__new__(cls, *_packed_sequence_init_args(data, batch_sizes, sorted_indices, unsorted_indices))

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self

        def call_to(t):
            return t.to(data.device)
        return type(self)(data, self.batch_sizes, bind(self.sorted_indices, call_to),
                          bind(self.unsorted_indices, call_to))

    def cuda(self, *args, **kwargs):
        kwargs.setdefault("device", "cuda")
        return self.to(*args, **kwargs)

    def cpu(self, *args, **kwargs):
        kwargs.setdefault("device", "cpu")
        return self.to(*args, **kwargs)

    def double(self):
        from ..._types import float64
        return self.to(dtype=float64)

    def float(self):
        from ..._types import float32
        return self.to(dtype=float32)

    def long(self):
        return self.to(dtype=int64)

    def int(self):
        from ..._types import int32
        return self.to(dtype=int32)

    @property
    def is_cuda(self):
        return self.data.is_cuda

    def is_pinned(self):
        return False


def _packed_sequence_init_args(data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
    if unsorted_indices is None:
        unsorted_indices = invert_permutation(sorted_indices)
    if batch_sizes is not None:
        if batch_sizes.device.type != "cpu":
            raise ValueError(
                "batch_sizes should always be on CPU. "
                "Instances of PackedSequence should never be created manually. "
                "They should be instantiated by functions like pack_sequence "
                "and pack_padded_sequences in nn.utils.rnn. "
                "https://pytorch.org/docs/stable/nn.html#torch.nn.utils.rnn.pack_sequence")
        return data, batch_sizes, sorted_indices, unsorted_indices
    if not (isinstance(data, (list, tuple)) and len(data) == 2):
        raise AssertionError("Expected data to be a list or tuple of length 2")
    return data[0], data[1], sorted_indices, unsorted_indices


def invert_permutation(permutation):
    if permutation is None:
        return None
    p = permutation.detach().cpu().numpy().astype(np.int64)
    inv = np.empty_like(p)
    inv[p] = np.arange(p.size, dtype=np.int64)
    return tensor(inv, dtype=int64, device=permutation.device)


def _index(idx, device):
    return tensor(np.asarray(idx, dtype=np.int64), dtype=int64, device=device)


def _batch_sizes_np(lengths):
    """lengths sorted decreasing -> batch_sizes[t] = #{b: lengths[b] > t}"""
    T = int(lengths[0])
    return (lengths[None, :] > np.arange(T)[:, None]).sum(1).astype(np.int64)


def _lengths_np(batch_sizes):
    """batch_sizes -> lengths (sorted decreasing): lengths[b] = #{t: batch_sizes[t] > b}"""
    B = int(batch_sizes[0]) if batch_sizes.size else 0
    return (batch_sizes[None, :] > np.arange(B)[:, None]).sum(1).astype(np.int64)


def _pack_index(batch_sizes, B):
    """flat positions t * B + b of the packed rows, time-major"""
    return np.concatenate([t * B + np.arange(int(bs)) for t, bs in enumerate(batch_sizes)]) \
        if batch_sizes.size else np.zeros(0, np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Packs a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of the given lengths."""
    if isinstance(lengths, TensorBase):
        lengths_np = lengths.detach().cpu().numpy().astype(np.int64).reshape(-1)
    else:
        lengths_np = np.asarray(lengths, dtype=np.float64).astype(np.int64).reshape(-1)
    if enforce_sorted:
        sorted_indices = None
    else:
        order = np.argsort(-lengths_np, kind="stable")
        lengths_np = lengths_np[order]
        sorted_indices = _index(order, input.device)
        input = input.index_select(0 if batch_first else 1, sorted_indices)
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[0], input.shape[1]
    if lengths_np.size != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lengths_np.size} "
                           f"(batch_size={B})")
    if B == 0 or lengths_np[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' "
                           "that is <= 0")
    if np.any(lengths_np[1:] > lengths_np[:-1]):
        raise RuntimeError(
            "`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You can pass "
            "`enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep this requirement "
            "if you do not need ONNX exportability.")
    if lengths_np[0] > T:   # torch reads past the end of the input here; minitorch refuses
        raise RuntimeError(f"Expected the longest length ({int(lengths_np[0])}) to be at most the padded "
                           f"sequence length ({T})")
    bs = _batch_sizes_np(lengths_np)
    flat = input.reshape((T * B,) + tuple(input.shape[2:]))
    data = flat.index_select(0, _index(_pack_index(bs, B), input.device))
    return PackedSequence(data, tensor(bs, dtype=int64), sorted_indices, None)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """Inverse of pack_padded_sequence: returns (padded (T, B, *) or (B, T, *), lengths int64 tensor), in the
    batch order before packing."""
    bs = sequence.batch_sizes.detach().cpu().numpy().astype(np.int64)
    max_seq_length = bs.size
    if total_length is not None:
        if total_length < max_seq_length:
            raise ValueError("Expected total_length to be at least the length "
                             "of the longest sequence in input, but got "
                             f"total_length={total_length} and max sequence length being {max_seq_length}")
        max_seq_length = total_length
    data = sequence.data
    B = int(bs[0])
    N = data.shape[0]
    rest = tuple(data.shape[1:])
    offsets = np.concatenate([[0], np.cumsum(bs)])
    idx = np.full((max_seq_length, B), N, dtype=np.int64)
    for t, n in enumerate(bs):
        idx[t, :n] = offsets[t] + np.arange(int(n))
    padded = cat([data, full((1,) + rest, padding_value, dtype=data.dtype, device=data.device)], 0)
    padded = padded.index_select(0, _index(idx.reshape(-1), data.device)).reshape((max_seq_length, B) + rest)
    if batch_first:
        padded = padded.transpose(0, 1)
    lengths = _lengths_np(bs)
    unsorted_indices = sequence.unsorted_indices
    if unsorted_indices is not None:
        perm = unsorted_indices.detach().cpu().numpy().astype(np.int64)
        return padded.index_select(0 if batch_first else 1, unsorted_indices), tensor(lengths[perm], dtype=int64)
    return padded, tensor(lengths, dtype=int64)


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stacks sequences (L_i, *) into (T, B, *) (or (B, T, *)), padding each with padding_value to the
    longest, on the right or on the left."""
    if isinstance(sequences, TensorBase):
        sequences = sequences.unbind(0)
    try:
        sequences = tuple(sequences)
    except TypeError:
        raise RuntimeError("pad_sequence: Expected iterable for input sequences, but got arg of type: "
                           f"{type(sequences)}") from None
    if len(sequences) == 0:
        raise RuntimeError("received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    max_len = max(s.size(0) for s in sequences)
    rest = tuple(sequences[0].shape[1:])
    out = []
    for s in sequences:
        if tuple(s.shape[1:]) != rest:
            raise RuntimeError(f"The size of tensor a ({rest[-1] if rest else 0}) must match the size of tensor b "
                               f"({s.shape[-1] if s.dim() > 1 else 0}) at non-singleton dimension "
                               f"{max(len(rest), 1)}")
        n = max_len - s.size(0)
        if n:
            pad = full((n,) + rest, padding_value, dtype=s.dtype, device=s.device)
            s = cat([s, pad] if padding_side == "right" else [pad, s], 0)
        out.append(s)
    return stack(out, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    lens = lengths.tolist() if isinstance(lengths, TensorBase) else list(lengths)
    return [seq[:int(n)] for seq, n in zip(padded_sequences.unbind(0), lens)]


def pack_sequence(sequences, enforce_sorted=True):
    lengths = as_tensor([v.size(0) for v in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    padded_sequences, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded_sequences, lengths, batch_first=True)
