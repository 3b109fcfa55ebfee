"""Where dataset files come from, checked by SHA-256 wherever they are found.

Order of search for each file: the data directory (``data_dir`` argument or
XPNET_DATA_DIR), the per-user cache, directories the system installed (e.g.
Debian's dataset-fashion-mnist), then a download from the mirrors into the
cache. Checksums are of the decompressed IDX bytes, so a re-compressed copy
(as Debian ships) passes and a corrupt or altered one never does; an archive
(CIFAR-10's) is checked as the file its publisher serves (``DataFile.raw``).
"""
import hashlib
import os
import sys
import time
import zlib
from dataclasses import dataclass, field

from ..errors import DataError
from ..files import atomic_write


@dataclass(frozen=True)
class DataFile:
    name: str      # file name as the mirrors serve it (gzip)
    sha256: str    # SHA-256 of the decompressed content (of the file itself when ``raw``)
    also: tuple = ()  # other accepted SHA-256s (another release of the same file)
    raw: bool = False  # the SHA-256 is of the file as served, not of its decompressed content

    def accepts(self, digest):
        return digest == self.sha256 or digest in self.also


@dataclass(frozen=True)
class Dataset:
    name: str
    files: dict                     # role ('train_img', ...) -> DataFile
    mirrors: tuple                  # base URLs, tried in order
    system_dirs: tuple = field(default=())
    hint: str = ""                  # what to do when the files cannot be had


class DownloadError(DataError):
    """No mirror gave a file (offline, or all failed); ``reason`` is the first failure's."""

    def __init__(self, message, reason=None):
        super().__init__(message)
        self.reason = reason


def data_dir(override=None):
    """The data directory: the argument, else XPNET_DATA_DIR, else None; DataError if no folder."""
    path = override or os.environ.get("XPNET_DATA_DIR") or None
    if path and not os.path.isdir(path):
        where = "the data directory" if override else "XPNET_DATA_DIR"
        raise DataError(f"{where} {path} does not exist or is not a folder")
    return path


def cache_dir():
    """The per-user cache: XPNET_CACHE_DIR, else $XDG_CACHE_HOME/xpnet, else ~/.cache/xpnet."""
    if os.environ.get("XPNET_CACHE_DIR"):
        return os.environ["XPNET_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "xpnet")


class ContentHasher:
    """SHA-256 of a file's content, decompressed first when it is gzip (unless ``raw``), fed
    chunk by chunk."""

    def __init__(self, raw=False):
        self._sha = hashlib.sha256()
        self._inflate = None
        self._started = raw  # raw: never look for gzip

    def update(self, chunk):
        if not self._started:
            self._started = True
            if chunk[:2] == b"\x1f\x8b":
                self._inflate = zlib.decompressobj(wbits=31)
        self._sha.update(self._inflate.decompress(chunk) if self._inflate else chunk)

    def hexdigest(self):
        if self._inflate:
            self._sha.update(self._inflate.flush())
        return self._sha.hexdigest()


def content_sha256(path, raw=False):
    """SHA-256 of a file's content (decompressed when gzip, unless ``raw``); DataError when the
    gzip is corrupt."""
    hasher = ContentHasher(raw)
    try:
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                hasher.update(chunk)
        return hasher.hexdigest()
    except zlib.error as e:
        raise DataError(f"{path}: corrupt gzip data ({e})") from None


def verified(path, datafile, remedy="replace it with the original file or remove it"):
    """``path`` if its content has the expected checksum; else DataError (it is never used)."""
    try:
        digest = content_sha256(path, datafile.raw)
    except DataError as e:
        raise DataError(f"{e}; {remedy}") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from None
    if not datafile.accepts(digest):
        raise DataError(f"{path}: the file is corrupt or not the original (SHA-256 of its "
                        f"content is {digest[:16]}…, expected {datafile.sha256[:16]}…); {remedy}")
    return path


def _candidates(dataset, datafile, directory):
    names = [datafile.name]
    if datafile.name.endswith(".gz") and not datafile.raw:  # its content, uncompressed, will do
        names.append(datafile.name[:-3])
    for folder in (os.path.join(directory, dataset.name), directory):
        for name in names:
            yield os.path.join(folder, name)


def find_local(dataset, role, directory=None):
    """The verified local copy of one file, or None where no copy exists."""
    datafile = dataset.files[role]
    places = [d for d in (data_dir(directory), cache_dir()) if d] + list(dataset.system_dirs)
    for place in places:
        for path in _candidates(dataset, datafile, place):
            if os.path.isfile(path):
                remedy = ("delete it and it will be downloaded again" if place == cache_dir()
                          else "replace it with the original file or remove it")
                return verified(path, datafile, remedy)
    return None


class _ChecksumMismatch(Exception):
    pass


def download(dataset, role, mirrors=None, timeout=30, retries=3, progress=True):
    """Fetch one file into the cache, verified; returns its path or raises DataError with every reason.

    Each mirror is tried up to ``retries`` times for passing faults (time-outs,
    resets, HTTP 5xx), with a growing pause. The file is written under a
    temporary name and renamed into place only after its checksum matched.
    """
    datafile = dataset.files[role]
    target = os.path.join(cache_dir(), dataset.name, datafile.name)
    reasons = []
    for base in mirrors or dataset.mirrors:
        url = base.rstrip("/") + "/" + datafile.name
        for attempt in range(retries):
            try:
                _fetch(url, target, datafile, timeout, progress)
                return target
            except _ChecksumMismatch as e:
                reasons.append((url, str(e)))
                break
            except OSError as e:  # urllib's URLError and HTTPError included
                reasons.append((url, _short(e)))
                if not _passing(e):
                    break
                time.sleep(0.5 * 2 ** attempt)
    raise DownloadError(f"could not download {datafile.name}: " +
                        "; ".join(f"{url}: {why}" for url, why in reasons),
                        reasons[0][1] if reasons else "no mirrors")


def _short(error):
    """A network error in a few words: 'Not Found', 'Connection refused', ..."""
    reason = getattr(error, "reason", error)
    return getattr(reason, "strerror", None) or str(reason)


def _passing(error):
    """True for faults worth retrying: time-outs, resets and server errors."""
    import urllib.error
    if isinstance(error, urllib.error.HTTPError):
        return error.code >= 500
    reason = getattr(error, "reason", error)
    return isinstance(reason, (TimeoutError, ConnectionResetError))


def _fetch(url, target, datafile, timeout, progress):
    import urllib.request  # here, not above: ~40 ms of imports that runs reading local files skip
    request = urllib.request.Request(url, headers={"User-Agent": "xpnet"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0) or None
        hasher = ContentHasher(datafile.raw)
        with _progress_bar(datafile.name, total, progress) as bar, atomic_write(target) as out:
            while chunk := response.read(1 << 16):
                out.write(chunk)
                try:
                    hasher.update(chunk)
                except zlib.error as e:
                    raise _ChecksumMismatch(f"corrupt gzip data ({e}); discarded") from None
                bar.update(len(chunk))
            digest = hasher.hexdigest()
            if not datafile.accepts(digest):
                raise _ChecksumMismatch(f"SHA-256 {digest} does not match {datafile.sha256}; "
                                        f"discarded")


def _progress_bar(name, total, enabled):
    from tqdm.auto import tqdm
    return tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}",
                disable=not enabled or not sys.stderr.isatty(), leave=False)
