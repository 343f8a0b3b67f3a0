"""Convolution and pooling over NCHW images, with the ops their gradients are made of."""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..builder import apply
from ..errors import ShapeError
from ..registry import INTERNAL, register
from ..spec import Attr, OpSpec, ParamDecl, Port
from ..types import TensorType, promote_dtypes, shape_str
from .network import activate, activate_var, activation_attr, param_var
from .sources import INITS

STRIDE = Attr("stride", "int", 1, "step between windows", minimum=1, maximum=16)
PADDING = Attr("padding", "int", 0, "zeros added on each side of H and W", minimum=0, maximum=16)


def _out_len(size, kernel, stride, padding):
    return (size + 2 * padding - kernel) // stride + 1


def _image(x: TensorType, op: str) -> None:
    if x.ndim != 4 or not x.is_float or not all(isinstance(d, int) for d in x.shape[1:]):
        raise ShapeError(f"{op} needs float images (N, C, H, W), got {x}", port="x")


def _windows(x, kh, kw, stride, padding):
    """(N, C, Ho, Wo, kh, kw) view of the padded input's windows."""
    if padding:
        x = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    return sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::stride, ::stride]


# ---- The primitive convolution

def _conv_type(types, stride, padding):
    x, w = types
    _image(x, "Conv")
    if w.ndim != 4 or w.shape[1] != x.shape[1]:
        raise ShapeError(f"kernel {shape_str(w.shape)} does not fit {x.shape[1]} input channels "
                         "(expected (F, C, kh, kw))", port="w")
    ho, wo = (_out_len(x.shape[i + 2], w.shape[i + 2], stride, padding) for i in (0, 1))
    if ho < 1 or wo < 1:
        raise ShapeError(f"a {w.shape[2]}x{w.shape[3]} kernel does not fit images {shape_str(x.shape)}")
    return [TensorType(promote_dtypes(x.dtype, w.dtype), (x.shape[0], w.shape[0], ho, wo))]


def _conv(x, w, stride, padding):
    win = _windows(x, w.shape[2], w.shape[3], stride, padding)
    return np.tensordot(win, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)


def _conv_grad_input(g, w, like, stride, padding):
    n, c, h, wd = like.shape
    padded = np.zeros((n, c, h + 2 * padding, wd + 2 * padding), dtype=np.result_type(g, w))
    ho, wo = g.shape[2], g.shape[3]
    for i in range(w.shape[2]):
        for j in range(w.shape[3]):
            padded[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride] += \
                np.tensordot(g, w[:, :, i, j], axes=([1], [0])).transpose(0, 3, 1, 2)
    return padded[:, :, padding:padding + h, padding:padding + wd]


def _conv_grad_kernel(x, g, like, stride, padding):
    win = _windows(x, like.shape[2], like.shape[3], stride, padding)
    return np.tensordot(g, win, axes=([0, 2, 3], [0, 2, 3]))


def _conv_grad_input_grad(h, g, w, like, y, stride, padding):
    """ConvGradInput is linear in g and in w: <h, A_w^T g> = <conv(h, w), g>."""
    return (apply("Conv", h, w, stride=stride, padding=padding),
            apply("ConvGradKernel", h, g, w, stride=stride, padding=padding), None)


def _conv_grad_kernel_grad(h, x, g, like, y, stride, padding):
    """ConvGradKernel is linear in x and in g: <h, dW(x, g)> = <g, conv(x, h)>."""
    return (apply("ConvGradInput", g, h, x, stride=stride, padding=padding),
            apply("Conv", x, h, stride=stride, padding=padding), None)


def _promoted(*ports: int):
    return lambda types, attrs: [TensorType(promote_dtypes(*(types[i].dtype for i in ports)), types[-1].shape)]


CONV_ATTRS = (STRIDE, PADDING)
register(OpSpec(
    "Conv", "Network", "Primitive 2-D cross-correlation of images x (N, C, H, W) with kernels "
    "w (F, C, kh, kw). Conv2D is the layer that owns w and a bias.",
    (Port("x"), Port("w")), _conv_type, _conv, attrs=CONV_ATTRS,
    grad=lambda g, x, w, y, stride, padding: (
        apply("ConvGradInput", g, w, x, stride=stride, padding=padding),
        apply("ConvGradKernel", x, g, w, stride=stride, padding=padding))))
register(OpSpec(
    "ConvGradInput", INTERNAL, "Gradient of Conv with respect to its images.",
    (Port("g"), Port("w"), Port("like", differentiable=False)), _promoted(0, 1), _conv_grad_input,
    attrs=CONV_ATTRS, hidden=True, grad=_conv_grad_input_grad))
register(OpSpec(
    "ConvGradKernel", INTERNAL, "Gradient of Conv with respect to its kernels.",
    (Port("x"), Port("g"), Port("like", differentiable=False)), _promoted(0, 1), _conv_grad_kernel,
    attrs=CONV_ATTRS, hidden=True, grad=_conv_grad_kernel_grad))


# ---- The Conv2D layer

def _conv2d_params(attrs, types):
    (x,) = types
    _image(x, "Conv2D")
    k = attrs["kernel_size"]
    decls = {"W": ParamDecl((attrs["filters"], x.shape[1], k, k), x.dtype, attrs["init"], 0.1)}
    if attrs["use_bias"]:
        decls["b"] = ParamDecl((attrs["filters"],), x.dtype, "zeros")
    return decls


def _conv2d_type(types, filters, kernel_size, stride, padding):
    (x,) = types
    _image(x, "Conv2D")
    kernel = TensorType(x.dtype, (filters, x.shape[1], kernel_size, kernel_size))
    return _conv_type([x, kernel], stride, padding)


def _conv2d_forward(x, ctx, stride, padding, activation, use_bias):
    y = _conv(x, ctx.param("W"), stride, padding)
    return activate(y + ctx.param("b")[:, None, None] if use_bias else y, activation)


def _conv2d_expand(builder, x, node_id, **attrs):
    decls = _conv2d_params(attrs, [x.type])
    y = apply("Conv", x, param_var(builder, node_id, "W", decls["W"]),
              stride=attrs["stride"], padding=attrs["padding"])
    if attrs["use_bias"]:
        bias = param_var(builder, node_id, "b", decls["b"])
        y = y + apply("Reshape", bias, shape=[attrs["filters"], 1, 1])
    return [activate_var(y, attrs["activation"])]


register(OpSpec(
    "Conv2D", "Network", "Convolution layer over NCHW images: activation(conv(x, W) + b); "
    "owns W (filters, C, k, k) and b.", (Port("x"),), _conv2d_type, _conv2d_forward,
    attrs=(Attr("filters", "int", 8, "output channels", minimum=1, maximum=4096),
           Attr("kernel_size", "int", 3, "height and width of each kernel", minimum=1, maximum=15),
           STRIDE, Attr("padding", "int", 1, "zeros added on each side of H and W", minimum=0, maximum=16),
           activation_attr("relu"), Attr("use_bias", "bool", True, "add a learned bias per filter"),
           Attr("init", "choice", "he_normal", "how W is first drawn", choices=INITS)),
    params=_conv2d_params, expand=_conv2d_expand))


# ---- Max pooling

def _pool_stride(size, stride):
    return stride or size


def _pool_type(types, size, stride):
    (x,) = types
    _image(x, "MaxPool2D")
    s = _pool_stride(size, stride)
    ho, wo = (_out_len(x.shape[i], size, s, 0) for i in (2, 3))
    if ho < 1 or wo < 1:
        raise ShapeError(f"a {size}x{size} window does not fit images {shape_str(x.shape)}")
    return [TensorType(x.dtype, x.shape[:2] + (ho, wo))]


def _maxpool(x, size, stride):
    return _windows(x, size, size, _pool_stride(size, stride), 0).max(axis=(4, 5))


def _shares(x, size, stride):
    """(N, C, Ho, Wo, size, size): each window's maxima, each weighted 1 / (how many tie)."""
    win = _windows(x, size, size, _pool_stride(size, stride), 0)
    hit = win == win.max(axis=(4, 5), keepdims=True)
    return hit / hit.sum(axis=(4, 5), keepdims=True)


def _maxpool_grad(g, x, size, stride):
    """Send each window's gradient to its maximum; tied maxima share it equally."""
    s = _pool_stride(size, stride)
    share = _shares(x, size, stride)
    ho, wo = g.shape[2], g.shape[3]
    dx = np.zeros(x.shape, dtype=np.result_type(g, x))
    for i in range(size):
        for j in range(size):
            dx[:, :, i:i + s * ho:s, j:j + s * wo:s] += g * share[..., i, j]
    return dx


def _maxpool_pick(h, x, size, stride):
    """Per window, h averaged over the positions of x's maxima: the adjoint of MaxPoolGrad in g."""
    win = _windows(h, size, size, _pool_stride(size, stride), 0)
    return (win * _shares(x, size, stride)).sum(axis=(4, 5)).astype(np.result_type(h, x), copy=False)


POOL_ATTRS = (Attr("size", "int", 2, "window height and width", minimum=1, maximum=16),
              Attr("stride", "int", 0, "step between windows (0: the window size)", minimum=0, maximum=16))
register(OpSpec(
    "MaxPool2D", "Network", "Largest value of each size x size window of NCHW images.",
    (Port("x"),), _pool_type, _maxpool, attrs=POOL_ATTRS,
    grad=lambda g, x, y, size, stride: (apply("MaxPoolGrad", g, x, size=size, stride=stride),)))
register(OpSpec(
    "MaxPoolGrad", INTERNAL, "Gradient of MaxPool2D: g routed to each window's maximum (ties share it).",
    (Port("g"), Port("x", differentiable=False)), _promoted(0, 1), _maxpool_grad, attrs=POOL_ATTRS,
    hidden=True, grad=lambda h, g, x, y, size, stride: (apply("MaxPoolPick", h, x, size=size, stride=stride), None)))
register(OpSpec(
    "MaxPoolPick", INTERNAL, "h read at each window's maximum of x (tied maxima averaged): "
    "MaxPoolGrad's gradient.", (Port("h"), Port("x", differentiable=False)),
    lambda types, attrs: [TensorType(promote_dtypes(types[0].dtype, types[1].dtype),
                                     _pool_type([types[1]], **attrs)[0].shape)],
    _maxpool_pick, attrs=POOL_ATTRS, hidden=True,
    grad=lambda k, h, x, y, size, stride: (apply("MaxPoolGrad", k, x, size=size, stride=stride), None)))
