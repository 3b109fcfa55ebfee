"""``xpnet-train`` (and ``python train.py``): train one of the book's networks.

Progress bar per epoch, a summary at the end, ``metrics.json``/``metrics.csv``,
PNG plots of loss and accuracy, a checkpoint each epoch (atomic), ``--resume``,
a clean save on Ctrl-C, and a stop with a clear message when the loss diverges.
"""
import argparse
import csv
import json
import os
import sys
import time

from . import backend
from .checkpoint import read_checkpoint, save_checkpoint
from .errors import XpnetError
from .files import atomic_write
from .optimizers import OPTIMIZERS
from .trainer import Trainer, TrainingDiverged

MODELS = ("two_layer", "multi_layer", "multi_layer_extend", "simple_convnet", "deep_convnet")
DATASETS = ("mnist", "fashion-mnist")
CHECKPOINT = "checkpoint.npz"


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not usage + error
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser():
    p = _Parser(prog="xpnet-train", description="Train a network of 'Deep Learning from Scratch' "
                "on MNIST or Fashion-MNIST, on CPU or GPU. The defaults train SimpleConvNet for "
                "about a minute on 2 CPU cores, offline.")
    p.add_argument("--model", choices=MODELS, default="simple_convnet",
                   help="network to train (default: %(default)s)")
    p.add_argument("--dataset", choices=DATASETS, default="mnist",
                   help="mnist falls back to a built-in 5,000-image sample offline "
                        "(default: %(default)s)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), default="adam",
                   help="update rule (default: %(default)s)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: 0.001 for adam, 0.01 otherwise)")
    p.add_argument("--epochs", type=int, default=15, help="passes over the training set (default: 15)")
    p.add_argument("--batch-size", type=int, default=100, help="mini-batch size (default: 100)")
    p.add_argument("--hidden", type=int, nargs="+", default=None,
                   help="hidden layer sizes for two_layer / multi_layer* (default: 100 100 for "
                        "multi_layer*, 50 for two_layer)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="L2 weight decay lambda, multi_layer* only (default: 0)")
    p.add_argument("--dropout", type=float, default=0.0,
                   help="dropout ratio, multi_layer_extend only; 0 turns it off (default: 0)")
    p.add_argument("--batchnorm", action="store_true", help="batch normalization, multi_layer_extend only")
    p.add_argument("--seed", type=int, default=0, help="seed of every random generator (default: 0)")
    p.add_argument("--device", default=None,
                   help="cpu, gpu, gpu:N or auto (default: $XPNET_DEVICE, else cpu)")
    p.add_argument("--dtype", choices=backend.VALID_DTYPES, default=None,
                   help="float dtype (default: $XPNET_DTYPE, else float32)")
    p.add_argument("--eval-samples", type=int, default=2000,
                   help="train/test samples scored after each epoch; 0 for all (default: 2000)")
    p.add_argument("--data-dir", default=None, help="where the dataset files are (default: $XPNET_DATA_DIR)")
    p.add_argument("--out", default=None, help="output directory (default: runs/MODEL-DATASET)")
    p.add_argument("--resume", action="store_true",
                   help="continue from OUT/checkpoint.npz with its settings; --epochs is the new total")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _check_args(p, args):
    if args.epochs < 0:
        p.error(f"--epochs must be >= 0, got {args.epochs}")
    if args.batch_size < 1:
        p.error(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.lr is not None and args.lr <= 0:
        p.error(f"--lr must be > 0, got {args.lr}")
    if not 0 <= args.dropout < 1:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.eval_samples < 0:
        p.error(f"--eval-samples must be >= 0, got {args.eval_samples}")


def _writable_dir(path):
    """Create ``path`` and prove it is writable, or raise XpnetError naming it."""
    try:
        os.makedirs(path, exist_ok=True)
        with atomic_write(os.path.join(path, ".write-test")) as f:
            f.write(b"")
        os.unlink(os.path.join(path, ".write-test"))
    except OSError as e:
        raise XpnetError(f"output directory {path} is not writable ({e.strerror})") from None


SETTINGS = ("model", "dataset", "optimizer", "lr", "batch_size", "hidden", "weight_decay",
            "dropout", "batchnorm", "seed", "dtype")


def build_network(settings):
    """The network named by ``settings`` (a dict of the command-line settings)."""
    from . import models
    model, hidden = settings["model"], settings["hidden"]
    if model == "two_layer":
        return models.TwoLayerNet(784, (hidden or [50])[0], 10)
    if model in ("multi_layer", "multi_layer_extend"):
        return models.MultiLayerNetExtend(
            784, hidden or [100, 100], 10, weight_decay_lambda=settings["weight_decay"],
            use_dropout=settings["dropout"] > 0, dropout_ration=settings["dropout"],
            use_batchnorm=settings["batchnorm"] and model == "multi_layer_extend")
    if model == "simple_convnet":
        return models.SimpleConvNet()
    return models.DeepConvNet()


def load_data(settings, data_dir):
    from .datasets import load_fashion_mnist, load_mnist
    load = load_mnist if settings["dataset"] == "mnist" else load_fashion_mnist
    flatten = settings["model"] not in ("simple_convnet", "deep_convnet")
    return load(normalize=True, flatten=flatten, data_dir=data_dir)


def run(args):
    out = args.out or os.path.join("runs", f"{args.model}-{args.dataset}")
    _writable_dir(out)
    if args.device:
        backend.set_device(args.device)
    checkpoint = os.path.join(out, CHECKPOINT)
    restore = None
    settings = {k: getattr(args, k) for k in SETTINGS}
    if args.resume:
        if not os.path.exists(checkpoint):
            raise XpnetError(f"--resume: no checkpoint at {checkpoint}")
        saved, restore = read_checkpoint(checkpoint)
        settings.update({k: v for k, v in saved.items() if k in SETTINGS})
    settings["dtype"] = settings["dtype"] or backend.get_dtype().name
    settings["lr"] = settings["lr"] or (0.001 if settings["optimizer"] == "adam" else 0.01)
    backend.set_dtype(settings["dtype"])
    backend.seed(settings["seed"])
    (x_train, t_train), (x_test, t_test) = load_data(settings, args.data_dir)
    network = build_network(settings)
    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=args.epochs,
                      mini_batch_size=settings["batch_size"], optimizer=settings["optimizer"],
                      optimizer_param={"lr": settings["lr"]},
                      evaluate_sample_num_per_epoch=args.eval_samples or None, verbose=False)
    if restore:
        restore(network, trainer)
        print(f"resumed from {checkpoint} at epoch {trainer.current_epoch}, "
              f"step {trainer.step_in_epoch}", file=sys.stderr)
    device = network.device.name
    print(f"training {type(network).__name__} on {settings['dataset']} ({len(x_train)} train, "
          f"{len(x_test)} test images), device {device}, {settings['dtype']}, "
          f"{settings['optimizer']} lr={settings['lr']}, output {out}", file=sys.stderr)
    train_time, images = _train(trainer, settings, checkpoint, args.no_progress)
    test_acc = network.accuracy(trainer.x_test, trainer.t_test)
    summary = {"test_accuracy": test_acc, "train_seconds": train_time,
               "images_per_second": images / train_time if train_time else None,
               "device": device, "epochs": trainer.current_epoch, "settings": settings}
    _write_metrics(out, trainer, summary)
    print(f"test accuracy {test_acc:.4f} | {train_time:.1f} s training | "
          f"{summary['images_per_second'] or 0:.0f} images/s | device {device} | results in {out}")
    return 0


def _train(trainer, settings, checkpoint, no_progress):
    """Run the remaining epochs with a progress bar; returns (training seconds, images seen)."""
    from tqdm.auto import tqdm
    network, train_time, images = trainer.network, 0.0, 0
    try:
        while trainer.current_epoch < trainer.epochs:
            epoch = trainer.current_epoch + 1
            bar = tqdm(total=trainer.iter_per_epoch, initial=trainer.step_in_epoch,
                       desc=f"epoch {epoch}/{trainer.epochs}", unit="step", disable=no_progress,
                       file=sys.stderr, dynamic_ncols=True)
            start = time.perf_counter()
            for i, _ in enumerate(trainer.steps()):
                bar.update(1)
                images += trainer.batch_size
                if trainer.train_loss_list and (i % trainer.sync_every == 0):
                    rate = images / (train_time + time.perf_counter() - start)
                    bar.set_postfix(loss=f"{trainer.train_loss_list[-1]:.4f}",
                                    img_s=f"{rate:.0f}")
            network.device.synchronize()
            train_time += time.perf_counter() - start
            train_acc, test_acc = trainer.evaluate()
            bar.set_postfix(loss=f"{trainer.train_loss_list[-1]:.4f}", train_acc=f"{train_acc:.4f}",
                            test_acc=f"{test_acc:.4f}")
            bar.close()
            save_checkpoint(checkpoint, network, trainer, settings)
    except KeyboardInterrupt:
        save_checkpoint(checkpoint, network, trainer, settings)
        print(f"\ninterrupted: saved {checkpoint} at epoch {trainer.current_epoch + 1}, step "
              f"{trainer.step_in_epoch}; continue with --resume", file=sys.stderr)
        raise SystemExit(130)
    except TrainingDiverged as e:
        raise XpnetError(f"{e}. The last good checkpoint is {checkpoint}") from None
    return train_time, images


def _write_metrics(out, trainer, summary):
    """metrics.json, metrics.csv (one row per epoch) and PNG plots of the curves."""
    history = {"train_loss": trainer.train_loss_list, "train_acc": trainer.train_acc_list,
               "test_acc": trainer.test_acc_list}
    with atomic_write(os.path.join(out, "metrics.json"), "w") as f:
        json.dump(dict(summary, history=history), f, indent=1)
    per_epoch = max(trainer.iter_per_epoch, 1)
    with atomic_write(os.path.join(out, "metrics.csv"), "w") as f:
        w = csv.writer(f)
        w.writerow(["epoch", "mean_train_loss", "train_acc", "test_acc"])
        for e, (tr, te) in enumerate(zip(trainer.train_acc_list, trainer.test_acc_list), start=1):
            losses = trainer.train_loss_list[(e - 1) * per_epoch:e * per_epoch]
            w.writerow([e, sum(losses) / max(len(losses), 1), tr, te])
    try:
        from .plots import plot_history
    except ImportError:
        print("xpnet: matplotlib is not installed, so no plots (pip install 'xpnet[plot]')",
              file=sys.stderr)
        return
    plot_history(history, per_epoch, out)


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    _check_args(parser, args)
    try:
        return run(args)
    except XpnetError as e:
        print(f"xpnet-train: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # during loading or compiling; training saves on its own
        print("xpnet-train: interrupted before training started", file=sys.stderr)
        return 130
