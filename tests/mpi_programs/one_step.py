"""Run by tests/test_distributed.py under ``mpiexec -n 2``: one training step per model.

``python one_step.py OUT.npz`` writes rank 0's parameters and loss after one step
of each model in MODELS; ``step(model)`` (comm None) is the one-process reference.
With XPNET_DEVICE=gpu each rank steps on the GPU of its local rank (NCCL sums),
and on the CuPy stand-in each rank also writes what its step copied and waited
for (OUT.npz.rankN.json).
"""
import json
import sys

import xpnet  # noqa: I001  (first: thread settings precede NumPy's import)
import numpy as np

from xpnet import asnumpy
from xpnet.models.registry import build_model, takes_images
from xpnet.models.sequential import Sequential, affine, conv, flatten, pool, relu
from xpnet.trainer import Trainer

# (model, options): weight decay on so that its share of the gradient is checked too.
# "sequential": a network of one's own (no batch normalization: each rank would normalize
# its own share, as frameworks do without synchronized statistics).
MODELS = {"two_layer": {}, "multi_layer": {"weight_decay": 0.1}, "simple_convnet": {},
          "sequential": {}}


def _network(model):
    if model == "sequential":
        return Sequential([conv(6, 3, pad=1), relu(), pool(2), conv(8, 3), relu(), flatten(),
                           affine(10)], input_shape=(1, 28, 28))
    return build_model(model, **MODELS[model])
SAMPLES, BATCH = 40, 7  # 7 = shares of 3 and 4 samples: unequal shares are weighted right


def step(model, comm=None):
    """(parameters, loss) after one step of ``model`` on fixed random data, float64."""
    xpnet.set_dtype("float64")
    xpnet.seed(5, rank=comm.rank if comm else 0)
    data = np.random.default_rng(11)
    images = model == "sequential" or takes_images(model)
    shape = (SAMPLES, 1, 28, 28) if images else (SAMPLES, 784)
    x, t = data.random(shape), data.integers(0, 10, SAMPLES)
    net = _network(model)
    trainer = Trainer(net, x, t, x[:10], t[:10], epochs=1, mini_batch_size=BATCH,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, schedule="epochs", comm=comm)
    with _counting() as record:
        next(trainer.steps())
    trainer._flush()
    params = {k: asnumpy(v) for k, v in net.params.items()}
    return params, trainer.train_loss_list[0], record


def _counting():
    """The stand-in's record of copies and waits, where the GPU is the stand-in's."""
    import contextlib
    if not xpnet.get_device().is_gpu:
        return contextlib.nullcontext()
    from cupy import standin
    return standin.counting()


if __name__ == "__main__":
    from xpnet.distributed import create_communicator
    comm = create_communicator()
    if xpnet.get_device().is_gpu:
        xpnet.set_device(f"gpu:{comm.local_rank}")
    out, records = {}, {}
    for name in MODELS:
        params, loss, record = step(name, comm)
        out.update({f"{name}/{k}": v for k, v in params.items()})
        out[f"{name}/loss"] = np.array(loss)
        records[name] = record and vars(record)
    with open(f"{sys.argv[1]}.rank{comm.rank}.json", "w") as f:
        json.dump({"device": xpnet.get_device().name, "records": records}, f)
    if comm.is_lead:
        np.savez(sys.argv[1], **out)
