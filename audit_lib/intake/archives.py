"""Zip archives read lazily and within the caps: one open archive shared by its members, a member's
bytes streamed in chunks (`ChunkStream`), declared bombs refused before a byte is inflated."""

from __future__ import annotations

import io
import threading
import zipfile
import zlib
from collections.abc import Callable, Iterator
from datetime import datetime
from struct import error as struct_error
from typing import BinaryIO

from audit_lib.errors import ReadError
from audit_lib.intake.entries import CHUNK, Limits
from audit_lib.intake.names import open_regular, reason_of, size_text


def zip_time(info: zipfile.ZipInfo) -> float:
    try:
        return datetime(*info.date_time).timestamp()
    except (ValueError, OverflowError, OSError):
        return 0.0


def declared_bomb(info: zipfile.ZipInfo, lim: Limits) -> str | None:
    """Why a member is refused from its declared sizes alone (nothing decompressed), or None."""
    if info.file_size > lim.max_file_bytes:
        return (f"refused: expands to {size_text(info.file_size)}, more than the cap of "
                f"{size_text(lim.max_file_bytes)} per file")
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > lim.ratio_grace and \
            info.file_size > lim.max_ratio * max(info.compress_size, 1):
        return (f"refused: expands from {size_text(info.compress_size)} to {size_text(info.file_size)}, more than "
                f"{lim.max_ratio} times (a zip bomb?)")
    return None


class Archive:
    """An open zip archive (on disk or in memory) shared by its members' entries; member reads are locked."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.infos = zf.infolist()
        self.lock = threading.Lock()

    @classmethod
    def on_disk(cls, real: str, lim: Limits) -> Archive:
        f = open_regular(real)
        try:
            return cls._open(f, lim)
        except BaseException:
            f.close()
            raise

    @classmethod
    def in_memory(cls, data: bytes, lim: Limits) -> Archive:
        return cls._open(io.BytesIO(data), lim)

    @classmethod
    def _open(cls, f: BinaryIO, lim: Limits) -> Archive:
        """Check the member count in the end record before zipfile reads the whole central directory."""
        try:
            end = zipfile._EndRecData(f)  # type: ignore[attr-defined]
            if end is None:
                raise ReadError("not a readable zip archive (no end of central directory)")
            count, cd_size = end[zipfile._ECD_ENTRIES_TOTAL], end[zipfile._ECD_SIZE]  # type: ignore[attr-defined]
            if count > lim.max_members or cd_size > lim.max_members * 1024:
                raise ReadError(f"refused: a zip archive with more than {lim.max_members:,} members")
            f.seek(0)
            zf = zipfile.ZipFile(f)
        except ReadError:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, struct_error) as exc:
            raise ReadError(f"not a readable zip archive ({reason_of(exc)})") from None
        if len(zf.infolist()) > lim.max_members:
            raise ReadError(f"refused: a zip archive with more than {lim.max_members:,} members")
        return cls(zf)


def member_chunks(holder: Archive, index: int, info: zipfile.ZipInfo, lim: Limits,
                   cap: int | None = None) -> Iterator[bytes]:
    """A zip member's bytes, decompressed as a stream; past the size or ratio cap, ReadError (after the
    bytes that were within the cap)."""
    size_cap = min(cap or lim.max_file_bytes, lim.max_file_bytes)
    ratio_cap = (max(lim.ratio_grace, lim.max_ratio * max(info.compress_size, 1))
                 if info.compress_type != zipfile.ZIP_STORED else None)
    got = 0
    try:
        with holder.lock:
            f = holder.zf.open(holder.infos[index])
        with f:
            while True:
                with holder.lock:
                    chunk = f.read(CHUNK)
                if not chunk:
                    return
                got += len(chunk)
                if got > size_cap:
                    yield chunk[: len(chunk) - (got - size_cap)]
                    raise ReadError(f"stopped at the cap of {size_text(size_cap)} per file: the rest is unknown")
                if ratio_cap is not None and got > ratio_cap:
                    raise ReadError(f"refused: expands from {size_text(info.compress_size)} to more than "
                                    f"{size_text(got)}, more than {lim.max_ratio} times (a zip bomb?)")
                yield chunk
    except ReadError:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, NotImplementedError, ValueError,
            struct_error) as exc:
        raise ReadError(f"damaged zip member ({reason_of(exc)})") from None


class ChunkStream(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks (closing it closes the iterator)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self.rest = b""

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self.rest:
            nxt = next(self.chunks, None)
            if nxt is None:
                return 0
            self.rest = nxt
        n = min(len(buffer), len(self.rest))
        buffer[:n] = self.rest[:n]
        self.rest = self.rest[n:]
        return n

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        super().close()


def member_opener(holder: Archive, index: int, info: zipfile.ZipInfo, lim: Limits) -> Callable[[], BinaryIO]:
    return lambda: ChunkStream(member_chunks(holder, index, info, lim))  # type: ignore[return-value]


def member_reader(holder: Archive, index: int, info: zipfile.ZipInfo, lim: Limits) -> Callable[[], bytes]:
    return lambda: b"".join(member_chunks(holder, index, info, lim))
