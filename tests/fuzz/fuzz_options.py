"""Where the fuzzer's settings come from: the command line, else the environment, else defaults."""
import os

DEFAULT_CASES = 3000
DEFAULT_SEED = 0


def _setting(config, opt, env, default):
    try:
        v = config.getoption(opt)
    except ValueError:  # the option was not registered (this conftest was not an initial one)
        v = None
    if v is None and os.environ.get(env):
        v = int(os.environ[env])
    return default if v is None else v


def fuzz_settings(config):
    """(cases, seed, start) from the command line, else the environment, else the defaults."""
    return (_setting(config, "fuzz_cases", "MINITORCH_FUZZ_CASES", DEFAULT_CASES),
            _setting(config, "fuzz_seed", "MINITORCH_FUZZ_SEED", DEFAULT_SEED),
            _setting(config, "fuzz_start", "MINITORCH_FUZZ_START", 0))
