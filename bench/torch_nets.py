"""The book's networks and the default training job in PyTorch, and the rows' random batches.

Nothing here imports xpnet: the PyTorch rows run in processes of their own (see
bench_report), and xpnet's import would set OpenMP variables that PyTorch reads too.
"""
import time

import numpy as np

INPUT_SHAPES = {"two_layer": (784,), "multi_layer": (784,), "multi_layer_extend": (784,),
                "simple_convnet": (1, 28, 28), "deep_convnet": (1, 28, 28), "vgg": (3, 32, 32)}


def random_batch(model, n, seed=0):
    """n random float32 inputs for ``model`` and n labels: the training-step rows' batch."""
    rng = np.random.default_rng(seed)
    return rng.random((n,) + INPUT_SHAPES[model], dtype="float32"), rng.integers(0, 10, n)


def torch_model(torch, model):
    """The PyTorch network with the same layers as xpnet's ``model`` (PyTorch's own init)."""
    nn = torch.nn
    if model == "two_layer":
        return nn.Sequential(nn.Linear(784, 50), nn.ReLU(), nn.Linear(50, 10))
    if model in ("multi_layer", "multi_layer_extend"):
        layers, size = [], 784
        for _ in range(5):
            layers.append(nn.Linear(size, 100))
            if model == "multi_layer_extend":
                layers += [nn.BatchNorm1d(100), nn.ReLU(), nn.Dropout(0.2)]
            else:
                layers.append(nn.ReLU())
            size = 100
        return nn.Sequential(*layers, nn.Linear(100, 10))
    if model == "simple_convnet":
        return nn.Sequential(nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                             nn.Linear(4320, 100), nn.ReLU(), nn.Linear(100, 10))

    if model == "fashion_net":  # bench/fashion_net.py
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32, eps=1e-6),
                             nn.ReLU(), nn.MaxPool2d(2, 2), nn.Conv2d(32, 64, 3, padding=1),
                             nn.BatchNorm2d(64, eps=1e-6), nn.ReLU(), nn.MaxPool2d(2, 2),
                             nn.Flatten(), nn.Linear(64 * 7 * 7, 10))
    if model == "vgg":  # xpnet.models.vgg
        layers, channels = [], 3
        for width in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width),
                           nn.ReLU()]
                channels = width
            layers.append(nn.MaxPool2d(2, 2))
        return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 4 * 4, 10))

    def block(c_in, c_out, pad2):
        return [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                nn.Conv2d(c_out, c_out, 3, padding=pad2), nn.ReLU(), nn.MaxPool2d(2, 2)]
    return nn.Sequential(*block(1, 16, 1), *block(16, 32, 2), *block(32, 64, 1), nn.Flatten(),
                         nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, 10),
                         nn.Dropout(0.5))


def book_init(torch, net, std=0.01):
    """The book's (and xpnet's) SimpleConvNet start: weights N(0, std²), biases zero."""
    with torch.no_grad():
        for layer in net.modules():
            if isinstance(layer, (torch.nn.Conv2d, torch.nn.Linear)):
                layer.weight.normal_(0.0, std)
                layer.bias.zero_()
    return net


def torch_step(torch, net, x, t):
    """One training step (forward, backward, Adam) as a PyTorch user writes it."""
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step():
        optimizer.zero_grad()
        loss_fn(net(x), t).backward()
        optimizer.step()
    return step


def accuracy(torch, net, x, t, chunk=500):
    """The share of (x, t) that ``net`` classifies right, ``chunk`` samples at a time."""
    net.eval()
    with torch.no_grad():
        right = sum(int((net(x[i:i + chunk]).argmax(1) == t[i:i + chunk]).sum())
                    for i in range(0, len(x), chunk))
    net.train()
    return right / len(x)


def train_job(torch, data, epochs, batch_size=100, eval_samples=2000, seed=0, device="cpu"):
    """What ``python train.py`` does by default, in PyTorch: SimpleConvNet started as the
    book starts it, Adam 0.001, batch 100; each epoch visits every training image once and
    scores ``eval_samples`` train and test images; at the end every test image is scored.
    ``device`` "cuda": data and network on the GPU, as xpnet's. Returns the final test
    accuracy."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_train, t_train, x_test, t_test = (torch.from_numpy(data[k]).to(device) for k in
                                        ("x_train", "t_train", "x_test", "t_test"))
    t_train, t_test = t_train.long(), t_test.long()
    scored = {name: torch.from_numpy(rng.permutation(len(x))[:eval_samples]).to(device)
              for name, x in (("train", x_train), ("test", x_test))}
    net = book_init(torch, torch_model(torch, "simple_convnet")).to(device)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        order = torch.from_numpy(rng.permutation(len(x_train))).to(device)
        for i in range(0, len(order) - batch_size + 1, batch_size):
            idx = order[i:i + batch_size]
            optimizer.zero_grad()
            loss_fn(net(x_train[idx]), t_train[idx]).backward()
            optimizer.step()
        train_acc = accuracy(torch, net, x_train[scored["train"]], t_train[scored["train"]])
        test_acc = accuracy(torch, net, x_test[scored["test"]], t_test[scored["test"]])
        print(f"epoch {epoch}: train {train_acc:.4f} test {test_acc:.4f} "
              f"({time.perf_counter() - start:.1f} s)")
    return accuracy(torch, net, x_test, t_test)
