"""minitorch.fx (torch.fx): symbolic tracing of nn.Modules and functions into a Graph of Nodes, the graph's
rewriting API, GraphModule (the Module whose forward is generated from a Graph), the Interpreter / Transformer,
and subgraph rewriting (replace_pattern).

minitorch has no __torch_function__: calls of minitorch / minitorch.nn.functional functions on Proxies record
nodes while Tracer.trace or Transformer.transform runs (they patch those namespaces for the time). Elsewhere
(a Proxy(node) made by hand) use the Python operators and Tensor methods (`proxy.relu()`), which always
record."""
from . import node, proxy  # noqa: F401
from ._symbolic_trace import PH, Tracer, symbolic_trace, wrap  # noqa: F401
from .graph import Graph  # noqa: F401
from .graph_module import GraphModule  # noqa: F401
from .interpreter import Interpreter, Transformer  # noqa: F401
from .node import Node, map_arg  # noqa: F401
from .proxy import Proxy  # noqa: F401
from .subgraph_rewriter import replace_pattern  # noqa: F401

__all__ = ["symbolic_trace", "Tracer", "Graph", "GraphModule", "Node", "Proxy", "wrap", "Interpreter",
           "Transformer", "replace_pattern", "map_arg", "PH"]
