"""The emulator's files on disk: atomic replacement, a writers' lock, and change detection.

The key file and the users file are shared between a running emulator and the `atoms dev`
commands, so:
- writes go to a temporary file that replaces the real one (`os.replace`): a reader never
  sees half a file; the file is created with mode 0600 (the key file holds private keys);
- writers hold an exclusive `flock` on a sidecar `.lock` file, so two processes cannot both
  read the old content and overwrite each other;
- readers compare the file's identity (inode, mtime, size) to notice another process's write.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

FileIdentity = tuple[int, int, int]


class StateFileError(Exception):
    """A state file cannot be read or written (the message names the file and why)."""


def file_identity(stat: os.stat_result) -> FileIdentity:
    """Return what changes whenever the file is replaced or rewritten."""
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def replace_atomically(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory (mode 0600).

    Raises:
        OSError: the directory is not writable or the disk is full.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            os.fchmod(stream.fileno(), 0o600)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive `flock` on `<path>.lock` for the duration of the block.

    Raises:
        StateFileError: the lock file cannot be created.
    """
    lock_path = path.with_name(f"{path.name}.lock")
    try:
        lock_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as err:
        raise StateFileError(f"cannot open lock file {lock_path}: {err}") from err
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
