"""CIFAR-10 images from the standard python-format directory (``cifar-10-batches-py/``).

The sharper-predictions article pretrains its blur discriminator on CIFAR-10. The directory holds pickled
batches ``data_batch_1`` .. ``data_batch_5`` (training, 10,000 images each) and
``test_batch``; each is a dict with ``b"data"``, a ``uint8 (N, 3072)`` array of 32x32 RGB
images stored channel-major (1024 red, 1024 green, then 1024 blue values per row), and
``b"labels"``. vidpred never downloads it.

Pickle can run code on load, so the batches are read with an unpickler that only
rebuilds numpy arrays, lists, dicts and strings: a file that asks for anything else is
refused rather than executed.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np

__all__ = ["load_cifar10", "UnsafeBatchError", "TRAIN_BATCHES", "TEST_BATCH"]

TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"

# What numpy needs to rebuild an ndarray from a pickle (numpy 1.x and 2.x module names),
# and how protocol-2 pickles written by Python 3 spell a bytes object.
_ALLOWED = {
    ("_codecs", "encode"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
}


class UnsafeBatchError(ValueError, pickle.UnpicklingError):
    """A CIFAR-10 batch that is not one: it would build objects, or is truncated or garbage."""


class _ArrayOnlyUnpickler(pickle.Unpickler):
    """An unpickler that rebuilds only what :data:`_ALLOWED` names (numpy arrays) and refuses any other class."""

    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name} from a CIFAR-10 batch")


def _read_batch(path: Path) -> np.ndarray:
    """One batch file's images, uint8 ``(N, 32, 32, 3)`` RGB (HWC)."""
    with open(path, "rb") as f:
        try:
            batch = _ArrayOnlyUnpickler(f, encoding="bytes").load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError, IndexError, TypeError,
                ValueError) as exc:
            raise UnsafeBatchError(f"{path} is not a CIFAR-10 python batch: {exc}") from None
    if not isinstance(batch, dict) or b"data" not in batch:
        raise ValueError(f"{path} is not a CIFAR-10 python batch (no b'data' entry)")
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{path}: expected data of shape (N, 3072), got {data.shape}")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # (N, 32, 32, 3)


def load_cifar10(root: str | Path, subset: str) -> np.ndarray:
    """CIFAR-10 images of ``subset`` ("train": the five data batches, "test": test_batch).

    Args:
        root: the ``cifar-10-batches-py`` directory (or its parent).
        subset: "train" (50,000 images) or "test" (10,000).

    Returns:
        uint8 ``(N, 32, 32, 3)`` RGB, grey levels 0-255.

    Raises:
        FileNotFoundError: naming the missing batch files.
        UnsafeBatchError: a batch file that is not one (it would build objects, or is garbage).
        ValueError: an unknown subset, or a batch without ``(N, 3072)`` data.
    """
    root = Path(root)
    if not (root / TEST_BATCH).is_file() and (root / "cifar-10-batches-py").is_dir():
        root = root / "cifar-10-batches-py"
    names = TRAIN_BATCHES if subset == "train" else (TEST_BATCH,) if subset == "test" else None
    if names is None:
        raise ValueError(f"subset must be 'train' or 'test', got {subset!r}")
    missing = [name for name in names if not (root / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"CIFAR-10 batches {', '.join(missing)} not found in {root}; expected the python-format "
            "directory cifar-10-batches-py/ from https://www.cs.toronto.edu/~kriz/cifar.html"
        )
    return np.concatenate([_read_batch(root / name) for name in names])
