"""The training configuration stored in a graph file: its schema, defaults and validation.

`read_config(graph)` checks `graph.training` against the graph and returns a `TrainConfig`;
every problem is a `ConfigError` whose message starts with the key that is wrong.
docs/training.md documents the schema.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Optional

from core.graph import Graph, GraphError, LoomError
from core.graph.errors import quoted

from .references import reference_diagnostics


# Per optimizer: its hyper-parameters and their defaults (PyTorch's, where it has one).
OPTIMIZER_DEFAULTS: dict[str, dict[str, Any]] = {
    "sgd": {"lr": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0},
    "adam": {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.0},
    "rmsprop": {"lr": 0.01, "rho": 0.99, "eps": 1e-8, "weight_decay": 0.0},
}
SCHEDULE_DEFAULTS: dict[str, dict[str, Any]] = {
    "constant": {},
    "step": {"every": 10, "gamma": 0.1},
    "cosine": {"min_lr": 0.0},
}
TOP_LEVEL = ("dataset", "features", "labels", "loss", "metrics", "optimizer", "schedule",
             "batch_size", "epochs", "seed", "shuffle")


class ConfigError(LoomError):
    """A training configuration that cannot be used; the message names the key (and node)."""


@dataclass(frozen=True)
class TrainConfig:
    """A checked training configuration with every default filled in."""

    dataset: dict
    features: str | tuple[str, ...]     # one Input, or several fed by the data set's arrays in order
    labels: Optional[str]
    loss: str
    metrics: tuple[str, ...]
    optimizer: dict = field(default_factory=dict)
    schedule: dict = field(default_factory=dict)
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0
    shuffle: bool = True

    @property
    def feature_inputs(self) -> tuple[str, ...]:
        """The Inputs the data set's feature arrays feed, in order (one for a single `features` name)."""
        return (self.features,) if isinstance(self.features, str) else self.features

    def to_dict(self) -> dict:
        """The configuration as the JSON the graph file stores."""
        features = self.features if isinstance(self.features, str) else list(self.features)
        return {"dataset": dict(self.dataset), "features": features, "labels": self.labels,
                "loss": self.loss, "metrics": list(self.metrics), "optimizer": dict(self.optimizer),
                "schedule": dict(self.schedule), "batch_size": self.batch_size, "epochs": self.epochs,
                "seed": self.seed, "shuffle": self.shuffle}


def read_config(graph: Graph, config: Optional[dict] = None) -> TrainConfig:
    """Check a training configuration (default: `graph.training`) against `graph`.

    Parameters
    ----------
    graph: the user's graph (layers not yet expanded).
    config: the configuration dict; None reads `graph.training`.

    Returns
    -------
    TrainConfig with defaults filled in.

    Raises
    ------
    ConfigError naming the key, and the node where one is involved; GraphError for an invalid graph.
    """
    errors = [d for d in graph.validate() if d.severity == "error"]
    if errors:
        raise GraphError(f"fix the graph before training: {errors[0].message}", node=errors[0].node,
                         port=errors[0].port)
    config = graph.training if config is None else config
    if not isinstance(config, dict) or not config:
        raise ConfigError("training: the graph has no training configuration (see docs/training.md)")
    unknown = [k for k in config if k not in TOP_LEVEL]
    if unknown:
        raise ConfigError(f"training.{unknown[0]}: unknown key (known: {', '.join(TOP_LEVEL)})")
    dataset = config.get("dataset")
    if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
        raise ConfigError("training.dataset: must be an object with a \"name\", e.g. {\"name\": \"xor\"}")
    metrics = config.get("metrics", [])
    problems = reference_diagnostics(graph, config)
    if problems:
        raise ConfigError(problems[0].message, node=problems[0].node)
    return TrainConfig(
        dataset=dict(dataset), features=_features(config["features"]), labels=config.get("labels"),
        loss=config["loss"], metrics=tuple(metrics),
        optimizer=_optimizer(config.get("optimizer", {"name": "sgd"})),
        schedule=_schedule(config.get("schedule", {"name": "constant"})),
        batch_size=_integer(config, "batch_size", 32, 1),
        epochs=_integer(config, "epochs", 10, 1),
        seed=_integer(config, "seed", 0, 0),
        shuffle=_boolean(config, "shuffle", True, "training.shuffle"))


def _features(value: str | list) -> str | tuple[str, ...]:
    """A single Input name as it is; a list of several as a tuple (a list of one means that one name)."""
    if isinstance(value, str):
        return value
    return value[0] if len(value) == 1 else tuple(value)


def _integer(config: dict, key: str, default: int, minimum: int, where: str = "") -> int:
    value = config.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{where or 'training.' + key}: must be a whole number >= {minimum}, got {quoted(value)}")
    return value


def _boolean(config: dict, key: str, default: bool, where: str) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise ConfigError(f"{where}: must be true or false, got {quoted(value)}")
    return value


def _number(config: dict, key: str, default: float, where: str, low: float, high: float = math.inf,
            open_low: bool = False, open_high: bool = False) -> float:
    value = config.get(key, default)
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if ok:
        ok = (value > low if open_low else value >= low) and (value < high if open_high else value <= high)
    if not ok:
        bounds = f"{'(' if open_low else '['}{low}, {high}{')' if open_high or high == math.inf else ']'}"
        raise ConfigError(f"{where}: must be a number in {bounds}, got {quoted(value)}")
    return float(value)


def _named(config: Any, section: str, table: dict, default: str, owner: str) -> tuple[str, dict]:
    """The `name` of an optimizer or schedule section and its defaults; refuses unknown names and keys."""
    name = config.get("name", default) if isinstance(config, dict) else config
    if not isinstance(config, dict) or not isinstance(name, str) or name not in table:
        raise ConfigError(f"training.{section}.name: must be one of {', '.join(table)}, got {quoted(name)}")
    defaults = table[name]
    unknown = [k for k in config if k != "name" and k not in defaults]
    if unknown:
        raise ConfigError(f"training.{section}.{unknown[0]}: not an option of {owner.format(name=name)}"
                          + (f" (options: {', '.join(defaults)})" if defaults else ""))
    return name, defaults


def _optimizer(config: Any) -> dict:
    name, defaults = _named(config, "optimizer", OPTIMIZER_DEFAULTS, "sgd", "{name}")
    out: dict[str, Any] = {"name": name}
    for key, default in defaults.items():
        where = f"training.optimizer.{key}"
        if isinstance(default, bool):
            out[key] = _boolean(config, key, default, where)
        elif key == "lr":
            out[key] = _number(config, key, default, where, 0.0, open_low=True)
        elif key == "eps":
            out[key] = _number(config, key, default, where, 0.0, 1.0, open_low=True)
        elif key == "weight_decay":
            out[key] = _number(config, key, default, where, 0.0)
        else:
            out[key] = _number(config, key, default, where, 0.0, 1.0, open_high=True)
    if out.get("nesterov") and out["momentum"] == 0:
        raise ConfigError("training.optimizer.nesterov: Nesterov needs a momentum > 0")
    return out


def _schedule(config: Any) -> dict:
    name, defaults = _named(config, "schedule", SCHEDULE_DEFAULTS, "constant", "the {name} schedule")
    out: dict[str, Any] = {"name": name}
    if name == "step":
        out["every"] = _integer(config, "every", defaults["every"], 1, "training.schedule.every")
        out["gamma"] = _number(config, "gamma", defaults["gamma"], "training.schedule.gamma", 0.0, 1.0,
                               open_low=True)
    elif name == "cosine":
        out["min_lr"] = _number(config, "min_lr", defaults["min_lr"], "training.schedule.min_lr", 0.0)
    return out


def learning_rate(config: TrainConfig, step: int, steps_per_epoch: int, total_steps: int) -> float:
    """The learning rate for global step `step` (0-based) under the configured schedule.

    step: lr * gamma ** (epoch // every); cosine: min_lr + (lr - min_lr) * (1 + cos(pi * step / total)) / 2.
    """
    lr = config.optimizer["lr"]
    schedule = config.schedule
    if schedule["name"] == "step":
        return lr * schedule["gamma"] ** ((step // steps_per_epoch) // schedule["every"])
    if schedule["name"] == "cosine":
        low = schedule["min_lr"]
        return low + (lr - low) * 0.5 * (1.0 + math.cos(math.pi * min(step, total_steps) / max(total_steps, 1)))
    return lr
