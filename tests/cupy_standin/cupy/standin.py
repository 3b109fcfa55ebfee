"""What the stand-in records: host<->device transfers and synchronizations, each with its cause.

A test wraps the code it examines in ``with standin.counting() as record:``
and then reads ``record.to_device``, ``record.to_host`` and ``record.syncs``
(lists of short causes such as ``'asarray'``, ``'float()'``, ``'nonzero'``).
"""
import contextlib
import traceback

STANDIN = True  # tests tell the stand-in from a real CuPy by this module


class Record:
    """Transfers and synchronizations seen while it was active, in order."""

    def __init__(self):
        self.to_device, self.to_host, self.syncs = [], [], []

    def __repr__(self):
        return (f"<standin record: {len(self.to_device)} to device {self.to_device}, "
                f"{len(self.to_host)} to host {self.to_host}, {len(self.syncs)} syncs "
                f"{self.syncs}>")


_records = []
trace = False  # True: each cause also names the line of xpnet (or a test) that caused it


def _cause(what):
    if not trace:
        return what
    for frame in reversed(traceback.extract_stack()[:-3]):
        if "cupy_standin" not in frame.filename:
            return f"{what} at {frame.filename.rsplit('/', 2)[-1]}:{frame.lineno}"
    return what


def to_device(what):
    """Note a copy from host memory to the device."""
    for record in _records:
        record.to_device.append(_cause(what))


def to_host(what):
    """Note a copy from the device to the host; it waits for the device, so it syncs too."""
    for record in _records:
        record.to_host.append(_cause(what))
    synchronize(what)


def synchronize(what):
    """Note that the host waited for the device."""
    for record in _records:
        record.syncs.append(_cause(what))


@contextlib.contextmanager
def counting():
    """Record transfers and synchronizations inside the block."""
    record = Record()
    _records.append(record)
    try:
        yield record
    finally:
        _records.remove(record)
