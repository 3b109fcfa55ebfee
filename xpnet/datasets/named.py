"""A dataset by the name ``xpnet-train --dataset`` takes: mnist, fashion-mnist, cifar10 or FILE.npz."""
from .arrays import load_npz, num_classes
from .cifar10 import load_cifar10
from .mnist import load_fashion_mnist, load_mnist

DATASETS = ("mnist", "fashion-mnist", "cifar10")


def is_dataset_file(name):
    return name.endswith(".npz")


def load_dataset(name, data_dir=None):
    """((x_train, t_train), (x_test, t_test)), pixels in [0, 1], labels as class ids.

    Images come as (N, C, H, W): MNIST's as 1x28x28, CIFAR-10's as 3x32x32, an
    .npz file's as it stores them, with a channel axis added to (N, H, W).
    """
    if is_dataset_file(name):
        (x_train, t_train), (x_test, t_test) = load_npz(name)
        if x_train.ndim == 3:
            x_train, x_test = x_train[:, None], x_test[:, None]
        return (x_train, t_train), (x_test, t_test)
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)} or an "
                         f".npz file")
    load = {"mnist": load_mnist, "fashion-mnist": load_fashion_mnist,
            "cifar10": load_cifar10}[name]
    return load(normalize=True, flatten=False, data_dir=data_dir)

__all__ = ["DATASETS", "is_dataset_file", "load_dataset", "num_classes"]
