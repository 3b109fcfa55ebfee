"""Checkpoints: a network and its Trainer in one .npz file, written atomically.

Arrays are stored under 'param/', 'opt/' and 'order'; everything else (epoch,
random-generator state, history, the run's settings) as JSON in 'meta'. No
pickle is involved in writing or reading.
"""
import json

import numpy as np

from .errors import DataError
from .serialization import load_arrays, save_arrays


def save_checkpoint(path, network, trainer, settings=None):
    """Write network parameters, optimizer state and trainer progress to ``path``."""
    state = trainer.state_dict()
    meta = dict(state["meta"], settings=settings or {})
    arrays = {f"param/{k}": v for k, v in network.state_dict().items()}
    arrays.update({f"opt/{k}": v for k, v in state["optimizer"].items() if k != "iter"})
    arrays["opt_iter"] = np.array(state["optimizer"]["iter"])
    if state["order"] is not None:
        arrays["order"] = state["order"]
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    save_arrays(path, arrays)


def read_checkpoint(path):
    """The settings stored in a checkpoint, and a function that restores it into (network, trainer)."""
    arrays = load_arrays(path)
    try:
        meta = json.loads(arrays["meta"].tobytes().decode())
    except (KeyError, ValueError) as e:
        raise DataError(f"{path}: not an xpnet checkpoint ({e})") from None

    def restore(network, trainer):
        network.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("param/")},
                                source=str(path))
        optimizer = {k[4:]: v for k, v in arrays.items() if k.startswith("opt/")}
        optimizer["iter"] = int(arrays["opt_iter"])
        trainer.load_state_dict({"meta": meta, "order": arrays.get("order"),
                                 "optimizer": optimizer})

    return meta.get("settings", {}), restore
