"""Reading a file a user named, bounded: a regular file of at most N bytes.

`stat().st_size` alone is not enough: a FIFO reports 0 bytes and then blocks the read forever,
and a symlink to /dev/zero reports 0 bytes and then never ends (MemoryError). So the file is
opened without blocking, its type is checked on the open descriptor (what was really opened,
after symlinks), and at most `max_bytes + 1` bytes are read.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path


class UnreadableFile(Exception):
    """The file cannot be used (its message says why, without the path); callers translate it
    into their own DeskbotError naming the file. `too_large` tells the size limit apart."""

    def __init__(self, message: str, *, too_large: bool = False) -> None:
        super().__init__(message)
        self.too_large = too_large


def read_bounded(path: str | Path, max_bytes: int) -> bytes:
    """The bytes of a regular file; UnreadableFile for a missing file, a FIFO, a device, a
    folder, or one larger than `max_bytes`."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO must not block the open
    except OSError as exc:
        raise UnreadableFile(f"cannot read it: {exc.strerror or exc}") from exc
    except ValueError as exc:  # a NUL or an unencodable character in the name
        raise UnreadableFile("cannot read it: not a usable file name") from exc
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise UnreadableFile(f"not a regular file ({_kind(mode)})")
        chunks, size = [], 0
        while size <= max_bytes:
            chunk = os.read(fd, min(1 << 20, max_bytes + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        raise UnreadableFile(f"cannot read it: {exc.strerror or exc}") from exc
    finally:
        os.close(fd)
    if size > max_bytes:
        raise UnreadableFile(f"larger than {max_bytes // 1024} KiB", too_large=True)
    return b"".join(chunks)


def read_text_bounded(path: str | Path, max_bytes: int) -> str:
    """`read_bounded` decoded as UTF-8 (UnreadableFile naming the first bad byte)."""
    raw = read_bounded(path, max_bytes)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not UTF-8 text (byte {exc.start})") from exc


def _kind(mode: int) -> str:
    kinds = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a named pipe"),
             (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))
    return next((name for test, name in kinds if test(mode)), "a special file")
