"""The host end of the in-container supervisor's stdin/stdout (``docker attach``).

Docker multiplexes a non-TTY container's stdout and stderr over one socket in
frames of ``[stream, 0, 0, 0, size (4 bytes, big-endian)] + payload``. This class
demultiplexes them and offers what the request/response protocol of
:mod:`ecoagent.sandbox._runner` needs: send bytes, read a bounded line, read exactly
N bytes. Reads block; the executor bounds them by removing the container, which
closes the socket and turns the read into :class:`EOFError`.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

__all__ = ["AttachChannel", "ProtocolError"]


class ProtocolError(Exception):
    """The supervisor's answer did not follow the protocol (or the stream ended)."""


class AttachChannel:
    """Demultiplexed, bounded access to an attached container's stdio."""

    def __init__(self, attached: Any) -> None:
        self._attached = attached  # keep the HTTP response object alive with the socket
        self._sock: socket.socket = getattr(attached, "_sock", attached)
        self._out = bytearray()

    def send(self, data: bytes) -> None:
        """Write to the container's stdin."""
        try:
            self._sock.sendall(data)
        except OSError as exc:
            raise EOFError(f"sandbox stdin closed: {exc}") from exc

    def _recv_exactly(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = self._sock.recv(n - len(buf))
            except OSError as exc:
                raise EOFError(f"sandbox stream closed: {exc}") from exc
            if not chunk:
                raise EOFError("sandbox stream ended")
            buf += chunk
        return bytes(buf)

    def _next_frame(self) -> None:
        header = self._recv_exactly(8)
        stream, size = header[0], struct.unpack(">I", header[4:])[0]
        payload = self._recv_exactly(size) if size else b""
        if stream != 2:  # the supervisor's own stderr is not part of any reply
            self._out += payload

    def read_line(self, limit: int) -> bytes:
        """One ``\\n``-terminated line of stdout (without the newline).

        Raises:
            ProtocolError: No newline within ``limit`` bytes.
            EOFError: The stream ended first.
        """
        while b"\n" not in self._out:
            if len(self._out) > limit:
                raise ProtocolError("response header too long")
            self._next_frame()
        line, _, rest = bytes(self._out).partition(b"\n")
        self._out = bytearray(rest)
        return line

    def read_exactly(self, n: int) -> bytes:
        """Exactly ``n`` bytes of stdout.

        Raises:
            EOFError: The stream ended first.
        """
        while len(self._out) < n:
            self._next_frame()
        data, self._out = bytes(self._out[:n]), self._out[n:]
        return data

    def close(self) -> None:
        """Close the socket (the supervisor sees EOF on stdin and exits)."""
        for closer in (self._sock, self._attached):
            try:
                closer.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
