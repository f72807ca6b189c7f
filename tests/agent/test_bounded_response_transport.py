"""BoundedResponseTransport: answers are decoded here, counted after decoding, and cut at the bound."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import AsyncIterator

import httpx2
import pytest

from atoms_agent.bounded_response_transport import (
    AnswerEncodingError,
    AnswerRefusedError,
    AnswerTooLargeError,
    BoundedResponseTransport,
)

BOUND = 64 * 1024


def _client(
    handler, refusals: list[AnswerRefusedError] | None = None, max_bytes: int = BOUND
) -> httpx2.AsyncClient:
    transport = BoundedResponseTransport(
        httpx2.MockTransport(handler),
        max_bytes=max_bytes,
        on_refused=(refusals.append if refusals is not None else None),
    )
    return httpx2.AsyncClient(transport=transport)


async def _chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _answer(body: bytes, encoding: str) -> httpx2.Response:
    # A streamed body, as from the network (httpx2 reads a bytes body eagerly, decoding it itself).
    return httpx2.Response(200, headers={"content-encoding": encoding}, content=_chunks(body))


def _raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


PAYLOAD = b'{"jsonrpc": "2.0", "id": 1, "result": {}}' * 100


@pytest.mark.parametrize(
    ("encoding", "encode"),
    [
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
        ("identity", lambda data: data),
        ("gzip, gzip", lambda data: gzip.compress(gzip.compress(data))),
        ("gzip", lambda data: gzip.compress(data[:1000]) + gzip.compress(data[1000:])),
    ],
    ids=["gzip", "x-gzip", "zlib deflate", "raw deflate", "identity", "two layers", "two gzip members"],
)
async def test_an_answer_within_the_bound_arrives_decoded_and_unmarked(encoding: str, encode) -> None:
    async with _client(lambda request: _answer(encode(PAYLOAD), encoding)) as client:
        response = await client.get("https://mcp.example/mcp")

    assert response.content == PAYLOAD
    assert "content-encoding" not in response.headers


async def test_requests_ask_only_for_the_encodings_the_transport_decodes() -> None:
    seen: list[str] = []

    def handler(request: httpx2.Request) -> httpx2.Response:
        seen.append(request.headers["accept-encoding"])
        return httpx2.Response(200, content=b"{}")

    async with _client(handler) as client:
        await client.get("https://mcp.example/mcp", headers={"Accept-Encoding": "br, zstd"})

    assert seen == ["gzip, deflate"]


async def test_a_gzip_bomb_is_refused_once_its_decoded_bytes_pass_the_bound() -> None:
    bomb = gzip.compress(b"a" * (64 * BOUND), compresslevel=9)
    assert len(bomb) < BOUND
    refusals: list[AnswerRefusedError] = []
    async with _client(lambda request: _answer(bomb, "gzip"), refusals) as client:
        with pytest.raises(AnswerTooLargeError):
            await client.get("https://mcp.example/mcp")

    assert [refusal.limit for refusal in refusals] == ["mcp_max_response_bytes"]


async def test_content_length_is_not_trusted_only_the_bytes_that_arrive_count() -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(4):
            yield b"x" * BOUND

    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, headers={"content-length": "2"}, content=body())

    async with _client(handler) as client:
        with pytest.raises(AnswerTooLargeError):
            await client.get("https://mcp.example/mcp")


@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("br", b"\x0b\x02\x80{}\x03"),
        ("gzip, gzip, gzip", gzip.compress(gzip.compress(gzip.compress(b"{}")))),
        ("gzip", b"\x1f\x8b\x08\x00 this is not gzip"),
    ],
    ids=["an encoding it does not decode", "three stacked encodings", "a corrupt gzip body"],
)
async def test_an_answer_it_cannot_decode_is_refused_when_read(encoding: str, body: bytes) -> None:
    refusals: list[AnswerRefusedError] = []
    async with _client(lambda request: _answer(body, encoding), refusals) as client:
        with pytest.raises(AnswerEncodingError):
            await client.get("https://mcp.example/mcp")

    assert len(refusals) == 1
    assert refusals[0].limit is None


def test_a_bound_below_one_byte_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        BoundedResponseTransport(httpx2.MockTransport(lambda request: httpx2.Response(200)), max_bytes=0)
