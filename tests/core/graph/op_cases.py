"""The op table's cases: inputs, attributes and value domains for every op under test.

Each differentiable op needs at least one case (test_op_table checks that); ops that cannot
be differentiated sit in NOT_DIFFERENTIABLE with the reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Case:
    """One op instance: input shapes by port, attributes, and where values are drawn from.

    `ints` maps integer ports (labels, ids) to their exclusive upper bound; `domain` maps a
    float port to (low, high); `batch` says the first axis of every input is the batch axis.
    """

    op: str
    inputs: dict
    attrs: dict = field(default_factory=dict)
    domain: dict = field(default_factory=dict)
    ints: dict = field(default_factory=dict)
    binary: tuple = ()
    batch: bool = True
    training: bool = False

    @property
    def id(self) -> str:
        shapes = ",".join(f"{p}{list(s)}" for p, s in self.inputs.items())
        extra = ",".join(f"{k}={v}" for k, v in self.attrs.items())
        return f"{self.op}({shapes}{';' + extra if extra else ''})"


M = (3, 4)
POS = (0.5, 2.0)


def unary(op, domain=(-2.0, 2.0), **attrs):
    return Case(op, {"x": M}, attrs, {"x": domain})


def binary(op, b_domain=(-2.0, 2.0)):
    return [Case(op, {"a": M, "b": M}, domain={"b": b_domain}),
            Case(op, {"a": M, "b": (4,)}, domain={"b": b_domain}, batch=False),
            Case(op, {"a": (3, 1), "b": M}, domain={"b": b_domain})]


CASES = [
    *binary("Add"), *binary("Sub"), *binary("Mul"), *binary("Div", POS),
    *binary("Maximum"), *binary("Minimum"),
    Case("Pow", {"a": M, "b": M}, domain={"a": POS, "b": (-1.5, 1.5)}),
    Case("Pow", {"a": M, "b": (1,)}, domain={"a": POS, "b": (1.5, 2.5)}, batch=False),
    unary("Neg"), unary("Square"), unary("Abs"), unary("Exp"), unary("Log", POS), unary("Sqrt", POS),
    unary("Tanh"), unary("Sigmoid"), unary("ReLU"), unary("LeakyReLU", alpha=0.1),
    unary("LeakyReLU", alpha=0.3), unary("ELU", alpha=1.0), unary("ELU", alpha=0.5), unary("Softplus"),
    unary("Clip", lo=-1.0, hi=1.0), unary("Clip", lo=-0.5, hi=1.5),
    unary("Log1p", (-0.5, 2.0)), unary("Expm1"),
    Case("Where", {"c": M, "a": M, "b": M}, binary=("c",)),
    Case("MatMul", {"a": (3, 4), "b": (4, 5)}, batch=False),
    Case("MatMul", {"a": (3, 4), "b": (5, 4)}, {"transpose_b": True}, batch=False),
    Case("MatMul", {"a": (4, 3), "b": (4, 5)}, {"transpose_a": True}, batch=False),
    Case("MatMul", {"a": (4, 3), "b": (5, 4)}, {"transpose_a": True, "transpose_b": True}, batch=False),
    Case("MatMul", {"a": (2, 3, 4), "b": (4, 5)}, batch=False),
    Case("MatMul", {"a": (2, 3, 4), "b": (2, 4, 5)}),
    Case("MatMul", {"a": (4,), "b": (4, 5)}, batch=False),
    Case("MatMul", {"a": (3, 4), "b": (4,)}, batch=False),
    Case("MatMul", {"a": (4,), "b": (4,)}, batch=False),
    Case("Transpose", {"x": (2, 3, 4)}, {"axes": None}),
    Case("Transpose", {"x": (2, 3, 4)}, {"axes": [0, 2, 1]}),
    Case("Reshape", {"x": (2, 6)}, {"shape": [3, 4]}, batch=False),
    Case("Reshape", {"x": (2, 6)}, {"shape": ["N", 3, -1]}),
    Case("Flatten", {"x": (2, 3, 4)}),
    Case("Concat", {"x1": (2, 3), "x2": (2, 4)}, {"axis": -1}),
    Case("Concat", {"x1": (2, 3), "x2": (1, 3), "x3": (3, 3)}, {"axis": 0, "n": 3}, batch=False),
    Case("Sum", {"x": (2, 3, 4)}),
    Case("Sum", {"x": (2, 3, 4)}, {"axes": 1}),
    Case("Sum", {"x": (2, 3, 4)}, {"axes": [0, 2], "keepdims": True}),
    Case("Mean", {"x": (2, 3, 4)}),
    Case("Mean", {"x": (2, 3, 4)}, {"axes": -1, "keepdims": True}),
    Case("Max", {"x": (2, 3, 4)}),
    Case("Max", {"x": (2, 3, 4)}, {"axes": [1, 2]}),
    Case("Softmax", {"x": (3, 5)}),
    Case("Softmax", {"x": (3, 5)}, {"axis": 0}),
    Case("LogSoftmax", {"x": (3, 5)}),
    Case("LogSoftmax", {"x": (2, 3, 5)}, {"axis": 1}),
    *[Case("Dense", {"x": (3, 4)}, {"units": 5, "activation": a})
      for a in ("none", "relu", "tanh", "sigmoid", "leaky_relu", "elu", "softplus", "softmax")],
    Case("Dense", {"x": (3, 4)}, {"units": 2, "use_bias": False, "init": "he_normal"}),
    Case("Dense", {"x": (2, 3, 4)}, {"units": 2}),
    Case("Conv", {"x": (2, 2, 5, 5), "w": (3, 2, 3, 3)}, batch=False),
    Case("Conv", {"x": (2, 2, 6, 5), "w": (3, 2, 3, 2)}, {"stride": 2, "padding": 1}, batch=False),
    Case("Conv2D", {"x": (2, 2, 6, 6)}, {"filters": 3, "kernel_size": 3, "padding": 1}),
    Case("Conv2D", {"x": (2, 1, 7, 7)}, {"filters": 2, "kernel_size": 3, "stride": 2, "padding": 0,
                                          "activation": "tanh", "use_bias": False}),
    Case("MaxPool2D", {"x": (2, 2, 6, 6)}),
    Case("MaxPool2D", {"x": (2, 2, 7, 7)}, {"size": 3, "stride": 2}),
    Case("Dropout", {"x": M}, {"rate": 0.5}, training=True),
    Case("Dropout", {"x": M}, {"rate": 0.3}),
    Case("Embedding", {"ids": (2, 3)}, {"num_embeddings": 5, "dim": 4, "dtype": "float64"}, ints={"ids": 5}),
    Case("Gather", {"table": (5, 4), "ids": (2, 3)}, ints={"ids": 5}, batch=False),
    Case("SoftmaxCrossEntropy", {"logits": (4, 5), "labels": (4,)}, ints={"labels": 5}),
    Case("PickLabels", {"x": (4, 5), "labels": (4,)}, ints={"labels": 5}),
    Case("BinaryCrossEntropy", {"logits": (4, 1), "targets": (4, 1)}, binary=("targets",)),
    Case("BinaryCrossEntropy", {"logits": (6,), "targets": (6,)}, binary=("targets",)),
    Case("MSE", {"pred": (4, 3), "target": (4, 3)}),
    Case("SumLike", {"x": (3, 4), "like": (4,)}, batch=False),
    Case("SumLike", {"x": (2, 3, 4), "like": (3, 1)}, batch=False),
    Case("BroadcastLike", {"x": (3,), "like": (3, 4)}, {"axes": 1}, batch=False),
    Case("BroadcastLike", {"x": (3, 1), "like": (3, 4)}, {"axes": 1, "keepdims": True}),
    Case("ReshapeLike", {"x": (12,), "like": (3, 4)}, batch=False),    Case("Slice", {"x": (2, 5)}, {"axis": 1, "start": 1, "stop": 4}),
    Case("ScatterAdd", {"g": (2, 3, 4), "ids": (2, 3), "like": (5, 4)}, ints={"ids": 5}, batch=False),
    Case("ConvGradInput", {"g": (2, 3, 3, 3), "w": (3, 2, 3, 3), "like": (2, 2, 5, 5)}, batch=False),
    Case("ConvGradKernel", {"x": (2, 2, 5, 5), "g": (2, 3, 3, 3), "like": (3, 2, 3, 3)}, batch=False),
    Case("MaxPoolGrad", {"g": (2, 2, 3, 3), "x": (2, 2, 6, 6)}),
    Case("SoftmaxXentGrad", {"logits": (4, 5), "labels": (4,)}, ints={"labels": 5}),
    Case("Slice", {"x": (2, 5, 3)}, {"axis": 2, "start": 0, "stop": 2}),
    Case("UnSlice", {"g": (2, 3), "like": (2, 5)}, {"axis": 1, "start": 1, "stop": 4}),
    Case("ConvGradInput", {"g": (2, 3, 3, 3), "w": (3, 2, 3, 2), "like": (2, 2, 6, 5)},
         {"stride": 2, "padding": 1}, batch=False),
    Case("ConvGradKernel", {"x": (2, 2, 6, 5), "g": (2, 3, 3, 3), "like": (3, 2, 3, 2)},
         {"stride": 2, "padding": 1}, batch=False),
    Case("MaxPoolGrad", {"g": (2, 2, 3, 3), "x": (2, 2, 7, 7)}, {"size": 3, "stride": 2}),
    Case("MaxPoolPick", {"h": (2, 2, 6, 6), "x": (2, 2, 6, 6)}),
]

# Forward-only cases for ops without gradients.
FORWARD_ONLY = [
    Case("Accuracy", {"scores": (6, 3), "labels": (6,)}, ints={"labels": 3}),
    Case("Accuracy", {"scores": (6, 1), "labels": (6, 1)}, binary=("labels",)),
    Case("Greater", {"a": M, "b": M}), Case("GreaterEqual", {"a": M, "b": (4,)}, batch=False),
    Case("Equal", {"a": M, "b": M}), Case("Sign", {"x": M}),
    Case("Argmax", {"x": (5, 4)}), Case("Argmax", {"x": (2, 3, 4)}, {"axis": 1}, batch=False),
    Case("InRange", {"x": M}, {"lo": -0.5, "hi": 0.5}),
    Case("Size", {"x": (2, 3, 4)}, {"axes": [0, 2]}),
    Case("OneHot", {"labels": (4,), "like": (4, 3)}, ints={"labels": 3}),
    Case("DropoutMask", {"x": M}, {"rate": 0.5}),
    Case("Argmax", {"x": (3, 5)}, {"axis": -1, "keepdims": True}),
    Case("Fused", {"x1": M, "x2": M}, {"n": 2, "expr": "tanh(x1) * x2 + 1.0", "dtype": "float64"}),
    Case("Fused", {"x1": M, "x2": (4,)}, {"n": 2, "expr": "where(x1 > x2, exp(-abs(x1)), x2 ** 2)",
                                           "dtype": "float64"}, batch=False),
    Case("SpanF1", {"scores": (16, 5), "labels": (16,)}, ints={"labels": 5}),
    Case("RowUpdate", {"table": (5, 4), "ids": (3, 2), "rows": (3, 2, 4), "lr": ()}, ints={"ids": 5},
         batch=False),
]

NOT_DIFFERENTIABLE = {
    "Input": "a source: fed, not computed", "Parameter": "a source: differentiated with respect to",
    "Constant": "a source with no inputs", "Accuracy": "a metric of argmax, piecewise constant",
    "Argmax": "an integer position, piecewise constant",
    "Greater": "a comparison, piecewise constant", "GreaterEqual": "a comparison, piecewise constant",
    "Equal": "a comparison, piecewise constant", "Sign": "piecewise constant",
    "InRange": "piecewise constant", "Size": "counts elements; no input values",
    "OneHot": "built from integer labels", "DropoutMask": "random, not a function of x",
    "Fused": "made by the compiler after differentiation; differentiate() refuses it by name",
    "SpanF1": "a metric of argmax, piecewise constant",
    "RowUpdate": "an optimizer step, made after differentiation",
}
