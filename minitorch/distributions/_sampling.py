"""Samplers the C core does not have yet (torch._standard_gamma, torch.poisson, torch.binomial), drawn
from minitorch's generator (minitorch.manual_seed reproduces them): uniform/normal draws come from
minitorch, the accept/reject bookkeeping runs in float64 NumPy on those draws. Exact algorithms, not
approximations: Marsaglia-Tsang for the gamma, inversion (small rates) and Hormann's PTRS (rates >= 10)
for the Poisson, inversion (mean < 10) and Hormann's BTRS for the binomial."""
import numpy as np

__all__ = ["_binomial", "_poisson", "_standard_gamma"]


def _uniform(n):
    from .. import rand
    return rand(n, dtype=_f64()).numpy()


def _normal(n):
    from .. import randn
    return randn(n, dtype=_f64()).numpy()


def _f64():
    from .. import float64
    return float64


def _like(arr, like):
    from .. import tensor
    return tensor(arr, dtype=like.dtype, device=like.device)


def _lgamma_np(x):
    from .. import tensor
    return tensor(x, dtype=_f64()).lgamma().numpy()


def _gamma_np(alpha):
    """standard Gamma(alpha) draws (alpha a float64 array, > 0)"""
    alpha = np.asarray(alpha, np.float64).reshape(-1)
    small = alpha < 1
    a = np.where(small, alpha + 1.0, alpha)  # alpha < 1: draw Gamma(alpha + 1) * U^(1/alpha)
    d = a - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    out = np.empty_like(a)
    todo = np.arange(a.size)
    while todo.size:
        x = _normal(todo.size)
        u = _uniform(todo.size)
        v = (1.0 + c[todo] * x) ** 3
        with np.errstate(invalid="ignore", divide="ignore"):
            ok = (v > 0) & (np.log(u) < 0.5 * x * x + d[todo] - d[todo] * v + d[todo] * np.log(np.where(v > 0, v, 1)))
        out[todo[ok]] = (d[todo] * v)[ok]
        todo = todo[~ok]
    if small.any():
        idx = np.nonzero(small)[0]
        u = _uniform(idx.size)
        out[idx] *= u ** (1.0 / alpha[idx])
    return out


def _standard_gamma(concentration):
    """Gamma(concentration, 1) samples, the shape of concentration (not differentiable)"""
    conc = concentration.detach().cpu().numpy().astype(np.float64)
    out = _gamma_np(conc).reshape(conc.shape)
    return _like(out, concentration)


def _poisson_np(lam):
    lam = np.asarray(lam, np.float64).reshape(-1)
    out = np.zeros_like(lam)
    small = np.nonzero((lam > 0) & (lam < 10))[0]
    if small.size:  # inversion by sequential search
        lm = lam[small]
        u = _uniform(small.size)
        k = np.zeros_like(lm)
        p = np.exp(-lm)
        F = p.copy()
        active = u > F
        while active.any():
            k = k + active
            p = np.where(active, p * lm / np.maximum(k, 1), p)
            F = np.where(active, F + p, F)
            active = active & (u > F) & (p > 0)
        out[small] = k
    big = np.nonzero(lam >= 10)[0]
    if big.size:  # PTRS (Hormann 1993), as numpy's and torch's samplers use
        lm = lam[big]
        slam, loglam = np.sqrt(lm), np.log(lm)
        b = 0.931 + 2.53 * slam
        a = -0.059 + 0.02483 * b
        invalpha = 1.1239 + 1.1328 / (b - 3.4)
        vr = 0.9277 - 3.6224 / (b - 2)
        res = np.empty_like(lm)
        todo = np.arange(lm.size)
        while todo.size:
            U = _uniform(todo.size) - 0.5
            V = _uniform(todo.size)
            us = 0.5 - np.abs(U)
            at, bt = a[todo], b[todo]
            k = np.floor((2 * at / us + bt) * U + lm[todo] + 0.43)
            quick = (us >= 0.07) & (V <= vr[todo])
            with np.errstate(divide="ignore", invalid="ignore"):
                lg = _lgamma_np(np.maximum(k, 0) + 1)
                slow = ((k >= 0) & ~((us < 0.013) & (V > us)) &
                        (np.log(V) + np.log(invalpha[todo]) - np.log(at / (us * us) + bt)
                         <= -lm[todo] + k * loglam[todo] - lg))
            ok = quick | slow
            res[todo[ok]] = k[ok]
            todo = todo[~ok]
        out[big] = res
    return out


def _poisson(rate):
    r = rate.detach().cpu().numpy().astype(np.float64)
    return _like(_poisson_np(r).reshape(r.shape), rate)


def _binomial_np(n, p):
    """Binomial(n, p) draws (float64 arrays of one shape). p > 1/2 is mirrored (n - Binomial(n, 1 - p)); then
    a mean n p < 10 is sampled by inversion (sequential search up the pmf), a larger one by Hormann's BTRS
    transformed rejection (as numpy and torch), accepting with the exact log-pmf ratio (lgamma)."""
    n = np.asarray(n, np.float64).reshape(-1)
    p = np.asarray(p, np.float64).reshape(-1)
    flip = p > 0.5
    q = np.where(flip, 1.0 - p, p)
    out = np.zeros_like(n)
    small = np.nonzero((n > 0) & (q > 0) & (n * q < 10))[0]
    if small.size:
        ns, qs = n[small], q[small]
        u = _uniform(small.size)
        k = np.zeros_like(ns)
        pk = np.exp(ns * np.log1p(-qs))
        F = pk.copy()
        ratio = qs / (1 - qs)
        active = (u > F) & (k < ns)
        while active.any():
            pk = np.where(active, pk * (ns - k) / (k + 1) * ratio, pk)
            k = k + active
            F = np.where(active, F + pk, F)
            active = active & (u > F) & (k < ns) & (pk > 0)
        out[small] = k
    big = np.nonzero((n > 0) & (q > 0) & (n * q >= 10))[0]
    if big.size:
        nb, qb = n[big], q[big]
        stddev = np.sqrt(nb * qb * (1 - qb))
        b = 1.15 + 2.53 * stddev
        a = -0.0873 + 0.0248 * b + 0.01 * qb
        c = nb * qb + 0.5
        v_r = 0.92 - 4.2 / b
        alpha = (2.83 + 5.1 / b) * stddev
        m = np.floor((nb + 1) * qb)
        logr = np.log(qb / (1 - qb))
        log_fm = -_lgamma_np(m + 1) - _lgamma_np(nb - m + 1) + m * logr
        res = np.empty_like(nb)
        todo = np.arange(nb.size)
        while todo.size:
            U = _uniform(todo.size) - 0.5
            V = _uniform(todo.size)
            us = 0.5 - np.abs(U)
            k = np.floor((2 * a[todo] / us + b[todo]) * U + c[todo])
            inside = (k >= 0) & (k <= nb[todo])
            quick = inside & (us >= 0.07) & (V <= v_r[todo])
            kk = np.clip(k, 0, nb[todo])
            with np.errstate(divide="ignore"):
                lhs = np.log(V * alpha[todo] / (a[todo] / (us * us) + b[todo]))
            log_fk = -_lgamma_np(kk + 1) - _lgamma_np(nb[todo] - kk + 1) + kk * logr[todo]
            ok = quick | (inside & (lhs <= log_fk - log_fm[todo]))
            res[todo[ok]] = k[ok]
            todo = todo[~ok]
        out[big] = res
    return np.where(flip, n - out, out)


def _binomial(count, probs):
    """Binomial(count, probs) draws, the (common) shape of count and probs"""
    n = count.detach().cpu().numpy().astype(np.float64)
    p = probs.detach().cpu().numpy().astype(np.float64)
    return _like(_binomial_np(n, p).reshape(n.shape), probs)


def _digamma_np(x):
    from .. import tensor
    return tensor(x, dtype=_f64()).digamma().numpy()


def _gammainc_series(alpha, x, want_dalpha=False):
    """The regularized lower incomplete gamma P(alpha, x) = sum_k e^-x x^k / Gamma(k + 1) over
    k = alpha + n, n >= 0, and optionally dP/dalpha (the same sum with each term times
    log x - digamma(k + 1)), in float64. The terms follow a Poisson(x)-shaped curve in k, so only a window
    of about 20 sqrt(x) terms around k = x contributes (what lies outside is below float64 rounding)."""
    alpha = np.asarray(alpha, np.float64).reshape(-1)
    x = np.asarray(x, np.float64).reshape(-1)
    P = np.zeros_like(x)
    dP = np.zeros_like(x)
    pos = np.nonzero(x > 0)[0]
    # chunks of about 4M terms, the widest windows first
    pos = pos[np.argsort(-x[pos])]
    s = 0
    while s < pos.size:
        width = int(np.ceil(20 * np.sqrt(x[pos[s]]) + 40))
        idx = pos[s:s + max(1, 4_000_000 // width)]
        s += idx.size
        a, xv = alpha[idx], x[idx]
        n0 = np.floor(np.maximum(0.0, xv - a - 10 * np.sqrt(xv) - 10))
        k0 = a + n0
        logx = np.log(xv)
        # term j of the window from term 0 by t_j = t_(j-1) x / (k0 + j) and
        # digamma(k0 + j + 1) = digamma(k0 + j) + 1 / (k0 + j): one lgamma and digamma per element;
        # the arrays are (window, elements) so the running sums run along contiguous rows
        kj = k0[None, :] + np.arange(1, width, dtype=np.float64)[:, None]
        logt = np.empty((width, idx.size))
        logt[0] = k0 * logx - xv - _lgamma_np(k0 + 1)
        np.cumsum(logx[None, :] - np.log(kj), 0, out=logt[1:])
        logt[1:] += logt[0]
        t = np.exp(logt)
        P[idx] = t.sum(0)
        if want_dalpha:
            psi = np.empty((width, idx.size))
            psi[0] = _digamma_np(k0 + 1)
            np.cumsum(1.0 / kj, 0, out=psi[1:])
            psi[1:] += psi[0]
            dP[idx] = (t * (logx[None, :] - psi)).sum(0)
    P = np.clip(P, 0.0, 1.0)
    return (P, dP) if want_dalpha else P


def _standard_gamma_grad_np(alpha, x):
    """d sample / d alpha of a standard Gamma(alpha) sample x at fixed CDF value (implicit
    reparameterization: -(dP/dalpha) / (dP/dx)), exact to float64 rounding of the series"""
    alpha = np.asarray(alpha, np.float64).reshape(-1)
    x = np.asarray(x, np.float64).reshape(-1)
    _, dP = _gammainc_series(alpha, x, want_dalpha=True)
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        log_pdf = (alpha - 1) * np.log(x) - x - _lgamma_np(alpha)
        g = -dP / np.exp(log_pdf)
    return np.where(x > 0, g, 0.0)
