"""Tests of core.training.datasets and data_files: built-in sets, CSV/npz files, and located errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.graph.errors import LoomError
from core.training.datasets import DATASETS, Dataset, DatasetError, check_fits, load_dataset

PLANAR = {"xor": 2, "blobs": 3, "moons": 2, "circles": 2, "spirals": 2}


def knn_accuracy(ds: Dataset, k: int = 5) -> float:
    """Accuracy on the validation part of a k-nearest-neighbour vote over the training part."""
    dist = ((ds.x_val[:, None, :] - ds.x_train[None, :, :]) ** 2).sum(axis=-1)
    nearest = ds.y_train[np.argsort(dist, axis=1)[:, :k]]
    votes = np.apply_along_axis(np.bincount, 1, nearest, minlength=ds.num_classes)
    return float(np.mean(votes.argmax(axis=1) == ds.y_val))


def linear_accuracy(ds: Dataset) -> float:
    """Validation accuracy of a least-squares linear classifier on one-hot targets."""
    def design(x):
        return np.hstack([x, np.ones((len(x), 1))])

    weights, *_ = np.linalg.lstsq(design(ds.x_train), np.eye(ds.num_classes)[ds.y_train], rcond=None)
    return float(np.mean((design(ds.x_val) @ weights).argmax(axis=1) == ds.y_val))


def all_rows(ds: Dataset) -> tuple[np.ndarray, np.ndarray]:
    return np.concatenate([ds.x_train, ds.x_val]), np.concatenate([ds.y_train, ds.y_val])


def error_of(config: dict, base_dir=None) -> str:
    with pytest.raises(DatasetError) as info:
        load_dataset(config, base_dir)
    assert isinstance(info.value, LoomError)
    return info.value.message


# ---- built-in sets


@pytest.mark.parametrize("name", sorted(PLANAR))
def test_planar_sets_have_house_shapes_and_dtypes(name):
    ds = load_dataset({"name": name})
    samples = {o.name: o.default for o in DATASETS[name].options}["samples"]
    n_val = round(samples * 0.2)
    assert ds.x_train.shape == (samples - n_val, 2) and ds.x_val.shape == (n_val, 2)
    assert ds.x_train.dtype == np.float32 and ds.y_train.dtype == np.int64 and ds.y_val.dtype == np.int64
    assert ds.num_classes == PLANAR[name] and ds.feature_shape == (2,)
    _, y = all_rows(ds)
    assert set(np.unique(y)) == set(range(PLANAR[name]))
    assert np.abs(all_rows(ds)[0]).max() < 1.5
    assert ds.description == f"{name}: {PLANAR[name]} classes, 2 features, {samples - n_val} train / {n_val} val"


@pytest.mark.parametrize("name", sorted(PLANAR))
def test_planar_sets_are_learnable_by_nearest_neighbours(name):
    assert knn_accuracy(load_dataset({"name": name})) > 0.9


def test_spirals_and_xor_need_a_nonlinear_model():
    for name in ("spirals", "xor", "circles"):
        assert linear_accuracy(load_dataset({"name": name})) < 0.75, name


def test_blobs_are_separated_by_class_means():
    ds = load_dataset({"name": "blobs", "classes": 4})
    means = np.stack([ds.x_train[ds.y_train == c].mean(axis=0) for c in range(4)])
    nearest = ((ds.x_val[:, None, :] - means) ** 2).sum(axis=-1).argmin(axis=1)
    assert ds.num_classes == 4 and np.mean(nearest == ds.y_val) > 0.9


@pytest.mark.parametrize("name", sorted(PLANAR) + ["digits"])
def test_same_config_gives_identical_arrays_and_another_seed_differs(name):
    first, again = load_dataset({"name": name, "seed": 3}), load_dataset({"name": name, "seed": 3})
    other = load_dataset({"name": name, "seed": 4})
    for field in ("x_train", "y_train", "x_val", "y_val"):
        assert getattr(first, field).tobytes() == getattr(again, field).tobytes()
    assert not np.array_equal(first.x_train, other.x_train)


def test_split_sizes_follow_val_fraction_and_parts_are_disjoint():
    ds = load_dataset({"name": "moons", "samples": 500, "val_fraction": 0.3})
    assert (len(ds.x_train), len(ds.x_val)) == (350, 150) and (len(ds.y_train), len(ds.y_val)) == (350, 150)
    train_rows = {row.tobytes() for row in ds.x_train}
    assert not any(row.tobytes() in train_rows for row in ds.x_val)


def test_noise_option_spreads_points():
    quiet = load_dataset({"name": "circles", "noise": 0.0})
    radius = np.linalg.norm(all_rows(quiet)[0], axis=1)
    _, y = all_rows(quiet)
    assert radius[y == 1].max() <= 0.5 + 1e-6 and radius[y == 0].min() >= 0.7 - 1e-6
    loud = load_dataset({"name": "circles", "noise": 0.5})
    assert np.linalg.norm(all_rows(loud)[0], axis=1).max() > 1.2


def test_digits_flat_matches_scikit_learn_scaled_to_unit_range():
    from sklearn.datasets import load_digits

    ds = load_dataset({"name": "digits"})
    x, y = all_rows(ds)
    truth = load_digits()
    assert len(x) == 1797 and ds.num_classes == 10 and ds.feature_shape == (64,)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() == 1.0
    ours = np.lexsort(np.column_stack([x, y]).T)
    theirs = np.lexsort(np.column_stack([truth.data / 16.0, truth.target]).T)
    np.testing.assert_allclose(x[ours], truth.data[theirs] / 16.0, rtol=1e-6)
    np.testing.assert_array_equal(y[ours], truth.target[theirs])


def test_digits_load_without_importing_scikit_learn():
    """Importing scikit-learn takes seconds; the digits' CSV is read where it keeps it."""
    code = ("import sys; from core.training.datasets import load_dataset; "
            "load_dataset({'name': 'digits'}); print('sklearn' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[3])
    assert done.stdout.strip() == "False", done.stderr


def test_digits_fall_back_to_scikit_learn_when_its_data_moved(monkeypatch):
    from core.training import datasets

    want = datasets._digit_arrays()
    datasets._digit_arrays.cache_clear()
    monkeypatch.setattr(datasets, "_sklearn_digits_csv", lambda: None)
    try:
        got = datasets._digit_arrays()
    finally:
        datasets._digit_arrays.cache_clear()
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_digits_image_layout_is_flat_layout_reshaped():
    flat, image = load_dataset({"name": "digits"}), load_dataset({"name": "digits", "layout": "image"})
    assert image.x_train.shape == (len(flat.x_train), 1, 8, 8) and image.feature_shape == (1, 8, 8)
    np.testing.assert_array_equal(image.x_val.reshape(len(image.x_val), 64), flat.x_val)


def test_target_features_makes_an_autoencoder_set():
    ds = load_dataset({"name": "digits", "layout": "image", "target": "features"})
    assert ds.num_classes is None and ds.y_train.dtype == np.float32
    np.testing.assert_array_equal(ds.y_train, ds.x_train)
    assert ds.y_train is not ds.x_train


def test_registry_documents_every_option():
    for info in DATASETS.values():
        common = {"seed", "val_fraction"} | (set() if info.splits else {"target"})   # text sets: labels only
        assert info.doc and common <= {o.name for o in info.options}
        assert all(o.doc for o in info.options)


# ---- CSV


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_csv_classification_maps_word_labels_in_sorted_order(tmp_path):
    rows = [(i * 0.5, -i, ["dog", "cat", "ant"][i % 3]) for i in range(30)]
    write(tmp_path, "pets.csv", "x1,x2,kind\n" + "".join(f"{a},{b},{c}\n" for a, b, c in rows))
    ds = load_dataset({"name": "csv", "path": "pets.csv", "features": ["x2", "x1"], "label": "kind"}, tmp_path)
    truth = {(float(b), float(a)): ["ant", "cat", "dog"].index(c) for a, b, c in rows}
    x, y = all_rows(ds)
    assert ds.num_classes == 3 and ds.class_names == ("ant", "cat", "dog") and ds.feature_shape == (2,)
    assert x.dtype == np.float32 and y.dtype == np.int64 and len(x) == 30
    assert all(truth[tuple(map(float, row))] == label for row, label in zip(x, y))


def test_csv_integer_labels_sort_as_numbers(tmp_path):
    write(tmp_path, "d.csv", "a,y\n" + "".join(f"{i},{[10, 9, 2][i % 3]}\n" for i in range(12)))
    ds = load_dataset({"name": "csv", "path": "d.csv", "label": "y"}, tmp_path)
    x, y = all_rows(ds)
    original = np.array([[10, 9, 2][int(a) % 3] for a in x[:, 0]])
    np.testing.assert_array_equal(y, np.searchsorted([2, 9, 10], original))


def test_csv_regression_takes_all_other_columns_as_features(tmp_path):
    write(tmp_path, "r.csv", "a,b,t\n" + "".join(f"{i},{2 * i},{i / 4}\n" for i in range(20)))
    ds = load_dataset({"name": "csv", "path": str(tmp_path / "r.csv"), "label": "t", "task": "regression"})
    x, y = all_rows(ds)
    assert ds.num_classes is None and y.dtype == np.float32 and y.shape == (20, 1)
    np.testing.assert_allclose(x[:, 1], 2 * x[:, 0])
    np.testing.assert_allclose(y[:, 0], x[:, 0] / 4)


def test_csv_autoencoder_needs_no_label(tmp_path):
    write(tmp_path, "f.csv", "a,b\n" + "".join(f"{i},{-i}\n" for i in range(10)))
    ds = load_dataset({"name": "csv", "path": "f.csv", "target": "features"}, tmp_path)
    np.testing.assert_array_equal(ds.y_val, ds.x_val)


def bad_csv(tmp_path, bad_cell: str, bad_row: int = 15) -> tuple[str, int]:
    """Write data.csv with ``bad_cell`` in column x2 of data row ``bad_row``; return its file row number."""
    lines = ["x1,x2,y"] + [f"{i},{i + 1},{i % 2}" for i in range(30)]
    lines[bad_row + 1] = f"{bad_row},{bad_cell},1"
    write(tmp_path, "data.csv", "\n".join(lines) + "\n")
    return lines[bad_row + 1], lines.index(lines[bad_row + 1]) + 1


@pytest.mark.parametrize("cell, problem", [("abc", "'abc' is not a number"), ("", "empty cell"),
                                           ("nan", "NaN"), ("inf", "not finite")])
def test_csv_bad_cell_names_file_row_and_column(tmp_path, cell, problem):
    _, row = bad_csv(tmp_path, cell)
    message = error_of({"name": "csv", "path": "data.csv", "label": "y"}, tmp_path)
    assert f"data.csv, row {row}, column 'x2'" in message and problem in message


def test_csv_empty_label_cell_is_located(tmp_path):
    write(tmp_path, "data.csv", "x,y\n1,a\n2,\n3,b\n")
    assert "data.csv, row 3, column 'y': empty cell" in error_of({"name": "csv", "path": "data.csv", "label": "y"},
                                                                  tmp_path)


def test_csv_missing_column_lists_available(tmp_path):
    bad_csv(tmp_path, "1")
    message = error_of({"name": "csv", "path": "data.csv", "features": ["x1", "x3"], "label": "y"}, tmp_path)
    assert "data.csv" in message and "'x3'" in message and "'x1', 'x2', 'y'" in message


def test_csv_ragged_row_and_missing_header_are_located(tmp_path):
    write(tmp_path, "data.csv", "x,y\n1,0\n2,1,5\n")
    assert "data.csv, row 3" in error_of({"name": "csv", "path": "data.csv", "label": "y"}, tmp_path)
    write(tmp_path, "empty.csv", "")
    assert "empty.csv" in error_of({"name": "csv", "path": "empty.csv", "label": "y"}, tmp_path)
    write(tmp_path, "header.csv", "x,y\n")
    assert "header.csv: no data rows" in error_of({"name": "csv", "path": "header.csv", "label": "y"}, tmp_path)


def test_missing_file_is_named(tmp_path):
    message = error_of({"name": "csv", "path": "nowhere.csv", "label": "y"}, tmp_path)
    assert "nowhere.csv" in message and "not found" in message
    assert "gone.npz" in error_of({"name": "npz", "path": "gone.npz"}, tmp_path)


# ---- npz


def test_npz_images_with_string_labels(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 1, 4, 4))
    words = np.array(["b", "a", "c", "a"] * 10)
    np.savez(tmp_path / "d.npz", images=x, names=words)
    ds = load_dataset({"name": "npz", "path": "d.npz", "features": "images", "label": "names"}, tmp_path)
    got_x, got_y = all_rows(ds)
    assert ds.feature_shape == (1, 4, 4) and got_x.dtype == np.float32 and ds.num_classes == 3
    for row, label in zip(got_x, got_y):
        source = np.flatnonzero((x.astype(np.float32) == row).all(axis=(1, 2, 3)))
        assert len(source) == 1 and ["a", "b", "c"][label] == words[source[0]]


def test_npz_regression_defaults_to_keys_x_and_y(tmp_path):
    x = np.arange(50, dtype=np.float64)
    np.savez(tmp_path / "d.npz", x=x, y=3 * x)
    ds = load_dataset({"name": "npz", "path": "d.npz", "task": "regression", "val_fraction": 0.1}, tmp_path)
    assert ds.feature_shape == (1,) and ds.y_train.shape == (45, 1) and len(ds.x_val) == 5
    np.testing.assert_array_equal(ds.y_train, 3 * ds.x_train)


def test_npz_missing_key_lists_keys(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((5, 2)), labels=np.zeros(5))
    message = error_of({"name": "npz", "path": "d.npz"}, tmp_path)
    assert "d.npz" in message and "'y'" in message and "'x', 'labels'" in message


def test_npz_object_arrays_are_refused_without_unpickling(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.array([[1.0], [2.0]], dtype=object), y=np.array([0, 1]))
    message = error_of({"name": "npz", "path": "d.npz"}, tmp_path)
    assert "d.npz, array 'x'" in message and "Python objects" in message


def test_npz_pickle_file_is_refused(tmp_path):
    import pickle

    (tmp_path / "p.npz").write_bytes(pickle.dumps({"x": [1, 2]}))
    assert "p.npz: not a NumPy .npz archive" in error_of({"name": "npz", "path": "p.npz"}, tmp_path)


def test_npz_length_mismatch_names_both_arrays(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((10, 2)), y=np.zeros(9, dtype=int))
    message = error_of({"name": "npz", "path": "d.npz"}, tmp_path)
    assert "d.npz" in message and "10" in message and "9" in message and "'x'" in message and "'y'" in message


def test_npz_nan_feature_is_located(tmp_path):
    x = np.ones((10, 3))
    x[7, 2] = np.nan
    np.savez(tmp_path / "d.npz", x=x, y=np.zeros(10, dtype=int))
    assert "d.npz, array 'x': element [7, 2] (sample 7) is nan" in error_of({"name": "npz", "path": "d.npz"},
                                                                           tmp_path)


def test_npz_fractional_class_labels_are_refused(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((4, 2)), y=np.array([0.0, 0.5, 1.0, 1.0]))
    assert "regression" in error_of({"name": "npz", "path": "d.npz"}, tmp_path)


# ---- options


def test_unknown_dataset_lists_known_names():
    message = error_of({"name": "mnist"})
    assert "'mnist'" in message and all(name in message for name in DATASETS)


@pytest.mark.parametrize("option, value", [("samples", -5), ("samples", 2.5), ("noise", -0.1),
                                           ("val_fraction", 0.0), ("val_fraction", 1.0), ("val_fraction", 1.5),
                                           ("seed", "one"), ("classes", 1), ("target", "labelz")])
def test_bad_option_values_name_the_option(option, value):
    message = error_of({"name": "blobs", option: value})
    assert f"option '{option}'" in message and repr(value) in message


def test_unknown_option_and_missing_required_option_are_named():
    assert "'nois'" in error_of({"name": "spirals", "nois": 0.1})
    assert "'path'" in error_of({"name": "csv", "label": "y"})
    assert "'label'" in error_of({"name": "csv", "path": "x.csv"})


def test_split_that_leaves_a_part_empty_is_refused():
    assert "val_fraction" in error_of({"name": "xor", "samples": 3, "val_fraction": 0.1})


# ---- check_fits


def test_check_fits_accepts_matching_and_symbolic_shapes():
    ds = load_dataset({"name": "digits", "layout": "image"})
    check_fits(ds, (1, 8, 8), "classes")
    check_fits(ds, (1, None, "w"), "none")


def test_check_fits_names_dataset_input_and_both_shapes():
    with pytest.raises(DatasetError) as info:
        check_fits(load_dataset({"name": "digits"}), (2,), "classes", input_name="x")
    assert "dataset 'digits' gives features of shape (64,) but Input 'x' expects (2,)" in info.value.message
    assert info.value.node == "x"


def test_check_fits_refuses_the_wrong_kind_of_label():
    with pytest.raises(DatasetError, match="'moons' gives class labels"):
        check_fits(load_dataset({"name": "moons"}), (2,), "targets")
    with pytest.raises(DatasetError, match="'moons' gives float targets"):
        check_fits(load_dataset({"name": "moons", "target": "features"}), (2,), "classes")
