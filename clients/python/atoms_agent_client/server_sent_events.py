"""Reading a `text/event-stream` body (server-sent events, as the HTTP standard defines them)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

MAX_EVENT_CHARS = 1024 * 1024
"""Longest event accepted: a runaway stream must not grow memory without bound."""


class EventTooLargeError(ValueError):
    """An event is longer than MAX_EVENT_CHARS."""


async def read_event_data(lines: AsyncIterable[str]) -> AsyncIterator[str]:
    """Yield the data of each event (multi-line data joined by newlines) from the body's lines.

    Comments and the fields this client does not use (`event`, `id`, `retry`) are skipped; an
    event without its closing blank line is incomplete and dropped, as the standard says.

    Raises:
        EventTooLargeError: an event is longer than MAX_EVENT_CHARS.
    """
    data: list[str] = []
    size = 0
    async for line in lines:
        if not line:
            event = "\n".join(data)
            if len(data) > 1 or event:  # a lone empty `data` line is no event
                yield event
            data, size = [], 0
            continue
        field, colon, value = line.partition(":")
        if field != "data":
            continue
        value = value[1:] if colon and value.startswith(" ") else value
        size += len(value) + 1
        if size > MAX_EVENT_CHARS:
            raise EventTooLargeError(f"an event is longer than {MAX_EVENT_CHARS} characters")
        data.append(value)
