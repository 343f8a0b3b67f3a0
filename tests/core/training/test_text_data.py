"""The text reader, vocabulary, casing classes and windows, on small files written here."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

from core.training.datasets import DatasetError, load_dataset
from core.training.text_data import CASINGS, Vocabulary, casing, read_tagged, windows

GERMEVAL = """# http://example.org [2009-10-17]
1\tSchartau\tB-PER\tO
2\tsagte\tO\tO
3\tin\tO\tO
4\tBerlin\tB-LOC\tO
5\t.\tO\tO

# second
1\tDie\tO\tO
2\tEU\tB-ORG\tB-LOC
3\t2009\tO\tO

"""


def write(tmp_path, name, text, zipped=False):
    path = tmp_path / name
    if zipped:
        path.write_bytes(gzip.compress(text.encode("utf-8")))
    else:
        path.write_text(text, encoding="utf-8")
    return path


def test_reads_germeval_plain_and_gzip_alike(tmp_path):
    plain = read_tagged(write(tmp_path, "a.tsv", GERMEVAL), "a.tsv")
    zipped = read_tagged(write(tmp_path, "a.tsv.gz", GERMEVAL, zipped=True), "a.tsv.gz")
    assert plain == zipped
    assert [s.tokens for s in plain] == [("Schartau", "sagte", "in", "Berlin", "."), ("Die", "EU", "2009")]
    assert plain[1].tags == ("O", "B-ORG", "O") and plain[1].lines == (9, 10, 11)


def test_reads_plain_conll_and_chosen_columns(tmp_path):
    text = "-DOCSTART- -X- O O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\nPeter NNP B-NP B-PER\n"
    sentences = read_tagged(write(tmp_path, "c.txt", text), "c.txt", "conll")
    assert [s.tags for s in sentences] == [("B-ORG", "O"), ("B-PER",)]
    chunks = read_tagged(write(tmp_path, "c.txt", text), "c.txt", "conll", token_column=1, tag_column=2)
    assert chunks[0].tokens == ("NNP", "VBZ") and chunks[0].tags == ("B-NP", "B-VP")


@pytest.mark.parametrize("text, line, message", [
    ("1\tBerlin\n", 1, "2 column"),
    ("1\tBerlin\tB-LOC\tO\n2\tliegt\tX-LOC\tO\n", 2, "not O, B-TYPE or I-TYPE"),
    ("1\tBerlin\tB-LOC\tO\n2\t \tO\tO\n", 2, "empty token"),
    ("# only a comment\n\n", None, "no tagged sentences"),
])
def test_reader_errors_name_file_and_line(tmp_path, text, line, message):
    path = write(tmp_path, "bad.tsv", text)
    with pytest.raises(DatasetError, match=message) as error:
        read_tagged(path, "bad.tsv")
    assert error.value.file == str(path) and "bad.tsv" in str(error.value)
    if line:
        assert error.value.line == line and f"line {line}" in str(error.value)


def test_reader_refuses_broken_gzip_and_non_utf8(tmp_path):
    broken = tmp_path / "broken.tsv.gz"
    broken.write_bytes(gzip.compress(GERMEVAL.encode())[:40])
    with pytest.raises(DatasetError, match="broken.tsv.gz: cannot be read"):
        read_tagged(broken, "broken.tsv.gz")
    latin = tmp_path / "latin.tsv"
    latin.write_bytes("1\tKöln\tB-LOC\tO\n".encode("latin-1"))
    with pytest.raises(DatasetError, match="latin.tsv, line 1: not UTF-8") as error:
        read_tagged(latin, "latin.tsv")
    assert error.value.line == 1


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match="nowhere.tsv: file not found"):
        load_dataset({"name": "conll", "path": "nowhere.tsv"}, tmp_path)


@pytest.mark.parametrize("token, expected", [
    ("2009", "numeric"), ("3.5", "mainly_numeric"), ("12a", "mainly_numeric"), ("berlin", "all_lower"),
    ("EU", "all_upper"), ("Berlin", "initial_upper"), ("x1Y", "contains_digit"), ("iPhone", "other"),
    (".", "other")])
def test_casing_classes(token, expected):
    assert CASINGS[casing(token)] == expected


def test_vocabulary_is_deterministic_and_normalizes(tmp_path):
    sentences = read_tagged(write(tmp_path, "a.tsv", GERMEVAL * 3), "a.tsv")
    first = Vocabulary.build(sentences, min_count=1)
    again = Vocabulary.build(list(reversed(sentences)), min_count=1)
    assert first == again
    assert first.words[:2] == ("<PAD>", "<UNK>") and "0000" in first.words and "berlin" in first.words
    cased = Vocabulary.build(sentences, lowercase=False)
    assert "Berlin" in cased.words and "berlin" not in cased.words
    assert list(Vocabulary.build(sentences, max_size=4).words) == ["<PAD>", "<UNK>", *sorted(first.words[2:4])]
    assert Vocabulary.build(sentences, min_count=4).words == ("<PAD>", "<UNK>")
    assert first.ids(["Berlin", "Paris", "1999"]).tolist() == [first.index["berlin"], 1, first.index["0000"]]


def test_windows_pad_at_sentence_boundaries(tmp_path):
    sentences = read_tagged(write(tmp_path, "a.tsv", GERMEVAL), "a.tsv")
    vocab = Vocabulary.build(sentences)
    x = windows(sentences, vocab, 2, with_casing=True)
    assert x.shape == (8, 10) and x.dtype == np.int64
    ids = {w: vocab.index[w] for w in ("schartau", "sagte", "in", "berlin", ".", "die", "eu", "0000")}
    assert x[0, :5].tolist() == [0, 0, ids["schartau"], ids["sagte"], ids["in"]]
    assert x[4, :5].tolist() == [ids["in"], ids["berlin"], ids["."], 0, 0]
    assert x[5, :5].tolist() == [0, 0, ids["die"], ids["eu"], ids["0000"]]   # no words of the sentence before
    pad = CASINGS.index("padding")
    assert x[5, 5:].tolist() == [pad, pad, CASINGS.index("initial_upper"), CASINGS.index("all_upper"),
                                 CASINGS.index("numeric")]
    assert windows(sentences, vocab, 0, with_casing=False)[:, 0].tolist() == vocab.ids(
        [t for s in sentences for t in s.tokens]).tolist()


def test_conll_data_set_splits_by_file_or_by_seeded_sentences(tmp_path):
    write(tmp_path, "train.tsv", GERMEVAL * 5)
    write(tmp_path, "dev.tsv", GERMEVAL.replace("Schartau", "Merkel"))
    data = load_dataset({"name": "conll", "path": "train.tsv", "eval_path": "dev.tsv", "window": 1,
                         "casing": "no"}, tmp_path)
    assert data.x_train.shape == (40, 3) and data.x_val.shape == (8, 3)
    assert data.class_names == ("O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER")
    assert data.y_val[:5].tolist() == [5, 0, 0, 1, 0]
    assert "merkel" not in data.text.vocab.words and data.x_val[0, 1] == 1    # UNK: vocabulary from training
    a = load_dataset({"name": "conll", "path": "train.tsv", "val_fraction": 0.4, "seed": 3}, tmp_path)
    b = load_dataset({"name": "conll", "path": "train.tsv", "val_fraction": 0.4, "seed": 3}, tmp_path)
    assert np.array_equal(a.x_val, b.x_val) and len(a.text.val_sentences) == 4
    assert len(a.x_train) + len(a.x_val) == 40 and a.x_train.shape[1] == 10
