"""``xpnet-gradcheck``: check backprop against numerical gradients on a freshly built network."""
import sys
import time

from .. import backend
from ..gradcheck import MODES, TOLERANCE, check_gradients
from ..models.registry import MODELS, build_model, takes_images
from .common import run
from .parser import Parser


def build_parser():
    p = Parser(prog="xpnet-gradcheck", description="Compare each parameter's gradient by "
               "backpropagation with central differences (h = 1e-4, float64) on a few MNIST "
               "images, and say whether they agree. Biases are drawn at random so that no "
               "unit sits exactly at a ReLU kink.")
    p.add_argument("--model", choices=MODELS, default="two_layer", help="network to check")
    p.add_argument("--mode", choices=MODES, default="sample",
                   help="full: every element; sample: --samples elements of each parameter; "
                        "directional: one random direction through all parameters")
    p.add_argument("--batch", type=int, default=3, help="images in the batch")
    p.add_argument("--samples", type=int, default=20, help="elements per parameter (sample mode)")
    p.add_argument("--tolerance", type=float, default=TOLERANCE,
                   help="largest relative error that passes")
    p.add_argument("--seed", type=int, default=0, help="seed of the weights and the sample")
    p.add_argument("--data-dir", default=None,
                   help="folder with MNIST's .gz files (default: $XPNET_DATA_DIR, else the "
                        "built-in sample)")
    return p


def check(args):
    from ..backend.random import host_rng
    from ..datasets import load_mnist
    backend.set_dtype("float64")
    backend.seed(args.seed)
    network = build_model(args.model)
    for key, p in network.params.items():  # off the ReLU kinks that zero biases put units on
        if key.startswith("b"):
            p[...] = network.device.send(0.1 * host_rng().standard_normal(p.shape))
    (x, t), _ = load_mnist(flatten=not takes_images(args.model), data_dir=args.data_dir,
                           download=False)
    start = time.perf_counter()
    result = check_gradients(network, x[:args.batch], t[:args.batch], args.mode, args.samples,
                             args.seed, args.tolerance)
    elapsed = time.perf_counter() - start
    for key, err in result.errors.items():
        kinks = result.kinks.get(key, 0)
        note = f"  ({kinks} at a kink, measured again with a smaller h)" if kinks else ""
        print(f"{key:>10}  max relative error {err:.2e} over {result.checked[key]:,} "
              f"element(s){note}")
    verdict = "PASS" if result.passed else "FAIL"
    print(f"{verdict}: {args.mode} check of {type(network).__name__} on "
          f"{network.device.name}, {args.batch} images: largest error "
          f"{max(result.errors.values()):.2e} {'<' if result.passed else '>='} tolerance "
          f"{args.tolerance:g} ({elapsed:.2f} s)")
    return 0 if result.passed else 1


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.batch < 1 or args.samples < 1 or not args.tolerance > 0:
        parser.error("--batch and --samples must be >= 1 and --tolerance > 0")
    return run(parser.prog, check, args)


if __name__ == "__main__":
    sys.exit(main())
