"""minitorch.einsum, composed from diagonal / sum / permute / reshape / expand / bmm, so autograd and
every device work without an einsum kernel.

The equation is parsed as torch does: letters a-z and A-Z, '...' for broadcast dimensions (aligned from
the right across operands), '->' for an explicit output; the implicit output is the ellipsis dimensions
followed by the letters that appear exactly once, in alphabetical (ASCII) order. A letter repeated within
one operand takes that operand's diagonal. Operands are then reduced left to right: a letter used by no
later operand and not in the output is summed away as soon as it can be, and each pair is one bmm over
(batch letters, left-only letters, contracted letters, right-only letters). Dimensions of size 1
broadcast, as in torch. The sublist form einsum(op0, [0, 1], op1, [1, 2], [0, 2]) is accepted too."""
from . import _C

__all__ = ["einsum"]

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _sublist_equation(args):
    def term(sub):
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, int) and 0 <= s < 52:
                out.append(_LETTERS[s])
            else:
                raise ValueError("einsum(): expected subscript to be within the range [0, 52), but got " + str(s))
        return "".join(out)

    ops, terms = list(args[0::2]), [term(s) for s in args[1::2]]
    if len(args) % 2 == 1:
        ops = ops[:-1] if not isinstance(ops[-1], _C.TensorBase) else ops
        eq = ",".join(terms[: len(ops)]) + "->" + term(args[-1])
    else:
        eq = ",".join(terms)
    return eq, ops


def _parse_term(term, ndim, i):
    """-> list of labels (str letters; ints -1, -2, ... for ellipsis dims counted from the right)"""
    if term.count("...") > 1 or term.replace("...", "").count(".") > 0:
        raise RuntimeError("einsum(): found '.' for operand " + str(i) + " that is not part of any ellipsis")
    has_ell = "..." in term
    letters = term.replace("...", "")
    for c in letters:
        if c not in _LETTERS:
            raise RuntimeError(f"einsum(): invalid subscript given at index {term.index(c)} in the equation string, "
                               "subscripts must be in [a-zA-Z]")
    if has_ell:
        if len(letters) > ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) is more than "
                               f"the number of dimensions ({ndim}) for operand {i}")
        pre, post = term.split("...")
        n_ell = ndim - len(letters)
        return list(pre) + [-(n_ell - k) for k in range(n_ell)] + list(post)
    if len(letters) != ndim:
        raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(letters)}) does not match the "
                           f"number of dimensions ({ndim}) for operand {i} and no ellipsis was given")
    return list(letters)


def _take_diagonals(t, labels):
    """repeated labels of one operand -> its diagonal over them (moved to the end)"""
    while True:
        seen = {}
        rep = None
        for d, l in enumerate(labels):
            if l in seen:
                rep = (seen[l], d)
                break
            seen[l] = d
        if rep is None:
            return t, labels
        d0, d1 = rep
        if t.shape[d0] != t.shape[d1]:
            raise RuntimeError(f"einsum(): subscript {labels[d0]} is repeated for operand but the sizes don't match, "
                               f"{t.shape[d1]} != {t.shape[d0]}")
        from ._composites import diagonal
        lab = labels[d0]
        t = diagonal(t, 0, d0, d1)
        labels = [l for k, l in enumerate(labels) if k not in (d0, d1)] + [lab]


def _sum_labels(t, labels, drop):
    dims = [d for d, l in enumerate(labels) if l in drop]
    if not dims:
        return t, labels
    return t.sum(dim=tuple(dims)), [l for l in labels if l not in drop]


def _contract(a, la, b, lb, keep):
    """a (labels la) x b (labels lb) -> tensor over the kept labels (order: batch, a-only, b-only)"""
    sa = dict(zip(la, a.shape))
    sb = dict(zip(lb, b.shape))
    batch = [l for l in la if l in sb and l in keep]
    contr = [l for l in la if l in sb and l not in keep]
    a_only = [l for l in la if l not in sb]
    b_only = [l for l in lb if l not in sa]
    size = {}
    for l in batch + contr:
        if sa[l] != sb[l] and sa[l] != 1 and sb[l] != 1:
            raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped): "
                               f"{list(a.shape)} and {list(b.shape)} at subscript {l!s}")
        size[l] = max(sa[l], sb[l])
    for l in contr:  # a size-1 contracted dim against a larger one: sum the larger side first
        if sa[l] != sb[l]:
            if sa[l] == 1:
                b = b.sum(dim=lb.index(l), keepdim=True)
            else:
                a = a.sum(dim=la.index(l), keepdim=True)
            size[l] = 1
    ap = a.permute([la.index(l) for l in batch + a_only + contr])
    bp = b.permute([lb.index(l) for l in batch + contr + b_only])
    ap = ap.expand([size[l] for l in batch] + list(ap.shape[len(batch):]))
    bp = bp.expand([size[l] for l in batch] + list(bp.shape[len(batch):]))
    nb = _prod(size[l] for l in batch)
    m = _prod(sa[l] for l in a_only)
    k = _prod(size[l] for l in contr)
    n = _prod(sb[l] for l in b_only)
    out = ap.reshape(nb, m, k).bmm(bp.reshape(nb, k, n)) if (a.dtype == b.dtype) else None
    if out is None:
        out = (ap.reshape(nb, m, k, 1) * bp.reshape(nb, 1, k, n)).sum(dim=2)
    shape = [size[l] for l in batch] + [sa[l] for l in a_only] + [sb[l] for l in b_only]
    return out.reshape(shape), batch + a_only + b_only


def _prod(it):
    p = 1
    for v in it:
        p *= v
    return p


def einsum(*args):
    """einsum(equation, *operands) -> Tensor: sums the product of the operands over the equation's subscripts
    (see the module docstring); also einsum(equation, [operands]) and the sublist form."""
    if not args:
        raise TypeError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if isinstance(args[0], _C.TensorBase):
        eq, operands = _sublist_equation(args)
    else:
        eq, operands = args[0], list(args[1:])
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = list(operands[0])
    if not isinstance(eq, str):
        raise TypeError(f"einsum(): argument 'equation' must be str, not {type(eq).__name__}")
    for op in operands:
        if not isinstance(op, _C.TensorBase):
            raise TypeError(f"einsum(): expected a Tensor as operand, got {type(op).__name__}")
    eq = eq.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(operands) == 0:
        raise RuntimeError("einsum(): must provide at least one operand")
    if len(terms) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(terms) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    labels = [_parse_term(t, op.dim(), i) for i, (t, op) in enumerate(zip(terms, operands))]
    n_ell = max([-min([l for l in ls if isinstance(l, int)], default=0) for ls in labels])
    if arrow:
        if "..." in rhs:
            if rhs.count("...") > 1:
                raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
            pre, post = rhs.split("...")
            out_labels = list(pre) + [-(n_ell - k) for k in range(n_ell)] + list(post)
        else:
            out_labels = list(rhs)
            if "." in rhs:
                raise RuntimeError("einsum(): found '.' for output that is not part of any ellipsis")
        seen = set()
        for l in out_labels:
            if isinstance(l, str):
                if l not in _LETTERS:
                    raise RuntimeError("einsum(): invalid subscript given at index "
                                       f"{len(lhs) + 2 + rhs.index(l)} in the equation string, subscripts must be in [a-zA-Z]")
                if l in seen:
                    raise RuntimeError(f"einsum(): output subscript {l} appears more than once in the output")
                if not any(l in ls for ls in labels):
                    raise RuntimeError(f"einsum(): output subscript {l} does not appear in the equation for any "
                                       "input operand")
                seen.add(l)
    else:
        counts = {}
        for ls in labels:
            for l in ls:
                if isinstance(l, str):
                    counts[l] = counts.get(l, 0) + 1
        out_labels = [-(n_ell - k) for k in range(n_ell)] + sorted(l for l, c in counts.items() if c == 1)
    out_set = set(out_labels)

    # each operand: take repeated-label diagonals, then sum the labels nobody else needs
    ts, ls = [], []
    for i, (op, lab) in enumerate(zip(operands, labels)):
        t, lab = _take_diagonals(op, lab)
        others = set(out_set)
        for j, lj in enumerate(labels):
            if j != i:
                others.update(lj)
        t, lab = _sum_labels(t, lab, {l for l in lab if l not in others})
        ts.append(t)
        ls.append(lab)
    a, la = ts[0], ls[0]
    for i in range(1, len(ts)):
        keep = set(out_set)
        for lj in ls[i + 1:]:
            keep.update(lj)
        b, lb = ts[i], ls[i]
        a, la = _sum_labels(a, la, {l for l in la if l not in keep and l not in lb})
        b, lb = _sum_labels(b, lb, {l for l in lb if l not in keep and l not in la})
        a, la = _contract(a, la, b, lb, keep)
    a, la = _sum_labels(a, la, {l for l in la if l not in out_set})
    # ellipsis dims an operand lacked (fewer broadcast dims) and size-1 broadcast dims
    shape = []
    for l in out_labels:
        if l in la:
            shape.append(a.shape[la.index(l)])
        else:
            a = a.unsqueeze(-1)
            la = la + [l]
            shape.append(1)
    a = a.permute([la.index(l) for l in out_labels]) if la else a
    return a
