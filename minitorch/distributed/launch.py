"""``python -m minitorch.distributed.launch``: the deprecated front end of ``torch.distributed.launch``.

Same options as :mod:`minitorch.distributed.run` plus ``--use-env``/``--use_env``. Without
``--use-env`` each worker also gets ``--local-rank=<local rank>`` on its command line (before
the script's own arguments), as ``torch.distributed.launch`` does since torch 2.0. Prefer
``minitorchrun`` / ``python -m minitorch.distributed.run`` and read ``os.environ["LOCAL_RANK"]``.
"""

import warnings

from minitorch.distributed.run import _main, get_args_parser, run

__all__ = ["launch", "main", "parse_args"]

_DEPRECATION = (
    "The module minitorch.distributed.launch is deprecated\n"
    "and will be removed in future. Use minitorchrun (python -m minitorch.distributed.run).\n"
    "Note that --use-env is set by default in minitorchrun.\n"
    "If your script expects `--local-rank` argument to be set, please\n"
    "change it to read from `os.environ['LOCAL_RANK']` instead. See \n"
    "https://pytorch.org/docs/stable/distributed.html#launch-utility for \n"
    "further instructions\n")


def parse_args(args):
    parser = get_args_parser()
    parser.add_argument(
        "--use-env", "--use_env", default=False, action="store_true",
        help="Use environment variable to pass 'local rank'. For legacy reasons, the default value "
             "is False. If set to True, the script will not pass --local-rank as argument, and will "
             "instead set LOCAL_RANK.")
    return parser.parse_args(args)


def launch(args):
    return run(args)  # run's config_from_args refuses --no-python without --use-env


def main(args=None):
    warnings.warn(_DEPRECATION, FutureWarning, stacklevel=2)
    _main(args, parse_args)


if __name__ == "__main__":
    main()
