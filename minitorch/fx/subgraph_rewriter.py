"""minitorch.fx.replace_pattern (torch.fx.subgraph_rewriter): find the subgraphs of a GraphModule that match a
pattern (a function / Graph / GraphModule) and replace each with a copy of the replacement."""
from typing import Dict, NamedTuple

from .graph import Graph
from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "replace_pattern", "ReplacedPatterns"]


class Match(NamedTuple):
    anchor: Node  # the node that matched the pattern's output
    nodes_map: Dict[Node, Node]  # pattern node -> matched node


class ReplacedPatterns(NamedTuple):
    anchor: Node
    nodes_map: Dict[Node, Node]
    replacements: list


def _graph_of(f):
    from ._symbolic_trace import symbolic_trace

    if isinstance(f, GraphModule):
        return f.graph
    if isinstance(f, Graph):
        return f
    return symbolic_trace(f).graph


def _match_node(pn, gn, nodes_map, ignore_literals):
    """Match pattern node pn against graph value gn, extending nodes_map; False (nodes_map untouched) if not."""
    if pn in nodes_map:
        return nodes_map[pn] is gn
    if pn.op == "placeholder":
        nodes_map[pn] = gn  # a placeholder matches any value (a node or a literal)
        return True
    if not isinstance(gn, Node) or pn.op != gn.op or pn.target != gn.target:
        return False
    if len(pn.args) != len(gn.args) or set(pn.kwargs) != set(gn.kwargs):
        return False
    saved = dict(nodes_map)
    nodes_map[pn] = gn
    if all(_match_arg(a, b, nodes_map, ignore_literals) for a, b in zip(pn.args, gn.args)) and \
            all(_match_arg(pn.kwargs[k], gn.kwargs[k], nodes_map, ignore_literals) for k in pn.kwargs):
        return True
    nodes_map.clear()
    nodes_map.update(saved)
    return False


def _match_arg(pa, ga, nodes_map, ignore_literals):
    if isinstance(pa, Node):
        return _match_node(pa, ga, nodes_map, ignore_literals)
    if isinstance(pa, (list, tuple)):
        return (isinstance(ga, (list, tuple)) and len(pa) == len(ga)
                and all(_match_arg(a, b, nodes_map, ignore_literals) for a, b in zip(pa, ga)))
    if isinstance(ga, Node):
        return False
    return ignore_literals or (type(pa) is type(ga) and pa == ga)


def _find_matches(graph, pattern_graph, ignore_literals):
    output = next(n for n in pattern_graph.nodes if n.op == "output")
    returned = output.args[0]
    anchors = list(returned) if isinstance(returned, (tuple, list)) else [returned]
    pattern_placeholders = [n for n in pattern_graph.nodes if n.op == "placeholder"]
    matches = []
    taken = set()
    # candidates for the first anchor in graph order; the others must match jointly
    for candidate in graph.nodes:
        nodes_map = {}
        if not _match_node(anchors[0], candidate, nodes_map, ignore_literals):
            continue
        ok = True
        for anchor in anchors[1:]:
            found = False
            for other in graph.nodes:
                trial = dict(nodes_map)
                if _match_node(anchor, other, trial, ignore_literals):
                    nodes_map = trial
                    found = True
                    break
            if not found:
                ok = False
                break
        if not ok:
            continue
        inner = {nodes_map[p] for p in pattern_graph.nodes if p.op not in ("placeholder", "output")}
        returning = [nodes_map[a] for a in anchors]
        # the matched nodes other than the returned ones must have no user outside the match
        if any(u not in inner for n in inner if n not in returning for u in n.users):
            continue
        if inner & taken:
            continue  # overlaps an earlier match
        taken |= inner
        matches.append((nodes_map, [nodes_map[p] for p in pattern_placeholders], returning))
    return matches


def replace_pattern(gm, pattern, replacement):
    """Replace every (non-overlapping) match of pattern in gm.graph by replacement; recompiles gm and returns the
    list of Match(anchor, nodes_map)."""
    return [Match(anchor=m.anchor, nodes_map=m.nodes_map) for m in _replace_pattern(gm, pattern, replacement)]


def _replace_pattern(gm, pattern, replacement, ignore_literals=False):
    original_graph = gm.graph
    pattern_graph = _graph_of(pattern)
    replacement_graph = _graph_of(replacement)
    replacement_placeholders = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    results = []
    changed = {}
    for nodes_map, placeholder_values, returning in _find_matches(original_graph, pattern_graph, ignore_literals):
        if len(placeholder_values) != len(replacement_placeholders):
            raise AssertionError(f"Placeholder count mismatch: {len(placeholder_values)} vs "
                                 f"{len(replacement_placeholders)}")
        pattern_placeholders = [n for n in pattern_graph.nodes if n.op == "placeholder"]
        val_map = {}
        for pn, rn, gn in zip(pattern_placeholders, replacement_placeholders, placeholder_values):
            # a value that an earlier replacement changed is read from its replacement
            val_map[rn] = changed.get(gn, gn) if isinstance(gn, Node) else gn
            nodes_map[pn] = val_map[rn]
        placeholder_values = [nodes_map[pn] for pn in pattern_placeholders]
        # insert before the first user of the returned nodes (or after the last returned node)
        user_nodes = {u for n in returning for u in n.users}
        insert_point = next((n for n in original_graph.nodes if n in user_nodes), None)
        if insert_point is None:
            insert_point = max(returning, key=lambda n: list(original_graph.nodes).index(n)).next
        with original_graph.inserting_before(insert_point):
            copied = original_graph.graph_copy(replacement_graph, val_map)
        if isinstance(copied, Node) or not isinstance(copied, (tuple, list)):
            copied = (copied,)
        if len(returning) != len(copied):
            raise AssertionError(f"Returning nodes count mismatch: {len(returning)} vs {len(copied)}")
        for gn, copied_node in zip(returning, copied):
            gn.replace_all_uses_with(copied_node)
            changed[gn] = copied_node
        for node in reversed(pattern_graph.nodes):
            if node.op not in ("placeholder", "output"):
                original_graph.erase_node(nodes_map[node])
        replacement_nodes = [v for v in val_map.values() if v not in placeholder_values]
        anchor_pattern = next(n for n in pattern_graph.nodes if n.op == "output").args[0]
        anchor_pattern = anchor_pattern[0] if isinstance(anchor_pattern, (tuple, list)) else anchor_pattern
        results.append(ReplacedPatterns(anchor=anchor_pattern, nodes_map=nodes_map, replacements=replacement_nodes))
    gm.recompile()
    from ..nn import Module

    if isinstance(replacement, Module):
        from .graph_module import _copy_attr

        for node in gm.graph.nodes:
            if node.op in ("get_attr", "call_module") and not _has(gm, node.target) and _has(replacement,
                                                                                               node.target):
                _copy_attr(replacement, gm, node.target)
    return results


def _has(mod, target):
    for atom in target.split("."):
        if not hasattr(mod, atom):
            return False
        mod = getattr(mod, atom)
    return True

