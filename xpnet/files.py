"""Writing files so that a crash never leaves a half-written one behind, and locking a folder.

``atomic_write`` writes beside the target and renames over it; the temporary's
name carries the writer's process id, so a later writer can remove the
leftovers of writers that were killed. ``DirectoryLock`` keeps two runs from
writing into one folder at once.
"""
import contextlib
import fcntl
import glob
import os
import tempfile

from .errors import XpnetError


def _umask():
    """The process's umask, read without changing it where Linux allows."""
    with contextlib.suppress(OSError, ValueError), open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def remove_stale_temporaries(path):
    """Delete ``atomic_write``'s temporaries for ``path`` whose writer process no longer exists."""
    directory, name = os.path.split(os.path.abspath(path))
    for tmp in glob.glob(os.path.join(glob.escape(directory), f".{glob.escape(name)}.*.tmp")):
        pid = os.path.basename(tmp)[len(name) + 2:].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


@contextlib.contextmanager
def atomic_write(path, mode="wb"):
    """Open a temporary file beside ``path``; on success, rename it over ``path``.

    Readers see either the old file or the complete new one, never a torn
    write; on an exception the old file is left untouched. The new file gets
    the old one's permissions, or the ordinary ones (0666 less the umask).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp",
                               prefix=f".{os.path.basename(path)}.{os.getpid()}.")
    try:
        try:
            permissions = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            permissions = 0o666 & ~_umask()
        os.fchmod(fd, permissions)
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class DirectoryLock:
    """An exclusive lock on a folder, held while a run writes into it.

    The lock is an ``flock`` on ``FOLDER/.lock``: the system releases it when
    the holder exits, however it exits, so a killed run never leaves a folder
    locked. The file records the holder's process id for the message a second
    run gets.
    """

    def __init__(self, directory):
        self.directory = os.fspath(directory)
        self.path = os.path.join(self.directory, ".lock")
        self._file = None

    def acquire(self):
        try:
            os.makedirs(self.directory, exist_ok=True)
            f = open(self.path, "a+")
        except OSError as e:
            raise XpnetError(f"output directory {self.directory} is not writable "
                             f"({e.strerror})") from None
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = f.read().strip()
            f.close()
            holder = f"the run in process {pid}" if pid.isdigit() else "another run"
            raise XpnetError(f"{self.directory} is in use by {holder}; wait for it to finish "
                             f"or choose another output directory") from None
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()))
        f.flush()
        self._file = f
        return self

    def release(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
