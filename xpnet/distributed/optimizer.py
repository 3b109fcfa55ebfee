"""An optimizer for data-parallel loops of your own: gradients averaged over the ranks first."""


class DistributedOptimizer:
    """``optimizer`` whose ``update`` first averages the gradients over all ranks of ``comm``.

    Every rank then applies the same update to the same parameters (start
    them equal with ``comm.bcast_params``). Averaging assumes each rank's
    gradient is the mean over a local batch of the same size; with local
    batches of different sizes, pass ``weight`` = this rank's samples / all
    samples of the step. Everything else (``lr``, ``state_dict``, ...) is the
    wrapped optimizer's.
    """

    def __init__(self, optimizer, comm):
        self.optimizer, self.comm = optimizer, comm

    def update(self, params, grads, weight=None):
        weight = 1 / self.comm.size if weight is None else weight
        grads, _ = self.comm.reduce_gradients(grads, weight)
        self.optimizer.update(params, grads)

    def __getattr__(self, name):
        return getattr(self.optimizer, name)
