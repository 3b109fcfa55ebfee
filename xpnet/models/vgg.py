"""A small VGG-style network for colour images (CIFAR-10): the step past the book's DeepConvNet.

Three blocks of two 3x3 convolutions (32, 64 and 128 filters), each
convolution followed by batch normalization and ReLU, each block by 2x2 max
pooling; then one affine layer to the class scores. Chapter 8 of the book
points to this family (Simonyan & Zisserman's VGG); with batch normalization
it trains from He's initial weights without the book's careful scales.
"""
from .sequential import Sequential, affine, batch_norm, conv, flatten, pool, relu

VGG_WIDTHS = (32, 64, 128)


def vgg_layers(num_classes=10, widths=VGG_WIDTHS):
    """The layer list (see ``Sequential``): [conv, BN, ReLU] x 2 + pool per width, then affine."""
    layers = []
    for width in widths:
        for _ in range(2):
            layers += [conv(width, 3, pad=1), batch_norm(), relu()]
        layers.append(pool(2))
    return layers + [flatten(), affine(num_classes)]


def VGG(input_shape=(3, 32, 32), num_classes=10, widths=VGG_WIDTHS):
    """The VGG-style network for images of ``input_shape`` (C, H, W)."""
    return Sequential(vgg_layers(num_classes, widths), input_shape)
