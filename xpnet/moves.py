"""Which element of which array the numerical-gradient loop has moved: a hint for layers.

``numerical_gradient(f, W)`` moves one element of W at a time, evaluates f twice
and puts the element back. A layer that holds W may ask which element is moved
now (``moved(W)``) and skip work that this element cannot change: an Affine layer
whose input is zero on that element's row gives, to the bit, the output it gave
with W unmoved (xpnet.layers.affine). Like the loop itself, this assumes that
nothing but the loop changes W while the loop runs.
"""
import contextlib
import threading

_state = threading.local()


class Moves:
    """One run of the loop over ``array``: ``index`` is the flat index of the element moved;
    ``kept`` holds what layers keep for the run (by layer), dropped when the run ends."""

    def __init__(self, array):
        self.array = array
        self.index = None
        self.kept = {}


@contextlib.contextmanager
def moving(array):
    """Inside this block the loop moves elements of ``array``; set ``index`` before each."""
    previous = getattr(_state, "moves", None)
    _state.moves = Moves(array)
    try:
        yield _state.moves
    finally:
        _state.moves = previous


def moved(array):
    """The loop's Moves when it is moving an element of ``array`` itself now, else None."""
    moves = getattr(_state, "moves", None)
    if moves is None or moves.array is not array or moves.index is None:
        return None
    return moves
