"""Run by tests/test_distributed.py under ``mpiexec -n 2``: one training step per model.

``python one_step.py OUT.npz`` writes rank 0's parameters and loss after one step
of each model in MODELS; ``step(model)`` (comm None) is the one-process reference.
"""
import sys

import xpnet  # noqa: I001  (first: thread settings precede NumPy's import)
import numpy as np

from xpnet.models.registry import build_model, takes_images
from xpnet.trainer import Trainer

# (model, options): weight decay on so that its share of the gradient is checked too.
MODELS = {"two_layer": {}, "multi_layer": {"weight_decay": 0.1}, "simple_convnet": {}}
SAMPLES, BATCH = 40, 7  # 7 = shares of 3 and 4 samples: unequal shares are weighted right


def step(model, comm=None):
    """(parameters, loss) after one step of ``model`` on fixed random data, float64."""
    xpnet.set_dtype("float64")
    xpnet.seed(5, rank=comm.rank if comm else 0)
    data = np.random.default_rng(11)
    shape = (SAMPLES, 1, 28, 28) if takes_images(model) else (SAMPLES, 784)
    x, t = data.random(shape), data.integers(0, 10, SAMPLES)
    net = build_model(model, **MODELS[model])
    trainer = Trainer(net, x, t, x[:10], t[:10], epochs=1, mini_batch_size=BATCH,
                      optimizer="Adam", optimizer_param={"lr": 0.01}, schedule="epochs", comm=comm)
    next(trainer.steps())
    trainer._flush()
    return {k: np.asarray(v) for k, v in net.params.items()}, trainer.train_loss_list[0]


if __name__ == "__main__":
    from xpnet.distributed import create_communicator
    comm = create_communicator()
    out = {}
    for name in MODELS:
        params, loss = step(name, comm)
        out.update({f"{name}/{k}": v for k, v in params.items()})
        out[f"{name}/loss"] = np.array(loss)
    if comm.is_lead:
        np.savez(sys.argv[1], **out)
