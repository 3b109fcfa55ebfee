"""Conformance: common.util, im2col and col2im included."""
import numpy as np

from common.util import col2im, conv_output_size, im2col, shuffle_dataset, smooth_curve
from show import show

np.random.seed(4)
x = np.random.randn(2, 3, 7, 7)
for filter_size, stride, pad in ((3, 1, 0), (5, 1, 2), (3, 2, 1), (2, 2, 0)):
    col = im2col(x, filter_size, filter_size, stride, pad)
    show(f"im2col {filter_size} {stride} {pad}", col)
    show(f"col2im {filter_size} {stride} {pad}",
         col2im(np.random.randn(*col.shape), x.shape, filter_size, filter_size, stride, pad))
    print("conv_output_size", conv_output_size(7, filter_size, stride, pad))
print("conv_output_size fraction", conv_output_size(8, 3, 2, 0))
show("im2col float16", im2col(x.astype(np.float16), 3, 3))
show("smooth_curve", smooth_curve(np.abs(np.random.randn(50))))
images, labels = np.random.randn(10, 4), np.arange(10)
shuffled, shuffled_labels = shuffle_dataset(images, labels)
show("shuffle_dataset x", shuffled)
show("shuffle_dataset t", shuffled_labels)
shuffled, _ = shuffle_dataset(np.random.randn(5, 1, 2, 2), np.arange(5))
show("shuffle_dataset 4-D", shuffled)
