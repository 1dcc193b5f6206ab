"""Checking that a file is a complete GGUF model, from its header alone, in milliseconds.

llama.cpp reports a truncated or foreign file with a vague error (or crashes) rather than saying
so, and ``gguf.GGUFReader`` takes seconds on a 152k-token vocabulary and fails on truncated files
with assorted numpy errors. This walks the header, skipping values, to find where the tensor
data must end, and compares that with the file's size.
"""

from __future__ import annotations

import mmap
import stat
import struct
from dataclasses import dataclass
from pathlib import Path

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFValueType

from backends.errors import ModelFileError


class _Truncated(Exception):
    """The header claims more bytes than the file has."""


class _Damaged(Exception):
    """The header holds a value no valid GGUF has."""


_VALUE_SIZES = {
    GGUFValueType.UINT8: 1,
    GGUFValueType.INT8: 1,
    GGUFValueType.BOOL: 1,
    GGUFValueType.UINT16: 2,
    GGUFValueType.INT16: 2,
    GGUFValueType.UINT32: 4,
    GGUFValueType.INT32: 4,
    GGUFValueType.FLOAT32: 4,
    GGUFValueType.UINT64: 8,
    GGUFValueType.INT64: 8,
    GGUFValueType.FLOAT64: 8,
}
_SUPPORTED_VERSIONS = (2, 3)
_DEFAULT_ALIGNMENT = 32
_MAX_DIMS = 8


class _GGUFHeader:
    """Walks a GGUF header in a buffer, skipping values, to find where tensor data must end.

    Written by hand instead of using ``gguf.GGUFReader`` because the reader builds numpy views
    of every metadata item (over 300,000 for Qwen's vocabulary) and fails on truncated files
    with assorted numpy errors; this only skips, which takes a few hundredths of a second.
    """

    def __init__(self, buf: mmap.mmap | bytes, byteorder: str) -> None:
        self.buf = buf
        self.pos = 8  # after the magic and the version
        self._u32 = struct.Struct(byteorder + "I")
        self._u64 = struct.Struct(byteorder + "Q")
        self.alignment = _DEFAULT_ALIGNMENT
        self.context_length: int | None = None

    def u32(self) -> int:
        return self._unpack(self._u32)

    def u64(self) -> int:
        return self._unpack(self._u64)

    def _unpack(self, fmt: struct.Struct) -> int:
        try:
            (value,) = fmt.unpack_from(self.buf, self.pos)
        except struct.error as exc:
            raise _Truncated from exc
        self.pos += fmt.size
        return int(value)

    def skip(self, size: int) -> None:
        self.pos += size
        if self.pos > len(self.buf):
            raise _Truncated

    def string(self) -> bytes:
        size = self.u64()
        start = self.pos
        self.skip(size)
        return bytes(self.buf[start : self.pos])

    def count(self, min_item_size: int) -> int:
        """A count of items, refused when that many could not fit in what is left."""
        value = self.u64()
        if value * min_item_size > len(self.buf) - self.pos:
            raise _Truncated
        return value

    def data_end(self) -> int:
        """Parse the whole header; return the offset just past the last tensor's data."""
        tensor_count = self.count(min_item_size=8 + 4 + 4 + 8)
        kv_count = self.count(min_item_size=8 + 4)
        for _ in range(kv_count):
            self._key_value()
        tensors = [self._tensor_end() for _ in range(tensor_count)]
        data_start = -(-self.pos // self.alignment) * self.alignment
        return data_start + max(tensors, default=0)

    def _key_value(self) -> None:
        key = self.string()
        value_type = self._value_type()
        if key == b"general.alignment" and value_type == GGUFValueType.UINT32:
            self.alignment = self.u32()
            if self.alignment <= 0 or self.alignment & (self.alignment - 1):
                raise _Damaged(f"alignment {self.alignment} is not a power of two")
            return
        if key.endswith(b".context_length") and value_type == GGUFValueType.UINT32:
            self.context_length = self.u32()
            return
        self._skip_value(value_type)

    def _value_type(self) -> GGUFValueType:
        raw = self.u32()
        try:
            return GGUFValueType(raw)
        except ValueError as exc:
            raise _Damaged(f"unknown metadata value type {raw}") from exc

    def _skip_value(self, value_type: GGUFValueType) -> None:
        if value_type == GGUFValueType.STRING:
            self.skip(self.u64())
        elif value_type == GGUFValueType.ARRAY:
            item_type = self._value_type()
            if item_type == GGUFValueType.STRING:
                self._skip_strings(self.count(min_item_size=8))
            elif item_type == GGUFValueType.ARRAY:
                for _ in range(self.count(min_item_size=12)):
                    self._skip_value(item_type)
            else:
                size = _VALUE_SIZES[item_type]
                self.skip(self.count(min_item_size=size) * size)
        else:
            self.skip(_VALUE_SIZES[value_type])

    def _skip_strings(self, count: int) -> None:
        """Skip ``count`` length-prefixed strings (the vocabulary): the one hot loop here."""
        unpack, buf, pos = self._u64.unpack_from, self.buf, self.pos
        try:
            for _ in range(count):
                pos += 8 + unpack(buf, pos)[0]
        except struct.error as exc:
            raise _Truncated from exc
        self.pos = pos
        if pos > len(buf):
            raise _Truncated

    def _tensor_end(self) -> int:
        """Read one tensor description; return where its data ends, relative to data start."""
        self.string()  # name
        n_dims = self.u32()
        if n_dims > _MAX_DIMS:
            raise _Damaged(f"a tensor has {n_dims} dimensions")
        elements = 1
        for _ in range(n_dims):
            elements *= self.u64()
        tensor_type = self.u32()
        offset = self.u64()
        return offset + _tensor_bytes(tensor_type, elements)


def _tensor_bytes(tensor_type: int, elements: int) -> int:
    """Bytes of a tensor's data; 0 for a type this version of ``gguf`` does not know yet."""
    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(tensor_type)]
    except (ValueError, KeyError):
        return 0  # llama.cpp may know newer types; the offset is still checked
    return elements // block * type_size


@dataclass
class GGUFSummary:
    """What the header check learns on the way.

    Attributes:
        context_length: the context the model was trained for (``<arch>.context_length``).
    """

    context_length: int | None = None


def check_gguf_file(path: Path, *, label: str | None = None) -> GGUFSummary:
    """Check that ``path`` is a complete GGUF model file, in well under a second.

    Reads only the header (the metadata and tensor table) and compares where the tensor data
    must end with the file's size, which catches an interrupted copy or download. ``label``
    names the file in messages (default: "The model file PATH"), for callers whose file has a
    better name than its temporary path.

    Returns:
        What the header says that loading needs to know (the training context length).

    Raises:
        ModelFileError: missing, a folder, unreadable, not a GGUF, damaged or truncated.
    """
    path = Path(path)
    label = label or f"The model file {path}"
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise ModelFileError(f"{label} does not exist.") from exc
    except OSError as exc:
        raise ModelFileError(f"{label} cannot be read: {exc.strerror or exc}.") from exc
    if stat.S_ISDIR(info.st_mode):
        raise ModelFileError(f"{label} is a folder, not a model file: choose the .gguf file in it.")
    summary = GGUFSummary()
    try:
        problem = _gguf_problem(path, info.st_size, summary)
    except OSError as exc:
        raise ModelFileError(f"{label} cannot be read: {exc.strerror or exc}.") from exc
    if problem:
        raise ModelFileError(f"{label} {problem}.")
    return summary


_INTERRUPTED = "so the copy or download was probably interrupted"


def _gguf_problem(path: Path, size: int, summary: GGUFSummary) -> str | None:
    """What is wrong with the file, as the end of a sentence; None for a complete GGUF.

    Fills ``summary`` with what the header told on the way.
    """
    with path.open("rb") as handle:
        head = handle.read(8)
        if head[:4] != b"GGUF":
            return "is not a GGUF model file (it does not start with 'GGUF'); llama.cpp needs one"
        if len(head) < 8:
            return f"is truncated: it ends inside its header, {_INTERRUPTED}"
        byteorder = _byteorder(head)
        if byteorder is None:
            version = struct.unpack("<I", head[4:8])[0]
            return (
                f"uses GGUF version {version}, which this app cannot read (versions 2 and 3 "
                f"are supported); convert it again with a current llama.cpp"
            )
        with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as buf:
            header = _GGUFHeader(buf, byteorder)
            try:
                end = header.data_end()
                summary.context_length = header.context_length
            except _Truncated:
                return (
                    f"is truncated: its header runs past the end of the file ({size:,} bytes), "
                    f"{_INTERRUPTED}"
                )
            except _Damaged as exc:
                return f"is damaged: {exc}"
    if end > size:
        return (
            f"is truncated: its tensor data needs {end:,} bytes but the file has {size:,}, "
            f"{_INTERRUPTED}"
        )
    return None


def _byteorder(head: bytes) -> str | None:
    """The struct byte order of a GGUF (its version field tells); None for a version we lack."""
    for order in ("<", ">"):
        if struct.unpack(order + "I", head[4:8])[0] in _SUPPORTED_VERSIONS:
            return order
    return None
