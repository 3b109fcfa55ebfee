"""``xpnet-train`` (and ``python train.py``): train one of the book's networks, or one's own.

What is trained (data, network, optimizer, schedule, augmentation) is built
from the run's settings by ``recipe``; how a sitting runs (progress, files,
Ctrl-C) is ``session``'s.

Each run gets its own folder (``runs/MODEL-DATASET``, ``-2``, ...) holding a
checkpoint after every epoch, metrics.json / metrics.csv and PNG plots; the
folder is locked while the run uses it. ``--resume`` continues the latest
run (or ``--out``'s) exactly where it stopped. Ctrl-C stops after the current
step and saves; a second Ctrl-C quits without saving.

Under ``mpiexec -n N`` (or with ``--distributed``) the N processes train one
network data-parallel (``xpnet.distributed``); rank 0 alone prints and writes
the run folder, and a rank that fails ends the whole job.
"""
import argparse
import io
import math
import os
import signal
import sys
import time
import traceback
from contextlib import nullcontext, redirect_stderr

from .. import backend
from ..checkpoint import read_checkpoint
from ..datasets.named import DATASETS
from ..errors import XpnetError
from ..files import DirectoryLock
from ..launcher import mpi_launch
from ..models.registry import MODELS, OPTION_DEFAULTS, model_options, takes_images
from ..optimizers import OPTIMIZERS
from ..runs import CHECKPOINT, holds_run, latest_run, new_run_folder
from ..schedules import SCHEDULES
from ..trainer import Trainer
from .common import run
from .parser import Parser
from .recipe import (RECIPE_DEFAULTS, build_network, load_data, make_augment, make_optimizer,
                     run_name, schedule_for)
from .session import Session, _progress

ABORT_GRACE = 1.0  # seconds a failing rank waits before ending the job (its output travels)
RUNS = "runs"
# Learning rates that learn within two epochs of the MNIST sample on every model (measured; see
# README). SimpleConvNet starts from weights of scale 0.01, whose gradients are small: plain and
# momentum SGD need larger steps there (sgd 0.1 left it at 14% after two epochs, 0.5 at 91%).
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.01, "nesterov": 0.01, "adagrad": 0.01, "rmsprop": 0.001,
              "adam": 0.001, "adamw": 0.001}
DEFAULT_LR_SIMPLE_CONVNET = {"sgd": 0.5, "momentum": 0.1, "nesterov": 0.1}


def default_lr(model, optimizer):
    """The learning rate a run uses when --lr is not given."""
    if model == "simple_convnet" and optimizer in DEFAULT_LR_SIMPLE_CONVNET:
        return DEFAULT_LR_SIMPLE_CONVNET[optimizer]
    return DEFAULT_LR[optimizer]
# What defines a run: fixed when it starts, and what --resume restores.
SETTINGS = ("model", "dataset", "optimizer", "lr", "batch_size", "hidden", "weight_decay",
            "dropout", "batchnorm", "seed", "dtype", "eval_samples") + tuple(RECIPE_DEFAULTS)


def _one_of(names, file_ext, what):
    """An argparse type: one of ``names``, or a path ending in ``file_ext`` (made absolute, so
    that --resume finds it from any folder)."""
    def parse(value):
        if value.endswith(file_ext):
            return os.path.abspath(value)
        if value not in names:
            raise argparse.ArgumentTypeError(
                f"invalid choice: {value!r} (choose from {', '.join(names)}, or {what})")
        return value
    return parse


def build_parser():
    p = Parser(prog="xpnet-train", description="Train a network of 'Deep Learning from Scratch', "
               "the VGG-style network or one's own, on MNIST, Fashion-MNIST, CIFAR-10 or one's "
               "own arrays, on the CPU or a GPU. With no options: SimpleConvNet on MNIST for 15 "
               "epochs (offline: on the built-in 5,000-image sample).")
    p.add_argument("--model", type=_one_of(MODELS, ".py", "FILE.py defining build(input_shape, "
                                           "num_classes)"),
                   default="simple_convnet", help=f"network to train: {', '.join(MODELS)}, or a "
                   "FILE.py whose build(input_shape, num_classes) returns one")
    p.add_argument("--dataset", type=_one_of(DATASETS, ".npz", "FILE.npz"), default="mnist",
                   help=f"{', '.join(DATASETS)}, or a FILE.npz holding x_train, t_train, x_test, "
                        "t_test; mnist falls back to a built-in 5,000-image sample when offline")
    p.add_argument("--optimizer", type=str.lower, choices=sorted(OPTIMIZERS), default="adam",
                   help="update rule (any capitalisation)")
    p.add_argument("--lr", type=float, default=None, help="learning rate; by default "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_LR.items()) + " (simple_convnet: "
                   + ", ".join(f"{k} {v}" for k, v in DEFAULT_LR_SIMPLE_CONVNET.items()) + ")")
    p.add_argument("--epochs", type=int, default=15,
                   help="passes over the training set (with --resume: the new total)")
    p.add_argument("--batch-size", type=int, default=100, help="mini-batch size")
    p.add_argument("--hidden", type=int, nargs="+", default=None,
                   help="hidden layer sizes: one for two_layer (default 50), any number for "
                        "multi_layer* (default 100 100)")
    p.add_argument("--weight-decay", type=float, default=0.0,
                   help="L2 weight decay lambda; multi_layer and multi_layer_extend")
    p.add_argument("--dropout", type=float, default=0.0,
                   help="dropout ratio, 0 for none; multi_layer_extend only")
    p.add_argument("--batchnorm", action="store_true",
                   help="batch normalization; multi_layer_extend only")
    p.add_argument("--decoupled-decay", type=float, default=None,
                   help="decoupled weight decay (AdamW's form) of the weights, any optimizer and "
                        f"model (default: {RECIPE_DEFAULTS['decoupled_decay'] or 0} "
                        "; adamw: 0.01)")
    p.add_argument("--schedule", choices=SCHEDULES, default="constant",
                   help="learning-rate schedule over the run's epochs")
    p.add_argument("--warmup", type=float, default=0.0,
                   help="epochs of linear learning-rate warm-up (one_cycle: 30%% of the run "
                        "when 0)")
    p.add_argument("--crop", type=int, default=0,
                   help="augmentation: pad training images with this many zeros and crop them "
                        "back at a random place (0: off)")
    p.add_argument("--flip", action="store_true",
                   help="augmentation: mirror half the training images left-right")
    p.add_argument("--seed", type=int, default=0, help="seed of every random generator")
    p.add_argument("--device", default=None,
                   help="cpu, gpu, gpu:N or auto (default: $XPNET_DEVICE, else cpu)")
    p.add_argument("--dtype", choices=backend.VALID_DTYPES, default=None,
                   help="float dtype (default: $XPNET_DTYPE, else float32)")
    p.add_argument("--eval-samples", type=int, default=2000,
                   help="train and test images scored after each epoch, drawn at random once "
                        "(the same every run); 0 for all. The final test accuracy always uses "
                        "every test image")
    p.add_argument("--data-dir", default=None,
                   help="folder with the dataset's .gz files (default: $XPNET_DATA_DIR)")
    p.add_argument("--out", default=None, help="run folder (default: a new runs/MODEL-DATASET[-N])")
    p.add_argument("--resume", action="store_true",
                   help="continue the latest run (or --out's) from its checkpoint, with its "
                        "settings")
    p.add_argument("--overwrite", action="store_true",
                   help="start afresh in an --out folder that holds an earlier run")
    p.add_argument("--no-progress", action="store_true",
                   help="no progress bar (it is off anyway when stderr is not a terminal)")
    p.add_argument("--distributed", action="store_true",
                   help="train data-parallel over the processes of mpiexec -n N (on by itself "
                        "under mpiexec with N > 1; needs pip install 'xpnet[mpi]')")
    return p


def explicit_options(argv):
    """The options named on the command line (not left at their defaults)."""
    parser = build_parser()
    for action in parser._actions:
        action.default = None if action.dest != "help" else action.default
    given = parser.parse_args(argv)
    return {k for k, v in vars(given).items() if v not in (None, False)}


def check_args(p, args, given):
    """One-line errors for values out of range and options the model does not take."""
    if args.epochs < 0:
        p.error(f"--epochs must be >= 0, got {args.epochs}")
    if args.batch_size < 1:
        p.error(f"--batch-size must be >= 1, got {args.batch_size}")
    if args.lr is not None and not (math.isfinite(args.lr) and args.lr > 0):
        p.error(f"--lr must be a finite number > 0, got {args.lr}")
    if not (math.isfinite(args.weight_decay) and args.weight_decay >= 0):
        p.error(f"--weight-decay must be a finite number >= 0, got {args.weight_decay}")
    if not 0 <= args.dropout < 1:
        p.error(f"--dropout must be in [0, 1), got {args.dropout}")
    if args.eval_samples < 0:
        p.error(f"--eval-samples must be >= 0, got {args.eval_samples}")
    if args.decoupled_decay is not None and not (math.isfinite(args.decoupled_decay)
                                                 and args.decoupled_decay >= 0):
        p.error(f"--decoupled-decay must be a finite number >= 0, got {args.decoupled_decay}")
    if not (math.isfinite(args.warmup) and 0 <= args.warmup < max(args.epochs, 1)):
        p.error(f"--warmup must be >= 0 and less than --epochs ({args.epochs}), got "
                f"{args.warmup}")
    if args.crop < 0:
        p.error(f"--crop must be >= 0, got {args.crop}")
    if (args.crop or args.flip) and not takes_images(args.model):
        p.error(f"--crop and --flip augment images: --model {args.model} reads flat vectors")
    if args.hidden and min(args.hidden) < 1:
        p.error(f"--hidden sizes must be >= 1, got {args.hidden}")
    if args.resume and args.overwrite:
        p.error("--resume and --overwrite contradict each other")
    if args.resume and "model" not in given:
        return  # the options are checked against the resumed run's model
    for option in OPTION_DEFAULTS:
        if option in given and option not in model_options(args.model):
            takers = [m for m in MODELS if option in model_options(m)]
            p.error(f"--{option.replace('_', '-')} does not apply to --model {args.model} "
                    f"(only to {', '.join(takers)})")
    if args.model == "two_layer" and args.hidden and len(args.hidden) != 1:
        p.error(f"two_layer has one hidden layer: give one --hidden size, got {args.hidden}")


def run_settings(settings):
    """The settings that mean something for this run's model (others are not recorded)."""
    kept = {k: v for k, v in settings.items() if k not in OPTION_DEFAULTS}
    kept.update({k: settings[k] for k in model_options(settings["model"])})
    return kept


def choose_folder(args, given):
    """The run folder: a new one, --out, or (--resume) the latest run's."""
    if args.resume:
        folder = args.out
        if folder is None:
            name = run_name(vars(args)) if {"model", "dataset"} <= given else None
            folder = latest_run(RUNS, name)
            if folder is None:
                raise XpnetError(f"--resume: no run with a checkpoint under {RUNS}/ to resume")
            print(f"resuming {folder}, the latest run", file=sys.stderr)
        elif not os.path.isfile(os.path.join(folder, CHECKPOINT)):
            raise XpnetError(f"--resume: no checkpoint in {folder}")
        return folder
    if args.out is None:
        return new_run_folder(RUNS, run_name(vars(args)))
    if holds_run(args.out) and not args.overwrite:
        raise XpnetError(f"{args.out} holds an earlier run; continue it with --resume, replace it "
                         f"with --overwrite, or choose another --out")
    return args.out


def resumed_settings(args, given, folder):
    """The checkpoint's settings (options that contradict them refused), epochs and restore."""
    saved, _, restore = read_checkpoint(os.path.join(folder, CHECKPOINT))
    for key in sorted(given & set(SETTINGS)):
        value = getattr(args, key)
        if key not in saved and value == OPTION_DEFAULTS.get(key):
            continue
        if saved.get(key) != value:
            flag = "--" + key.replace("_", "-")
            has = (f"{key} {_show(saved[key])}" if key in saved else
                   f"model {saved.get('model')}, which does not take {flag}")
            raise XpnetError(f"--resume: {flag} {_show(value)} contradicts the run in {folder}, "
                             f"which has {has}; leave {flag} out to resume it, or start a new run")
    settings = {k: getattr(args, k) for k in SETTINGS}
    settings.update(OPTION_DEFAULTS)
    settings.update(RECIPE_DEFAULTS)  # a run from before these settings trained without them
    settings.update({k: v for k, v in saved.items() if k in SETTINGS})
    epochs = args.epochs if "epochs" in given else saved.get("epochs", args.epochs)
    return settings, epochs, restore


def _show(value):
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def connect(args):
    """The communicator of this job's ranks when training distributed, else None."""
    if not (args.distributed or mpi_launch() is not None):
        return None
    from ..distributed import create_communicator
    return create_communicator()


def train(args, given, comm=None):
    lead = comm is None or comm.is_lead
    backend.set_device(args.device) if args.device else backend.get_device()
    if comm is not None and backend.get_device().is_gpu:
        backend.set_device(f"gpu:{comm.local_rank}")  # one GPU per rank of this machine
    folder = choose_folder(args, given) if lead else None
    if comm is not None:
        folder = comm.bcast(folder)
    with DirectoryLock(folder) if lead else nullcontext():
        if args.overwrite and lead:
            _clear(folder)
        restore, epochs = None, args.epochs
        if args.resume:
            settings, epochs, restore = resumed_settings(args, given, folder)
        else:
            settings = {k: getattr(args, k) for k in SETTINGS}
        settings["dtype"] = settings["dtype"] or backend.get_dtype().name
        settings["lr"] = settings["lr"] or default_lr(settings["model"], settings["optimizer"])
        settings = run_settings(settings)
        backend.set_dtype(settings["dtype"])
        backend.seed(settings["seed"], rank=comm.rank if comm else 0)
        (x_train, t_train), (x_test, t_test) = _lead_first(comm, load_data, settings,
                                                           args.data_dir)
        network = build_network(settings, x_train, t_train, t_test)
        trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=epochs,
                          mini_batch_size=settings["batch_size"],
                          optimizer=make_optimizer(settings),
                          evaluate_sample_num_per_epoch=settings["eval_samples"] or None,
                          verbose=False, schedule="epochs", comm=comm,
                          augment=make_augment(settings))
        trainer.optimizer.schedule = schedule_for(settings, trainer)
        session = Session(trainer, settings, folder, progress=not args.no_progress, lead=lead)
        if restore:
            restore(network, trainer)
            session.say(f"resumed {folder} after {_progress(trainer)}")
        ranks = f" on {comm.size} ranks" if comm else ""
        session.say(f"training {type(network).__name__} on {settings['dataset']} "
                    f"({len(x_train):,} train, {len(x_test):,} test images), "
                    f"{network.device.name}{ranks}, {settings['dtype']}, {settings['optimizer']} "
                    f"lr={settings['lr']}, into {folder}")
        if not session.train():
            return 130
        return session.finish()


def _lead_first(comm, load, *args):
    """``load(*args)`` on rank 0 first (it may download into the cache), then on the others.

    The others' notices (e.g. "using the built-in sample") would repeat rank 0's: not shown.
    """
    if comm is None:
        return load(*args)
    if not comm.is_lead:
        comm.barrier()
        with redirect_stderr(io.StringIO()):
            return load(*args)
    result = load(*args)
    comm.barrier()
    return result


def _clear(folder):
    """Remove what an earlier run wrote into ``folder`` (its own files, nothing else)."""
    for name in (CHECKPOINT, "metrics.json", "metrics.csv", "loss.png", "accuracy.png"):
        path = os.path.join(folder, name)
        if os.path.exists(path):
            os.unlink(path)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    given = explicit_options(argv)
    check_args(parser, args, given)
    try:
        comm = connect(args)
    except XpnetError as e:
        print(f"{parser.prog}: error: {e}", file=sys.stderr)
        return 1
    if comm is None:
        return _single(parser.prog, args, given)
    return _distributed(parser.prog, args, given, comm)


def console():
    """``xpnet-train`` and ``python train.py``: main(), then exit without Python's shutdown.

    When a run has saved everything and its output is flushed, Python's own
    shutdown (tearing down Numba's and matplotlib's objects) took another
    0.5-0.9 s here. Under MPI the process exits normally: MPI must finalize.
    """
    code = main()
    # Finished: a Ctrl-C while Python shuts down (Numba's and OpenMP's threads take a
    # moment) would kill the process by the signal itself, after everything was saved.
    # (Here, not in main(): a program that calls main() keeps its own Ctrl-C.)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if "mpi4py" in sys.modules:
        return code
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _single(prog, args, given):
    try:
        return run(prog, train, args, given)
    except KeyboardInterrupt:  # while loading the data or building the network
        print(f"{prog}: interrupted before training started", file=sys.stderr)
        return 130


def _distributed(prog, args, given, comm):
    """``train`` on one rank; a failure on any rank ends every rank (never a hang)."""
    prog = prog if comm.is_lead else f"{prog} (rank {comm.rank})"
    try:
        code = run(prog, train, args, given, comm)  # 0 or 130: every rank ends alike
    except KeyboardInterrupt:  # before training, or a second Ctrl-C: only this rank knows
        print(f"{prog}: interrupted", file=sys.stderr)
        code = None
    except SystemExit as e:
        code = None if e.code == 130 else e.code
    except BaseException as e:
        print(f"{prog}: error: {type(e).__name__}: {e}", file=sys.stderr)  # first: the gist
        traceback.print_exc()
        code = 1
    if code not in (0, 130):
        sys.stderr.flush()
        time.sleep(ABORT_GRACE)  # mpiexec passes on what this rank printed before it kills all
        comm.abort(code if isinstance(code, int) else 130)
    return code


if __name__ == "__main__":
    sys.exit(main())
