"""Rebuild the text examples: the SENNA-style window NER tagger and word2vec's skip-gram.

Both read the GermEval 2014 parts shipped in resources/data/germeval2014/ (CC BY 4.0, see its
README). The vocabulary size is written into the Embedding nodes, so it is read from the data here.
Run from the repository root:

    PYTHONPATH=. python resources/examples/make_text_examples.py
"""
from __future__ import annotations

from make_examples import HERE, Sketch, relayout

from core.training.datasets import load_dataset

DATA = "../data/germeval2014/"
NER_DATA = {"name": "conll", "path": DATA + "NER-de-test.tsv.gz", "eval_path": DATA + "NER-de-dev.tsv.gz",
            "window": 2, "casing": "input", "min_count": 2, "lowercase": "yes"}
SKIPGRAM_DATA = {"name": "skipgram", "path": DATA + "NER-de-test.tsv.gz", "window": 2, "negatives": 5,
                 "min_count": 1, "lowercase": "yes", "val_fraction": 0.02}


def ner_window() -> None:
    data = load_dataset(NER_DATA, HERE)
    width = 2 * data.text.window + 1
    s = Sketch("Window NER tagger (GermEval 2014)",
               "Collobert et al.'s window tagger: each token with 2 neighbours on each side, a 50-d word "
               "embedding and an 8-d casing embedding (word and casing ids arrive as two Inputs), one tanh layer of 100 units and a softmax over the "
               "outer BIO tags; trained on the GermEval test part, scored by span F1 on the development part.")
    s.add("Input", "word_ids", 0, -0.5, shape=["N", width], dtype="int64")
    s.add("Input", "casing_ids", 0, 0.5, shape=["N", width], dtype="int64")
    s.add("Embedding", "words", 1, -0.5, num_embeddings=len(data.text.vocab), dim=50)
    s.add("Embedding", "casing", 1, 0.5, num_embeddings=8, dim=8)
    s.add("Concat", "window", 3, 0, axis=2)
    s.add("Flatten", "features", 4, 0)
    s.add("Dense", "hidden", 5, 0, units=100, activation="tanh")
    s.add("Dense", "logits", 6, 0, units=len(data.class_names), activation="none")
    s.add("Input", "y", 6, 1.5, shape=["N"], dtype="int64")
    s.wire("word_ids", "words", "ids")
    s.wire("casing_ids", "casing", "ids")
    s.wire("words", "window", "x1")
    s.wire("casing", "window", "x2")
    s.chain("window", "features", "hidden", "logits")
    s.classifier_head("logits", "y", 7)
    s.add("SpanF1", "f1", 7, 2)
    s.wire("logits", "f1", "scores")
    s.wire("y", "f1", "labels")
    s.save("ner_window", {"dataset": NER_DATA, "features": ["word_ids", "casing_ids"], "labels": "y",
                          "loss": "cost", "metrics": ["accuracy", "f1"], "optimizer": {"name": "sgd", "lr": 0.5},
                          "schedule": {"name": "cosine"}, "batch_size": 64, "epochs": 6, "seed": 0,
                          "shuffle": True})


def word2vec_skipgram() -> None:
    data = load_dataset(SKIPGRAM_DATA, HERE)
    negatives = SKIPGRAM_DATA["negatives"]
    s = Sketch("word2vec skip-gram with negative sampling",
               "Mikolov et al.'s skip-gram: each row is a center word, a word seen within 2 tokens of it and "
               f"{negatives} noise words drawn from unigram^0.75. Two tables score center . context high and "
               "center . noise low: loss = softplus(-s_context) + sum softplus(s_noise). `main.py train "
               "word2vec_skipgram.json --save-vectors v.txt` writes the center table for ner_window.")
    s.add("Input", "x", 0, 0, shape=["N", 2 + negatives], dtype="int64")
    s.add("Slice", "center_id", 1, -0.5, axis=1, start=0, stop=1)
    s.add("Slice", "other_ids", 1, 0.5, axis=1, start=1, stop=2 + negatives)
    s.add("Embedding", "center", 2, -0.5, num_embeddings=len(data.text.vocab), dim=50)
    s.add("Embedding", "context", 2, 0.5, num_embeddings=len(data.text.vocab), dim=50)
    s.add("Mul", "products", 3, 0)
    s.add("Sum", "scores", 4, 0, axes=[2])
    s.add("Constant", "signs", 4, 1, value=[[-1.0] + [1.0] * negatives])
    s.add("Mul", "signed", 5, 0)
    s.add("Softplus", "losses", 6, 0)
    s.add("Sum", "per_row", 7, 0, axes=[1])
    s.add("Mean", "cost", 8, 0)
    s.wire("x", "center_id", "x")
    s.wire("x", "other_ids", "x")
    s.wire("center_id", "center", "ids")
    s.wire("other_ids", "context", "ids")
    s.wire("center", "products", "a")
    s.wire("context", "products", "b")
    s.wire("products", "scores", "x")
    s.wire("scores", "signed", "a")
    s.wire("signs", "signed", "b")
    s.chain("signed", "losses", "per_row", "cost")
    s.save("word2vec_skipgram", {"dataset": SKIPGRAM_DATA, "features": "x", "labels": None, "loss": "cost",
                                 "metrics": [], "optimizer": {"name": "sgd", "lr": 5.0},
                                 "batch_size": 256, "epochs": 5, "seed": 0, "shuffle": True})


if __name__ == "__main__":
    for make in (ner_window, word2vec_skipgram):
        make()
        relayout(make.__name__)
        print("wrote", make.__name__)
