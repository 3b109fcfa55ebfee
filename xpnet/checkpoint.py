"""Checkpoints: a network and its Trainer in one .npz file, written atomically.

Arrays are stored under 'param/', 'opt/' and 'order'; everything else (epoch,
random-generator state, history, the run's settings) as JSON in 'meta'. No
pickle is involved in writing or reading, and a checkpoint whose metadata is
incomplete or of the wrong kind is refused with a DataError naming it.
"""
import json

import numpy as np

from .errors import DataError
from .serialization import load_arrays, save_arrays

_META_TYPES = {"epoch": int, "step_in_epoch": int, "rng": dict, "train_loss_list": list,
               "train_acc_list": list, "test_acc_list": list, "settings": dict}


def save_checkpoint(path, network, trainer, settings=None, write=True):
    """Write network parameters, optimizer state and trainer progress to ``path``.

    A distributed trainer's state is gathered from every rank, so every rank
    calls this; only one (``write``) writes the file.
    """
    state = trainer.state_dict()
    if not write:
        return
    meta = dict(state["meta"], settings=settings or {})
    arrays = {f"param/{k}": v for k, v in network.state_dict().items()}
    arrays.update({f"opt/{k}": v for k, v in state["optimizer"].items() if k != "iter"})
    arrays["opt_iter"] = np.array(state["optimizer"]["iter"])
    if state["order"] is not None:
        arrays["order"] = state["order"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    save_arrays(path, arrays)


def _read_meta(arrays, path):
    """The JSON metadata of a checkpoint, checked entry by entry."""
    try:
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (KeyError, ValueError) as e:
        raise DataError(f"{path}: not an xpnet checkpoint (no readable metadata: {e})") from None
    if not isinstance(meta, dict):
        raise DataError(f"{path}: not an xpnet checkpoint (metadata is not a JSON object)")
    for key, kind in _META_TYPES.items():
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise DataError(f"{path}: damaged checkpoint: metadata entry {key!r} is missing or "
                            f"not a {kind.__name__}")
    if "opt_iter" not in arrays or arrays["opt_iter"].shape != ():
        raise DataError(f"{path}: damaged checkpoint: no optimizer iteration count")
    return meta


def read_checkpoint(path):
    """The settings and metadata stored in a checkpoint, and a function that restores it.

    Returns (settings, meta, restore); ``restore(network, trainer)`` loads
    parameters, optimizer state and progress.
    """
    arrays = load_arrays(path)
    meta = _read_meta(arrays, path)

    def restore(network, trainer):
        network.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("param/")},
                                source=str(path))
        optimizer = {k[4:]: v for k, v in arrays.items() if k.startswith("opt/")}
        optimizer["iter"] = int(arrays["opt_iter"])
        order = arrays.get("order")
        if order is not None and (order.ndim != 1 or len(order) != trainer.train_size):
            raise DataError(f"{path}: the checkpoint's epoch order covers {order.size} samples, "
                            f"the training set has {trainer.train_size}")
        try:
            trainer.load_state_dict({"meta": meta, "order": order, "optimizer": optimizer})
        except (KeyError, TypeError, ValueError) as e:
            raise DataError(f"{path}: damaged checkpoint ({type(e).__name__}: {e})") from None

    return meta["settings"], meta, restore
