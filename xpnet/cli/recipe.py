"""What an ``xpnet-train`` run trains: its data, its network, and the recipe around them.

Each function takes the run's settings (the dict a checkpoint stores), so a
resumed run rebuilds exactly what the first sitting built: the same network
for the same data, the same optimizer with its learning-rate schedule and
decoupled weight decay, the same augmentation.
"""
import os

from ..augment import Augment
from ..datasets.named import is_dataset_file, load_dataset, num_classes
from ..models.model_file import check_fits
from ..models.registry import build_model, is_model_file, model_options, takes_images
from ..optimizers import get_optimizer
from ..schedules import make_schedule

# settings of the recipe (beyond the book's options) and the values that leave it out
RECIPE_DEFAULTS = {"schedule": "constant", "warmup": 0.0, "crop": 0, "flip": False,
                   "decoupled_decay": None}
ADAMW_DECAY = 0.01  # --optimizer adamw's decoupled weight decay unless --decoupled-decay says


def run_name(settings):
    """MODEL-DATASET, a run folder's name (a file's stem stands for the file)."""
    def word(name, is_file):
        return os.path.splitext(os.path.basename(name))[0] if is_file(name) else name
    return (f"{word(settings['model'], is_model_file)}-"
            f"{word(settings['dataset'], is_dataset_file)}")


def load_data(settings, data_dir):
    """The run's data; flat vectors for the book's fully connected networks, else images."""
    (x_train, t_train), (x_test, t_test) = load_dataset(settings["dataset"], data_dir)
    if not takes_images(settings["model"]):
        x_train, x_test = x_train.reshape(len(x_train), -1), x_test.reshape(len(x_test), -1)
    return (x_train, t_train), (x_test, t_test)


def build_network(settings, x_train, t_train, t_test):
    """The run's network, sized for the data; ShapeError naming both shapes if it cannot read it."""
    classes = num_classes(t_train, t_test)
    network = build_model(settings["model"], input_shape=x_train.shape[1:], num_classes=classes,
                          **{k: settings[k] for k in model_options(settings["model"])})
    check_fits(network, x_train, settings["model"], settings["dataset"])
    return network


def make_optimizer(settings):
    """The optimizer: its learning rate and decoupled decay (the schedule: ``schedule_for``)."""
    decay = settings["decoupled_decay"]
    if decay is None:
        decay = ADAMW_DECAY if settings["optimizer"] == "adamw" else 0.0
    return get_optimizer(settings["optimizer"], lr=settings["lr"], weight_decay=decay)


def schedule_for(settings, trainer):
    """The learning-rate schedule over the trainer's steps (its epochs times its steps per
    epoch), or None; its warm-up in steps."""
    warmup = round(settings["warmup"] * trainer.iter_per_epoch)
    return make_schedule(settings["schedule"], max(trainer.max_iter, warmup + 1), warmup)


def make_augment(settings):
    """The augmentation of the training batches, or None."""
    crop, flip = settings["crop"], settings["flip"]
    return Augment(pad=crop, flip=flip) if crop or flip else None
