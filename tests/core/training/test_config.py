"""The training configuration: defaults, and one clear error naming the key for each mistake."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.graph import load_graph
from core.training.config import ConfigError, read_config

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"


@pytest.fixture(scope="module")
def mlp():
    return load_graph(EXAMPLES / "seed_mlp.json")[0]


def test_seed_mlp_config_reads_with_defaults_filled(mlp):
    cfg = read_config(mlp)
    assert (cfg.features, cfg.labels, cfg.loss, cfg.metrics) == ("x", "y", "cost", ("accuracy",))
    assert cfg.optimizer == {"name": "sgd", "lr": 0.1, "momentum": 0.9, "nesterov": False, "weight_decay": 0.0}
    assert cfg.schedule == {"name": "constant"} and cfg.batch_size == 64 and cfg.shuffle is True
    again = read_config(mlp, cfg.to_dict())
    assert again == cfg


def error(graph, **changes) -> ConfigError:
    config = {**graph.training, **changes}
    for key, value in list(changes.items()):
        if value is ...:
            del config[key]
    with pytest.raises(ConfigError) as info:
        read_config(graph, config)
    return info.value


@pytest.mark.parametrize("changes, key", [
    ({"epoch": 3}, "training.epoch: unknown key"),
    ({"features": ...}, "training.features: must name a node"),
    ({"features": "pixels"}, "training.features: the graph has no node 'pixels'"),
    ({"features": "h1"}, "training.features: node 'h1' is a Tanh, not an Input"),
    ({"loss": "h1"}, "training.loss: node 'h1' must give a float scalar"),
    ({"metrics": "accuracy"}, "training.metrics: must be a list"),
    ({"metrics": ["accuracy", "p_y_given_x"]}, "training.metrics[1]: node 'p_y_given_x' must give a scalar"),
    ({"dataset": "digits"}, "training.dataset: must be an object"),
    ({"batch_size": 0}, "training.batch_size: must be a whole number >= 1, got 0"),
    ({"epochs": 2.5}, "training.epochs: must be a whole number"),
    ({"seed": -1}, "training.seed: must be a whole number >= 0"),
    ({"shuffle": "yes"}, "training.shuffle: must be true or false"),
    ({"optimizer": {"name": "adagrad"}}, "training.optimizer.name: must be one of sgd, adam, rmsprop"),
    ({"optimizer": {"name": "sgd", "lr": -1}}, "training.optimizer.lr: must be a number in (0.0"),
    ({"optimizer": {"name": "sgd", "lr": 0.1, "beta1": 0.9}}, "training.optimizer.beta1: not an option of sgd"),
    ({"optimizer": {"name": "sgd", "momentum": 1.0}}, "training.optimizer.momentum: must be a number in [0.0, 1.0)"),
    ({"optimizer": {"name": "sgd", "nesterov": True}}, "training.optimizer.nesterov: Nesterov needs a momentum"),
    ({"optimizer": {"name": "adam", "weight_decay": -0.1}}, "training.optimizer.weight_decay"),
    ({"schedule": {"name": "linear"}}, "training.schedule.name: must be one of constant, step, cosine"),
    ({"schedule": {"name": "step", "every": 0}}, "training.schedule.every: must be a whole number >= 1"),
    ({"schedule": {"name": "cosine", "gamma": 0.5}}, "training.schedule.gamma: not an option of the cosine"),
])
def test_each_mistake_names_its_key(mlp, changes, key):
    assert key in error(mlp, **changes).message


def test_node_errors_carry_the_node(mlp):
    assert error(mlp, loss="h1").node == "h1"
    assert error(mlp, labels="W1").node == "W1"


def test_input_without_batch_dimension_is_refused(mlp):
    graph = mlp.copy()
    graph.set_attr("x", "shape", [7, 64])
    graph.set_attr("y", "shape", [7])
    e = error(graph)
    assert "training.features: Input 'x' must have the batch size N" in e.message and e.node == "x"


def test_missing_configuration_is_one_clear_error(mlp):
    graph = mlp.copy()
    graph.set_training({})
    with pytest.raises(ConfigError, match="no training configuration"):
        read_config(graph)
