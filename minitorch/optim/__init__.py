"""minitorch.optim: optimizers (each parameter updated by one fused C kernel) and lr schedulers."""
from . import lr_scheduler  # noqa: F401
from .adadelta import Adadelta
from .adagrad import Adagrad
from .adamax import Adamax
from .asgd import ASGD
from .lbfgs import LBFGS
from .adam import Adam, AdamW
from .nadam import NAdam
from .optimizer import Optimizer
from .radam import RAdam
from .rmsprop import RMSprop
from .rprop import Rprop
from .sgd import SGD
from .sparse_adam import SparseAdam
from . import swa_utils  # noqa: F401,E402

__all__ = ["ASGD", "Adadelta", "Adagrad", "Adamax", "LBFGS", "NAdam", "RAdam", "Rprop", "Adam", "AdamW", "Optimizer",
           "RMSprop", "SGD", "SparseAdam", "lr_scheduler", "swa_utils"]
