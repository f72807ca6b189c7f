"""BoundedResponseTransport: an httpx2 transport that decodes answers itself and stops at a byte bound.

httpx2 inflates `Content-Encoding` in pieces but keeps no total, and the MCP SDK reads a JSON
answer whole, so a 150 KiB gzip answer from a registered server became hundreds of MiB in the
agent. This wrapper asks for gzip and deflate only, inflates them itself as the body streams
(never more than one small piece per step), counts the decoded bytes and fails the answer once
they pass the bound. It hands httpx2 an identity-encoded response, so nothing is decoded twice.
Content-Length is never consulted: only the bytes that arrive count.

The failure is an `httpx2.StreamError` on purpose: the MCP SDK turns that into an error for the
one request it answered (any other exception would tear the whole session down and leave the
caller waiting for its deadline). The SDK keeps only a message, so `on_refused` tells the owner
what happened.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Callable, Iterator

import httpx2

ACCEPTED_ENCODINGS = "gzip, deflate"
MAX_ENCODING_LAYERS = 2
_PIECE_BYTES = 64 * 1024
_GZIP_WBITS = 16 + zlib.MAX_WBITS


class AnswerRefusedError(httpx2.StreamError):
    """An answer the agent will not read; `limit` names the bound it passed, if one."""

    limit: str | None = None


class AnswerTooLargeError(AnswerRefusedError):
    """The decoded answer passed `max_bytes`."""

    limit = "mcp_max_response_bytes"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the answer is larger than {max_bytes} bytes (mcp_max_response_bytes)")
        self.max_bytes = max_bytes


class AnswerEncodingError(AnswerRefusedError):
    """The answer's Content-Encoding is unsupported, stacked too deep, or corrupt."""


class _ZlibLayer:
    """One gzip or deflate layer, inflated in bounded pieces."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._inflater = zlib.decompressobj(_GZIP_WBITS if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        try:
            yield from self._drain(data)
        except zlib.error as err:
            raise AnswerEncodingError("the answer's compressed body is corrupt") from err

    def _drain(self, data: bytes) -> Iterator[bytes]:
        if not self._started and data:
            self._started = True
            data = self._detect_raw_deflate(data)
        while True:
            piece = self._inflater.decompress(data, _PIECE_BYTES)
            if piece:
                yield piece
            data = self._inflater.unconsumed_tail
            if self._gzip and self._inflater.eof and self._inflater.unused_data:
                # Concatenated gzip members are one legal body: inflate the next member.
                data = self._inflater.unused_data
                self._inflater = zlib.decompressobj(_GZIP_WBITS)
            elif not piece and not data:
                return

    def _detect_raw_deflate(self, data: bytes) -> bytes:
        # "deflate" is meant to be zlib-wrapped; some servers send raw deflate (as httpx2 allows).
        if self._gzip:
            return data
        probe = zlib.decompressobj(zlib.MAX_WBITS)
        try:
            probe.decompress(data[:2], 1)
        except zlib.error:
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        return data


def _layers_of(content_encoding: str) -> list[_ZlibLayer]:
    codings = [item.strip().lower() for item in content_encoding.split(",")]
    codings = [coding for coding in codings if coding and coding != "identity"]
    unsupported = sorted({coding for coding in codings if coding not in ("gzip", "x-gzip", "deflate")})
    if unsupported:
        raise AnswerEncodingError(
            f"the answer uses an unsupported content encoding ({', '.join(unsupported)[:40]})"
        )
    if len(codings) > MAX_ENCODING_LAYERS:
        raise AnswerEncodingError(f"the answer stacks more than {MAX_ENCODING_LAYERS} content encodings")
    return [_ZlibLayer(coding) for coding in reversed(codings)]


class _BoundedStream(httpx2.AsyncByteStream):
    """The decoded body, failing once it passes `max_bytes`."""

    def __init__(
        self,
        inner: httpx2.AsyncByteStream,
        layers: list[_ZlibLayer] | AnswerEncodingError,
        *,
        max_bytes: int,
        on_refused: Callable[[AnswerRefusedError], None],
    ) -> None:
        self._inner = inner
        self._layers = layers
        self._max_bytes = max_bytes
        self._on_refused = on_refused

    async def __aiter__(self) -> AsyncIterator[bytes]:
        total = 0
        try:
            if isinstance(self._layers, AnswerEncodingError):
                raise self._layers
            async for raw in self._inner:
                for piece in self._decode(raw, 0):
                    total += len(piece)
                    if total > self._max_bytes:
                        raise AnswerTooLargeError(self._max_bytes)
                    yield piece
        except AnswerRefusedError as err:
            self._on_refused(err)
            raise

    def _decode(self, data: bytes, depth: int) -> Iterator[bytes]:
        layers = self._layers
        if isinstance(layers, AnswerEncodingError) or depth == len(layers):
            yield data
            return
        for piece in layers[depth].decode(data):
            yield from self._decode(piece, depth + 1)

    async def aclose(self) -> None:
        await self._inner.aclose()


class BoundedResponseTransport(httpx2.AsyncBaseTransport):
    """Wraps a transport (and owns it): answers are decoded here and bounded in bytes."""

    def __init__(
        self,
        inner: httpx2.AsyncBaseTransport,
        *,
        max_bytes: int,
        on_refused: Callable[[AnswerRefusedError], None] | None = None,
    ) -> None:
        """Args:
        inner: the transport that reaches the network; closed with this one.
        max_bytes: the most decoded bytes one answer may have.
        on_refused: told about each answer refused, before the error is raised.

        Raises:
            ValueError: `max_bytes` is below 1.
        """
        if max_bytes < 1:
            raise ValueError("max_bytes must be at least 1")
        self._inner = inner
        self._max_bytes = max_bytes
        self._on_refused = on_refused or (lambda _error: None)

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        """Send the request asking for encodings this transport decodes; bound the answer.

        The returned body raises `AnswerRefusedError` when read if the answer is too large or
        uses an encoding this transport does not decode.

        Raises:
            httpx2.TransportError: from the inner transport.
            TypeError: the inner transport is not an async one.
        """
        request.headers["Accept-Encoding"] = ACCEPTED_ENCODINGS
        response = await self._inner.handle_async_request(request)
        stream = response.stream
        if not isinstance(stream, httpx2.AsyncByteStream):
            await response.aclose()
            raise TypeError("BoundedResponseTransport needs an async inner transport")
        try:
            layers: list[_ZlibLayer] | AnswerEncodingError = _layers_of(
                response.headers.get("content-encoding", "")
            )
        except AnswerEncodingError as err:
            # Fail when the body is read, not here: the SDK answers a failed read for the one
            # request, while an error from sending would tear the session down.
            layers = err
        headers = [
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length")
        ]
        return httpx2.Response(
            response.status_code,
            headers=headers,
            stream=_BoundedStream(stream, layers, max_bytes=self._max_bytes, on_refused=self._on_refused),
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        """Close the inner transport."""
        await self._inner.aclose()
