"""xpnet's commands: faces over the library that parse arguments, call it, print and exit.

``xpnet-train`` (and ``python train.py``) in ``train``, ``xpnet-gradcheck`` in
``gradcheck``, ``xpnet doctor`` in ``doctor``. Each prints xpnet's own errors as
one line and exits 1; the library itself never changes how the host program
reports errors.
"""
