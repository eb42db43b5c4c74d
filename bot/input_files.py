"""Reading a plan file under the input limits: the size is checked before a byte is read, and a file taken
from the watched inbox must be a regular file opened without following a link (a link dropped there
could point anywhere on the server)."""
from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from parser.errors import DocumentError
from parser.limits import Limits


def read_input(path: Path, limits: Limits | None = None, *, nofollow: bool = False) -> bytes:
    limits = limits or Limits.from_env()
    flags = os.O_RDONLY | (os.O_NOFOLLOW | os.O_NONBLOCK if nofollow else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if nofollow and e.errno == errno.ELOOP:
            raise DocumentError(f"{path.name} 是符号链接，收件箱只接受普通文件", code="not_regular") from e
        raise DocumentError(f"无法读取文件 {path}：{e.strerror}", code="unreadable") from e
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise DocumentError(f"{path.name} 不是普通文件", code="not_regular")
        limits.check_size(st.st_size)
        data = fh.read(limits.max_file_mb * 1024 * 1024 + 1)  # a file growing while read stays bounded
    limits.check_size(len(data))
    return data


def is_regular(path: Path) -> bool:
    """A regular file itself, not a link to one."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False
