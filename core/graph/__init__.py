"""The model: ops and their registry, the Graph, types, validation, evaluation and the file format.

Imports nothing else of Loom. Start here:

    from core.graph import Graph, load_graph, evaluate
"""
from .errors import GraphError, GraphFileError, LoomError, ShapeError
from .executor import Evaluation, evaluate
from .expand import expand_layers, expand_node
from .fileformat import graph_document, graph_from_dict, graph_from_text, load_graph, load_weights, save_graph
from .graph import Edge, Graph
from .params import init_params, param_decls
from .registry import all_ops, get_op
from .types import BATCH, TensorType
from .validate import Diagnostic, param_key

__all__ = ["BATCH", "Diagnostic", "Edge", "Evaluation", "Graph", "GraphError", "GraphFileError",
           "LoomError", "ShapeError", "TensorType", "all_ops", "evaluate", "expand_layers",
           "expand_node", "get_op", "graph_document", "graph_from_dict", "graph_from_text", "init_params",
           "load_graph", "load_weights", "param_decls", "param_key", "save_graph"]
