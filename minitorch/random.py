"""minitorch.random (torch.random): the default CPU generator's seed and state, and fork_rng."""
import contextlib

from ._C import Generator, default_generator, get_rng_state, initial_seed, manual_seed, set_rng_state  # noqa: F401

__all__ = ["manual_seed", "seed", "initial_seed", "get_rng_state", "set_rng_state", "fork_rng"]


def seed():
    """Seed the generator with a non-deterministic random number; returns it."""
    import minitorch

    return minitorch.seed()


@contextlib.contextmanager
def fork_rng(devices=None, enabled=True, _caller="fork_rng", _devices_kw="devices", device_type=None):
    """Restore the CPU generator's state on exit (torch.random.fork_rng). minitorch.cuda keeps no per-device
    state that can be saved, so a fork of CUDA devices (devices not empty while CUDA is available) raises."""
    if device_type == "meta" or not enabled:
        yield
        return
    from . import cuda

    if devices is not None:
        devices = list(devices)
    if cuda.is_available() and devices != [] and not hasattr(cuda, "get_rng_state"):
        raise NotImplementedError("minitorch.random.fork_rng: forking the CUDA generators is not supported (no "
                                  "minitorch.cuda.get_rng_state); pass devices=[] to fork the CPU generator only")
    cpu_rng_state = get_rng_state()
    try:
        yield
    finally:
        set_rng_state(cpu_rng_state)

