"""Proposing a training configuration from a graph's structure, and the checks of its node references."""
from __future__ import annotations

from pathlib import Path

import pytest

from core.graph import Graph, load_graph
from core.training import read_config
from core.training.propose import propose_training
from core.training.references import reference_diagnostics, rename_references

EXAMPLES = Path(__file__).resolve().parents[3] / "resources" / "examples"
REFERENCES = ("features", "labels", "loss", "metrics")


@pytest.mark.parametrize("name", ["seed_mlp", "spirals", "autoencoder", "digits_cnn", "logistic_regression"])
def test_the_proposal_finds_the_nodes_each_example_was_written_with(name):
    graph, _ = load_graph(EXAMPLES / f"{name}.json")
    written = graph.training
    graph.set_training({})
    proposal = propose_training(graph)
    assert proposal.complete, proposal.missing
    assert {k: proposal.config[k] for k in REFERENCES} == {k: written.get(k, []) for k in REFERENCES}
    assert read_config(graph, proposal.config).loss == written["loss"]     # the proposal can be trained


def test_the_digits_are_proposed_for_64_features_and_an_autoencoder_targets_its_input():
    mlp, _ = load_graph(EXAMPLES / "seed_mlp.json")
    assert propose_training(mlp).config["dataset"] == {"name": "digits", "layout": "flat"}
    auto, _ = load_graph(EXAMPLES / "autoencoder.json")
    assert propose_training(auto).config["dataset"]["target"] == "features"


def test_what_cannot_be_guessed_is_said():
    graph = Graph()
    assert any("add an Input" in m for m in propose_training(graph).missing)
    graph.add_node("Input", {"shape": ["N", 3]}, node_id="a")
    graph.add_node("Input", {"shape": ["N", 3]}, node_id="b")
    missing = propose_training(graph).missing
    assert any("several Inputs" in m and "a, b" in m for m in missing)
    assert any("add a loss" in m for m in missing)
    graph.remove_node("b")
    proposal = propose_training(graph)
    assert proposal.config["features"] == "a" and proposal.config["dataset"] == {"name": "csv"}
    assert any("shape [3]" in m and "CSV or NPZ" in m for m in proposal.missing)


def test_reference_problems_name_the_key_and_the_node():
    graph, _ = load_graph(EXAMPLES / "seed_mlp.json")
    assert reference_diagnostics(graph) == []
    graph.remove_node("cost")
    problems = reference_diagnostics(graph)
    assert [(d.node, d.message) for d in problems] == [(None, "training.loss: the graph has no node 'cost'")]
    graph.set_training({**graph.training, "loss": "h1", "metrics": ["accuracy", "x"]})
    messages = [d.message for d in reference_diagnostics(graph)]
    assert messages[0].startswith("training.loss: node 'h1' must give a float scalar")
    assert messages[1].startswith("training.metrics[1]: node 'x' must give a scalar")
    assert [d.node for d in reference_diagnostics(graph)] == ["h1", "x"]


def test_an_empty_configuration_is_no_problem():
    graph, _ = load_graph(EXAMPLES / "seed_mlp.json")
    graph.set_training({})
    assert reference_diagnostics(graph) == []


def test_rename_touches_only_the_references_to_the_old_name():
    config = {"features": "x", "labels": "y", "loss": "cost", "metrics": ["cost", "acc"], "dataset": {"name": "x"}}
    renamed = rename_references(config, "cost", "loss")
    assert renamed == {**config, "loss": "loss", "metrics": ["loss", "acc"]}
    assert config["loss"] == "cost"        # the original is left as it was


def test_the_loss_picker_offers_every_float_scalar_and_the_proposal_prefers_the_loss_ops():
    from core.training.propose import float_scalar_nodes, loss_candidates

    graph, _ = load_graph(EXAMPLES / "seed_mlp.json")
    graph.add_node("Mean", node_id="mean_h1")
    graph.connect("h1", "y", "mean_h1", "x")
    assert float_scalar_nodes(graph) == ["cost", "mean_h1"]          # Accuracy has no gradient: not offered
    assert loss_candidates(graph) == ["cost"]
    graph.remove_node("cost")
    assert loss_candidates(graph) == ["mean_h1"]                       # no loss op: a float scalar that feeds nothing
