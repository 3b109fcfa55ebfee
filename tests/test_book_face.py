"""xpnet-book: the book's package names served by xpnet, the reader's own modules kept,
the book's dataset loader's types, its randomness, and safe pickles.

(Numbers against the book's own code: test_book_conformance.py.)
"""
import gzip
import os
import pickle
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest


def xpnet_book(script_dir, script, *args, env=None, cwd=None):
    full_env = dict(os.environ, MPLBACKEND="Agg", **(env or {}))
    return subprocess.run([sys.executable, "-m", "xpnet.book", *args, str(script)],
                          capture_output=True, text=True, timeout=300, env=full_env,
                          cwd=cwd or script_dir)


@pytest.fixture
def reader(tmp_path):
    """A reader's checkout: their own common/ and dataset/ folders, and a chapter folder."""
    (tmp_path / "common").mkdir()
    (tmp_path / "common" / "__init__.py").write_text("")
    (tmp_path / "common" / "layers.py").write_text("raise ImportError('the reader copy')\n")
    (tmp_path / "common" / "my_extra.py").write_text(
        "from common.functions import softmax\nEXTRA = 'mine'\n")
    (tmp_path / "dataset").mkdir()
    (tmp_path / "ch").mkdir()
    return tmp_path


def _script(reader, body):
    path = reader / "ch" / "script.py"
    path.write_text("import sys, os\nsys.path.append(os.pardir)\n" + textwrap.dedent(body))
    return path


def test_xpnets_modules_win_and_the_readers_own_are_imported(reader):
    script = _script(reader, """
        from common.layers import *
        from common.my_extra import EXTRA
        from common.optimizer import *
        from common.trainer import Trainer
        import common.layers, xpnet.layers
        print(Relu is xpnet.layers.Relu, EXTRA, np.__name__, SGD.__module__, Trainer.__module__)
        print(sorted(n for n in dir() if not n.startswith('_') and n[0].isupper()))
    """)
    result = xpnet_book(reader / "ch", script)
    assert result.returncode == 0, result.stderr
    first, names = result.stdout.splitlines()
    assert first == "True mine numpy xpnet.optimizers xpnet.trainer"
    for name in ("Affine", "BatchNormalization", "Convolution", "Dropout", "Pooling", "Relu",
                 "Sigmoid", "SoftmaxWithLoss", "SGD", "Momentum", "Nesterov", "AdaGrad",
                 "RMSprop", "Adam", "Trainer"):
        assert name in names


def test_every_public_name_of_the_books_packages_is_there(reader):
    script = _script(reader, """
        import common.functions as f, common.gradient as g, common.layers as l
        import common.optimizer as o, common.trainer as t, common.util as u
        import common.multi_layer_net as m, common.multi_layer_net_extend as e
        import dataset.mnist as d
        names = {f: 'identity_function step_function sigmoid sigmoid_grad relu relu_grad softmax '
                    'sum_squared_error cross_entropy_error softmax_loss',
                 g: '_numerical_gradient_1d numerical_gradient_2d numerical_gradient',
                 l: 'Relu Sigmoid Affine SoftmaxWithLoss Dropout BatchNormalization Convolution '
                    'Pooling im2col col2im np softmax cross_entropy_error',
                 o: 'SGD Momentum Nesterov AdaGrad RMSprop Adam np',
                 t: 'Trainer np SGD Adam', u: 'smooth_curve shuffle_dataset conv_output_size '
                    'im2col col2im', m: 'MultiLayerNet', e: 'MultiLayerNetExtend',
                 d: 'load_mnist init_mnist download_mnist url_base key_file dataset_dir save_file '
                    'train_num test_num img_dim img_size _change_one_hot_label'}
        print([f'{mod.__name__}.{n}' for mod, ns in names.items() for n in ns.split()
               if not hasattr(mod, n)])
    """)
    result = xpnet_book(reader / "ch", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_load_mnist_returns_the_books_types(reader, data_dir):
    script = _script(reader, """
        from dataset.mnist import load_mnist
        for normalize in (True, False):
            for flatten in (True, False):
                for one_hot in (True, False):
                    (x, t), (xt, tt) = load_mnist(normalize, flatten, one_hot)
                    print(x.shape, x.dtype, t.shape, t.dtype, xt.shape, xt.dtype, tt.dtype,
                          float(xt.sum()), float(tt.sum()))
    """)
    result = xpnet_book(reader / "ch", script, env={"XPNET_DATA_DIR": data_dir})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("(5000, 784) float32 (5000, 10) float64 (10000, 784) float32 "
                               "float64")
    assert lines[1].startswith("(5000, 784) float32 (5000,) uint8 (10000, 784) float32 uint8")
    assert lines[2].startswith("(5000, 1, 28, 28) float32 (5000, 10) float64")
    assert lines[7].startswith("(5000, 1, 28, 28) uint8 (5000,) uint8 (10000, 1, 28, 28) uint8")
    from xpnet.datasets import read_idx
    test_labels = read_idx(os.path.join(data_dir, "mnist", "t10k-labels-idx1-ubyte.gz"))
    assert float(lines[1].split()[-1]) == float(test_labels.sum())
    assert float(lines[0].split()[-1]) == 10000.0  # one 1 per one-hot row


def _copy_mnist(data_dir, folder):
    """The reference MNIST files where the book's loader looks (train5k as the training set)."""
    for role, name in (("t10k-images", "t10k-images"), ("t10k-labels", "t10k-labels"),
                       ("train5k-images", "train-images"), ("train5k-labels", "train-labels")):
        kind = "idx3" if "images" in role else "idx1"
        shutil.copy(os.path.join(data_dir, "mnist", f"{role}-{kind}-ubyte.gz"),
                    folder / f"{name}-{kind}-ubyte.gz")


def test_the_readers_mnist_files_are_used_and_checked(reader, data_dir, tmp_path):
    _copy_mnist(data_dir, reader / "dataset")
    script = _script(reader, """
        from dataset.mnist import load_mnist, dataset_dir
        (x, t), _ = load_mnist()
        print(dataset_dir == os.path.join(os.path.dirname(os.getcwd()), 'dataset'), t[:3].tolist())
    """)
    env = {"XPNET_CACHE_DIR": str(tmp_path / "cache")}
    result = xpnet_book(reader / "ch", script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True [0, 0, 0]"  # the reference subset, sorted by digit
    labels = reader / "dataset" / "train-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(labels.read_bytes()))
    raw[20] = 9
    labels.write_bytes(gzip.compress(bytes(raw)))
    result = xpnet_book(reader / "ch", script, env=env)
    assert result.returncode == 1
    assert f"{labels}: the file is corrupt or not the original" in result.stderr
    assert "remove it, and xpnet-book uses xpnet's verified copy of MNIST" in result.stderr


def test_weights_dropout_and_batches_draw_from_numpys_generator_as_the_book_does(reader):
    script = _script(reader, """
        import numpy as np
        from common.multi_layer_net_extend import MultiLayerNetExtend
        from common.layers import Dropout
        np.random.seed(5)
        net = MultiLayerNetExtend(4, [3], 2, use_dropout=True, dropout_ration=0.3)
        np.random.seed(5)
        print(np.array_equal(net.params['W1'], np.sqrt(2.0 / 4) * np.random.randn(4, 3)),
              np.array_equal(net.params['W2'], np.sqrt(2.0 / 3) * np.random.randn(3, 2)))
        x = np.ones((2, 5))
        np.random.seed(1)
        out = Dropout(0.3).forward(x)
        np.random.seed(1)
        print(np.array_equal(out, x * (np.random.rand(2, 5) > 0.3)), net.params['W1'].dtype)
    """)
    result = xpnet_book(reader / "ch", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "True", "float64"]


def test_the_readers_pickle_loads_are_restricted(reader):
    marker = reader / "pwned"

    class Exploit:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    (reader / "ch" / "params.pkl").write_bytes(pickle.dumps({"W1": Exploit()}))
    (reader / "ch" / "ok.pkl").write_bytes(pickle.dumps({"W1": np.arange(3.0)}))
    script = _script(reader, """
        import pickle
        with open('ok.pkl', 'rb') as f:
            print(pickle.load(f)['W1'].tolist())
        with open('params.pkl', 'rb') as f:
            pickle.load(f)
    """)
    result = xpnet_book(reader / "ch", script)
    assert result.stdout.strip() == "[0.0, 1.0, 2.0]"
    assert result.returncode == 1 and "refused to load posix.system" in result.stderr
    assert not marker.exists()


def test_a_scripts_error_shows_the_scripts_traceback(reader):
    script = _script(reader, "x = 1\nraise ValueError('in the script')\n")
    result = xpnet_book(reader / "ch", script)
    assert result.returncode == 1
    assert result.stderr.startswith("Traceback (most recent call last):\n  File ")
    assert "runpy" not in result.stderr and "ValueError: in the script" in result.stderr
    missing = xpnet_book(reader / "ch", reader / "ch" / "nope.py")
    assert missing.returncode == 1
    assert missing.stderr.strip() == f"xpnet-book: error: {reader / 'ch' / 'nope.py'}: no such file"


def test_arguments_and_seed_reach_the_script(reader):
    script = _script(reader, """
        import numpy as np
        print(sys.argv[1:], np.random.rand())
    """)
    result = xpnet_book(reader / "ch", script, "--seed", "3")
    expected = np.random.RandomState(3).rand()
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"[] {expected}"
    with_args = subprocess.run([sys.executable, "-m", "xpnet.book", str(script), "a", "--b"],
                               capture_output=True, text=True, cwd=reader / "ch")
    assert with_args.stdout.split("]")[0] == "['a', '--b'"


def test_a_script_that_reads_local_files_loads_no_network_random_or_argparse_code(reader):
    """Start-up is most of a short script's time: xpnet-book imports only what a run uses."""
    script = _script(reader, """
        import sys
        from common.functions import softmax
        from common.gradient import numerical_gradient
        from dataset.mnist import load_mnist
        print(sorted(m for m in ("urllib.request", "numpy.random", "argparse", "zipfile",
                                 "traceback", "sysconfig") if m in sys.modules))
    """)
    result = xpnet_book(reader / "ch", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_pure_python_script_never_imports_numpy(reader):
    """The book's chapter-5 layers of apples and oranges are plain Python: under xpnet-book
    they start as fast as python starts them, with no NumPy (about 0.1 s) imported."""
    script = _script(reader, """
        print("numpy" in sys.modules, "xpnet.backend" in sys.modules)
    """)
    result = xpnet_book(reader / "ch", script)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False"]


def test_xpnet_imported_later_by_the_script_takes_the_books_terms(reader):
    """The backend, first imported by the script itself, computes on the book's terms."""
    script = _script(reader, """
        import xpnet
        from xpnet.backend.random import uses_numpy_global
        print(xpnet.get_dtype(), xpnet.get_device().name, uses_numpy_global())
    """)
    result = xpnet_book(reader / "ch", script, env={"XPNET_DEVICE": "cpu"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["float64", "cpu", "True"]


def test_import_xpnet_alone_leaves_numpy_for_later():
    """NumPy is imported when xpnet's API is first used, not by ``import xpnet``."""
    code = ("import sys, xpnet; a = 'numpy' in sys.modules; xpnet.xp; "
            "print(a, 'numpy' in sys.modules, 'xp' in dir(xpnet))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["False", "True", "True"]
