"""One check of a training configuration against its graph and data, before anything runs: `train`,
the editor's Start and `export --to numpy|torch` all refuse the same things with the same messages."""
from __future__ import annotations

from pathlib import Path
from typing import Optional

from core.graph import Graph
from core.training.config import ConfigError, TrainConfig, read_config
from core.training.datasets import Dataset, DatasetError, check_fits, load_dataset
from core.training.text_datasets import check_ids

TRAINING_EXPORTS = ("numpy", "torch")


def check_training(graph: Graph, config: Optional[dict] = None, *, base_dir: Optional[str | Path] = None,
                   dataset: Optional[Dataset] = None) -> tuple[TrainConfig, Dataset]:
    """The checked configuration and its loaded data set.

    Raises ConfigError or DatasetError (naming the key, file or node) for a configuration that
    names missing or wrongly typed nodes or unknown options, or data that does not fit the graph.
    """
    checked = read_config(graph, config)
    data = dataset if dataset is not None else load_dataset(checked.dataset, base_dir)
    check_data(graph, checked, data)
    return checked, data


def check_export(graph: Graph, target: str, base_dir: Optional[str | Path] = None) -> None:
    """Refuse exporting a training script for a configuration `train` would refuse.

    A graph without a training configuration exports its forward pass alone, unchecked here.
    """
    if target in TRAINING_EXPORTS and graph.training:
        check_training(graph, base_dir=base_dir)


def check_data(graph: Graph, config: TrainConfig, data: Dataset) -> None:
    """Refuse, before training starts, data that does not fit the graph's Inputs and loss."""
    types = graph.types()
    inputs = config.feature_inputs
    given = data.features()
    if len(given) != len(inputs):
        names = f" ({', '.join(data.feature_names)})" if data.feature_names else ""
        raise ConfigError(f"training.features: names {len(inputs)} Input{'s' * (len(inputs) > 1)} "
                          f"({', '.join(inputs)}) but dataset '{data.name}' gives {len(given)} feature "
                          f"array{'s' * (len(given) > 1)}{names}; name one Input per array, in that order",
                          node=inputs[0])
    labels = types.get((config.labels, "y")) if config.labels else None
    kind = "none" if labels is None else ("classes" if labels.dtype == "int64" else "targets")
    for part, name in enumerate(inputs):
        check_fits(data, types[(name, "y")].shape[1:], kind, input_name=name, part=part)
    if labels is not None:
        want, got = tuple(labels.shape[1:]), tuple(data.y_train.shape[1:])
        if want != got:
            raise DatasetError(f"dataset '{data.name}' gives labels of shape {got} per sample but Input "
                               f"'{config.labels}' expects {want}", node=config.labels)
    check_ids(graph, inputs, data)
    needed = {n for n in graph.required([config.loss, *config.metrics]) if graph.op_name(n) == "Input"}
    missing = sorted(needed - {*inputs, config.labels})
    if missing:
        key = "labels" if config.labels is None else "features"
        raise ConfigError(f"training.{key}: the loss or a metric needs Input '{missing[0]}', which the data "
                          "set does not feed", node=missing[0])
    if kind == "classes" and data.num_classes:
        for node in graph.nodes:
            if graph.op_name(node) == "SoftmaxCrossEntropy" and graph.source(node, "labels") == (config.labels, "y"):
                width = types[graph.source(node, "logits")].shape[-1]
                if isinstance(width, int) and width < data.num_classes:
                    raise DatasetError(f"dataset '{data.name}' has {data.num_classes} classes but "
                                       f"'{node}' scores only {width}", node=node)
