from __future__ import annotations

import os
import pickle

import numpy as np
import pytest

from vidpred.data.cifar10 import TEST_BATCH, TRAIN_BATCHES, UnsafeBatchError, load_cifar10


def write_cifar10(root, n_per_batch: int = 4, seed: int = 0):
    """A tiny directory in CIFAR-10's python format; returns the images written, per batch."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    written = {}
    for name in (*TRAIN_BATCHES, TEST_BATCH):
        images = rng.integers(0, 256, size=(n_per_batch, 32, 32, 3), dtype=np.uint8)
        data = images.transpose(0, 3, 1, 2).reshape(n_per_batch, 3072)  # channel-major rows
        batch = {b"batch_label": name.encode(), b"labels": list(range(n_per_batch)), b"data": data,
                 b"filenames": [f"{i}.png".encode() for i in range(n_per_batch)]}
        with open(root / name, "wb") as f:
            pickle.dump(batch, f, protocol=2)
        written[name] = images
    return written


def test_reads_train_and_test_in_hwc_layout(tmp_path):
    written = write_cifar10(tmp_path / "cifar-10-batches-py")
    train = load_cifar10(tmp_path / "cifar-10-batches-py", "train")
    assert train.shape == (20, 32, 32, 3) and train.dtype == np.uint8
    np.testing.assert_array_equal(train[:4], written["data_batch_1"])
    np.testing.assert_array_equal(load_cifar10(tmp_path, "test"), written[TEST_BATCH])  # parent dir works too


def test_missing_batches_are_named(tmp_path):
    write_cifar10(tmp_path / "c")
    (tmp_path / "c" / "data_batch_3").unlink()
    with pytest.raises(FileNotFoundError, match="data_batch_3"):
        load_cifar10(tmp_path / "c", "train")


class _Payload:
    def __reduce__(self):
        return (os.system, ("echo should-not-run",))


def test_refuses_pickles_that_run_code(tmp_path):
    write_cifar10(tmp_path / "c")
    with open(tmp_path / "c" / TEST_BATCH, "wb") as f:
        pickle.dump({b"data": _Payload()}, f, protocol=2)
    with pytest.raises(pickle.UnpicklingError, match="refusing"):
        load_cifar10(tmp_path / "c", "test")


def test_a_refused_or_truncated_batch_is_a_value_error_scripts_report_in_one_line(tmp_path):
    write_cifar10(tmp_path / "c")
    with open(tmp_path / "c" / TEST_BATCH, "wb") as f:
        pickle.dump({b"data": _Payload()}, f, protocol=2)
    with pytest.raises(ValueError, match="is not a CIFAR-10 python batch: refusing to load"):
        load_cifar10(tmp_path / "c", "test")
    batch = tmp_path / "c" / TEST_BATCH
    write_cifar10(tmp_path / "d")
    data = (tmp_path / "d" / TEST_BATCH).read_bytes()
    batch.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match="is not a CIFAR-10 python batch"):
        load_cifar10(tmp_path / "c", "test")


def _batch_file(path, batch):
    with open(path, "wb") as f:
        pickle.dump(batch, f, protocol=2)


def test_a_truncated_or_malformed_cifar_batch_is_refused_as_not_a_batch(tmp_path):
    (tmp_path / TEST_BATCH).write_bytes(b"")  # cut short: nothing in it
    with pytest.raises(UnsafeBatchError, match="is not a CIFAR-10 python batch"):
        load_cifar10(tmp_path, "test")
    _batch_file(tmp_path / TEST_BATCH, {b"labels": [0]})
    with pytest.raises(ValueError, match="no b'data' entry"):
        load_cifar10(tmp_path, "test")
    _batch_file(tmp_path / TEST_BATCH, {b"data": np.zeros(3072, np.uint8)})  # one image, but not as a row
    with pytest.raises(ValueError, match=r"expected data of shape \(N, 3072\), got \(3072,\)"):
        load_cifar10(tmp_path, "test")


def test_cifar_reads_the_folder_given_when_it_holds_the_batches_and_refuses_other_subsets(tmp_path):
    _batch_file(tmp_path / TEST_BATCH, {b"data": np.full((2, 3072), 7, np.uint8)})
    (tmp_path / "cifar-10-batches-py").mkdir()  # an empty (or other) copy beside them
    assert load_cifar10(tmp_path, "test").shape == (2, 32, 32, 3)
    with pytest.raises(ValueError, match="subset must be 'train' or 'test', got 'val'"):
        load_cifar10(tmp_path, "val")
