"""The Fashion-MNIST time-to-accuracy recipe's network (bench/time_to_accuracy.py), as a
model file for ``xpnet-train --model bench/fashion_net.py``: two blocks of a 3x3
convolution, batch normalization, ReLU and 2x2 max pooling (32 and 64 filters), then one
affine layer. bench/torch_nets.py holds the same network in PyTorch."""
from xpnet.models.sequential import Sequential, affine, batch_norm, conv, flatten, pool, relu


def build(input_shape, num_classes):
    return Sequential([conv(32, 3, pad=1), batch_norm(), relu(), pool(2),
                       conv(64, 3, pad=1), batch_norm(), relu(), pool(2),
                       flatten(), affine(num_classes)], input_shape)
