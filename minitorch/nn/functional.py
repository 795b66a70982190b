"""minitorch.nn.functional: the functional forms of the layers, losses, normalizations and resampling."""
from ._functional_layers import *  # noqa: F401,F403
from ._functional_activation import *  # noqa: F401,F403
from ._functional_loss import *  # noqa: F401,F403
from ._functional_norm import *  # noqa: F401,F403
from ._functional_conv import *  # noqa: F401,F403
from ._functional_sampling import *  # noqa: F401,F403
from ._functional_attention import *  # noqa: F401,F403
from ._functional_attention import _canonical_mask, _none_or_dtype, _mha_shape_check  # noqa: F401  (torch has them in F)
from ._functional_extra import *  # noqa: F401,F403
