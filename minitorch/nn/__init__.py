"""minitorch.nn: modules, layers, losses, functional, init and utils (PyTorch's names)."""
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from .modules.module import Module  # noqa: F401
from .modules.container import *  # noqa: F401,F403
from .modules.layers import *  # noqa: F401,F403
from .modules.activation import *  # noqa: F401,F403
from .modules.dropout import *  # noqa: F401,F403
from .modules.distance import *  # noqa: F401,F403
from .modules.loss import *  # noqa: F401,F403
from .modules.rnn import *  # noqa: F401,F403
from .modules.batchnorm import *  # noqa: F401,F403
from .modules.instancenorm import *  # noqa: F401,F403
from .modules.normalization import *  # noqa: F401,F403
from .modules.padding import *  # noqa: F401,F403
from .modules.upsampling import *  # noqa: F401,F403
from .modules.pixelshuffle import *  # noqa: F401,F403
from .modules.conv import *  # noqa: F401,F403
from .modules.pooling import *  # noqa: F401,F403
from .modules.transformer import *  # noqa: F401,F403
from .modules.channelshuffle import *  # noqa: F401,F403
from .modules.lazy import *  # noqa: F401,F403
from .modules.adaptive import *  # noqa: F401,F403
from .modules.legacy import *  # noqa: F401,F403
from .modules.fractional import *  # noqa: F401,F403
from . import functional, init, utils  # noqa: F401,E402
from . import parallel  # noqa: F401,E402
from .parallel import DataParallel  # noqa: F401,E402
