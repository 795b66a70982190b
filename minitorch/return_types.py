"""Named tuples returned by ops with several outputs (torch.return_types)."""
from collections import namedtuple

max = namedtuple("max", ["values", "indices"])
min = namedtuple("min", ["values", "indices"])
sort = namedtuple("sort", ["values", "indices"])
topk = namedtuple("topk", ["values", "indices"])
cummax = namedtuple("cummax", ["values", "indices"])
cummin = namedtuple("cummin", ["values", "indices"])

for _cls in (max, min, sort, topk, cummax, cummin):
    _cls.__module__ = "torch.return_types"
    _cls.__repr__ = (lambda self, _n=_cls.__name__: f"torch.return_types.{_n}(\nvalues={self.values!r},\nindices={self.indices!r})")
