"""Finding ops as a user asks for them: by name, by the words people use for them, by their doc, and
by what a dangling wire can feed. The palette and the quick-add popup both search through here.
"""
from __future__ import annotations

import re

from .graph import Graph
from .registry import INTERNAL, all_ops
from .spec import OpSpec

# Words users type for an op that neither its name nor its doc contains (lower case).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "Input": ("placeholder", "data", "features", "labels"),
    "Parameter": ("weight", "bias", "variable", "learnable"),
    "Constant": ("literal", "number", "value"),
    "Add": ("plus", "bias", "residual", "skip connection"),
    "Sub": ("minus", "subtract", "difference"),
    "Mul": ("multiply", "times", "product", "scale", "hadamard"),
    "Div": ("divide", "ratio", "quotient"),
    "Neg": ("negate", "minus"),
    "Pow": ("power", "exponent"),
    "Abs": ("absolute", "magnitude"),
    "Clip": ("clamp", "limit"),
    "Exp": ("exponential",),
    "Log": ("logarithm", "ln"),
    "Sqrt": ("square root", "root"),
    "Tanh": ("hyperbolic", "activation"),
    "Sigmoid": ("logistic", "activation", "squash"),
    "ReLU": ("rectifier", "activation", "rectified"),
    "LeakyReLU": ("leaky", "activation"),
    "ELU": ("activation",),
    "Softplus": ("smooth relu", "activation"),
    "PickLabels": ("gather", "index", "select"),
    "MatMul": ("matrix multiply", "matrix product", "dot", "linear", "gemm", "@"),
    "Transpose": ("permute", "swap axes"),
    "Reshape": ("view", "resize"),
    "Flatten": ("reshape", "ravel"),
    "Concat": ("concatenate", "join", "stack", "cat"),
    "Sum": ("reduce", "total"),
    "Mean": ("average", "reduce"),
    "Max": ("reduce", "largest"),
    "Softmax": ("probabilities", "normalize", "classifier"),
    "LogSoftmax": ("log probabilities",),
    "Dense": ("linear", "fully connected", "fc", "affine", "layer", "perceptron", "mlp", "hidden layer"),
    "Embedding": ("lookup", "word vectors", "table"),
    "Dropout": ("regularization", "regularisation", "noise"),
    "Conv": ("convolution", "cross correlation", "filter", "kernel"),
    "Conv2D": ("convolution", "conv layer", "cnn", "filter", "kernel"),
    "MaxPool2D": ("pooling", "pool", "downsample", "subsample"),
    "SoftmaxCrossEntropy": ("loss", "log loss", "nll", "negative log likelihood", "categorical", "classification"),
    "BinaryCrossEntropy": ("loss", "log loss", "bce", "logistic loss"),
    "MSE": ("loss", "mean squared error", "l2", "regression", "squared error"),
    "Accuracy": ("metric", "score", "correct"),
}


def _words(text: str) -> str:
    """Lower case, camel case split and punctuation as spaces: 'SoftmaxCrossEntropy' -> 'softmax cross entropy'."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return " ".join(re.sub(r"[-_/·:,()]+", " ", text.lower()).split())


def visible_ops() -> list[OpSpec]:
    """The ops a user can add (not hidden, not internal), in declaration order."""
    return [s for s in all_ops() if not s.hidden and s.category != INTERNAL]


def search_ops(text: str) -> list[OpSpec]:
    """Visible ops matching `text`, best first: name, then a synonym, then the doc or category.

    Matching ignores case, hyphens and camel case ("cross entropy" finds SoftmaxCrossEntropy)."""
    query = _words(text)
    ops = visible_ops()
    if not query:
        return ops
    ranked = []
    for order, spec in enumerate(ops):
        name = spec.name.lower()
        synonyms = SYNONYMS.get(spec.name, ())
        if name == query.replace(" ", ""):
            rank = 0
        elif name.startswith(query.replace(" ", "")):
            rank = 1
        elif query in synonyms:
            rank = 2
        elif query in _words(spec.name) or query.replace(" ", "") in name:
            rank = 3
        elif any(query in word for word in synonyms):
            rank = 4
        elif query in _words(f"{spec.doc} {spec.category}"):
            rank = 5
        else:
            continue
        ranked.append((rank, order, spec))
    return [spec for _, _, spec in sorted(ranked, key=lambda r: r[:2])]


def ops_accepting(graph: Graph, node: str, port: str, is_output: bool) -> dict[str, str]:
    """{op: its port} for each visible op a new node of which could take the wire dangling from
    `node.port`: an input fed by that output, or (for an input port) an output feeding it.

    A source op (one without inputs, a Parameter say) always may feed an input: its shape is set after.
    """
    probe = graph.copy()
    accepted: dict[str, str] = {}
    for spec in visible_ops():
        try:
            new = probe.add_node(spec.name, node_id=probe.unique_id("loom_candidate"))
        except Exception:  # noqa: BLE001 (an op that needs attributes to exist cannot be offered)
            continue
        ins = spec.input_names(probe.attrs(new))
        wires = [(node, port, new, p) for p in ins] if is_output else \
            [(new, p, node, port) for p in spec.output_names()]
        for wire in wires:
            if probe.check_wire(*wire, typed=is_output or bool(ins))[0]:
                accepted[spec.name] = wire[3] if is_output else wire[1]
                break
        probe.remove_node(new)
    return accepted
