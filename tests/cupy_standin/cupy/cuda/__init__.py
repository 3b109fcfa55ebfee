"""cupy.cuda of the stand-in: devices, the runtime's queries, streams, events, the memory pool.

The stand-in has ``CUPY_STANDIN_DEVICES`` devices (default 2), all on the host.
Work completes when it is called, so events hold host clock readings.
"""
import os
import threading
import time
import weakref

from .. import standin

DEVICE_COUNT = int(os.environ.get("CUPY_STANDIN_DEVICES", "2"))
_local = threading.local()


def current_device_id():
    return getattr(_local, "device", 0)


class Device:
    """``cupy.cuda.Device(i)``: a context that makes device i current, as in CuPy."""

    def __init__(self, device=None):
        self.id = current_device_id() if device is None else int(device)
        self._previous = []

    def _check(self):
        if not 0 <= self.id < DEVICE_COUNT:
            raise runtime.CUDARuntimeError(f"cudaErrorInvalidDevice: invalid device ordinal "
                                           f"(device {self.id} of {DEVICE_COUNT})")

    def use(self):
        self._check()
        _local.device = self.id

    def __enter__(self):
        self._check()
        self._previous.append(current_device_id())
        _local.device = self.id
        return self

    def __exit__(self, *exc):
        _local.device = self._previous.pop()

    def synchronize(self):
        standin.synchronize("Device.synchronize")

    @property
    def compute_capability(self):
        return "90"

    @property
    def mem_info(self):
        return (80 << 30) - _pool.used_bytes(), 80 << 30

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class _Runtime:
    """cupy.cuda.runtime: the queries xpnet makes."""

    class CUDARuntimeError(RuntimeError):
        pass

    @staticmethod
    def getDeviceCount():  # noqa: N802 (CuPy's names)
        return DEVICE_COUNT

    @staticmethod
    def runtimeGetVersion():  # noqa: N802
        return 12040

    @staticmethod
    def driverGetVersion():  # noqa: N802
        return 12040

    @staticmethod
    def getDeviceProperties(device):  # noqa: N802
        return {"name": b"CuPy stand-in (host memory)", "totalGlobalMem": 80 << 30,
                "major": 9, "minor": 0}

    @staticmethod
    def deviceSynchronize():  # noqa: N802
        standin.synchronize("runtime.deviceSynchronize")


runtime = _Runtime()


class Stream:
    """A stream; work on it is already done when the call returns."""

    ptr = 0

    def synchronize(self):
        standin.synchronize("Stream.synchronize")


_stream = Stream()


def get_current_stream():
    return _stream


class Event:
    """A CUDA event: ``record`` reads the host clock (the stand-in's work is never queued)."""

    def __init__(self, *args, **kwargs):
        self.time = None

    def record(self, stream=None):
        self.time = time.perf_counter()

    def synchronize(self):
        standin.synchronize("Event.synchronize")


def get_elapsed_time(start, end):
    """Milliseconds between two recorded events, as CuPy's."""
    return (end.time - start.time) * 1000.0


class MemoryPool:
    """The default memory pool's statistics: bytes held by live arrays that own their memory."""

    def __init__(self):
        self._sizes = {}

    def _allocated(self, array, nbytes):
        key = id(array)
        self._sizes[key] = nbytes
        weakref.finalize(array, self._sizes.pop, key, None)

    def used_bytes(self):
        return sum(self._sizes.values())

    def total_bytes(self):
        return self.used_bytes()

    def free_all_blocks(self):
        pass


_pool = MemoryPool()
