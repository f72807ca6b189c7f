"""run_until_signalled: run one service in the foreground until SIGINT or SIGTERM, then stop it.

The process entry points (`atoms auth serve`, `atoms agent serve`, `atoms mcp serve`,
`atoms dev authkit`) all run this way; tests start and stop their services directly.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Protocol, runtime_checkable

logger = logging.getLogger(__name__)

_SHUTDOWN_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class RunnableService(Protocol):
    """What `run_until_signalled` runs: a service started once and stopped once."""

    async def start(self) -> object:
        """Start serving and return once it does (the result, a port say, is not used)."""
        ...

    async def stop(self) -> None:
        """Stop gracefully and release everything the service holds."""
        ...


@runtime_checkable
class SelfEndingService(RunnableService, Protocol):
    """A service that can also end without being asked to (an HTTP server whose loop exits, say)."""

    async def wait(self) -> None:
        """Return when the service has ended; raise what ended it, if anything did."""
        ...


async def run_until_signalled(service: RunnableService, *, name: str, grace_s: float) -> None:
    """Start `service`, run it until SIGINT or SIGTERM (or until it ends by itself), then stop it.

    The handlers are installed before `start()`, so a signal that arrives during start-up
    still stops the service once it is up. They stay until `stop()` has returned, so a second
    Ctrl-C during the drain is absorbed instead of interrupting the stop halfway.

    Args:
        service: the service; when it is a `SelfEndingService`, its ending also ends the run.
        name: how the log lines name the service, e.g. "auth service".
        grace_s: how long `stop()` lets in-flight work finish; reported in the log.

    Raises:
        Exception: what `start()` raised (nothing is stopped then), or what a
            `SelfEndingService` ended with (raised after `stop()`).
    """
    loop = asyncio.get_running_loop()
    requested = asyncio.Event()
    received: list[signal.Signals] = []
    for sig in _SHUTDOWN_SIGNALS:
        loop.add_signal_handler(sig, _record_signal, requested, received, sig)
    try:
        await service.start()
        try:
            await _until_signalled_or_ended(service, requested, name=name)
            if received:
                logger.info(
                    "%s: shutdown requested (%s); draining for up to %.1fs", name, received[0].name, grace_s
                )
        finally:
            await service.stop()
    finally:
        for sig in _SHUTDOWN_SIGNALS:
            loop.remove_signal_handler(sig)


def _record_signal(requested: asyncio.Event, received: list[signal.Signals], sig: signal.Signals) -> None:
    received.append(sig)
    requested.set()


async def _until_signalled_or_ended(service: RunnableService, requested: asyncio.Event, *, name: str) -> None:
    if not isinstance(service, SelfEndingService):
        await requested.wait()
        return
    signalled = asyncio.ensure_future(requested.wait())
    ended = asyncio.ensure_future(service.wait())
    try:
        done, _ = await asyncio.wait({signalled, ended}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        signalled.cancel()
        ended.cancel()
    if ended not in done:
        return
    if not requested.is_set():
        # WARNING, not INFO: nobody asked it to stop, so someone should find out why it did.
        logger.warning("%s stopped by itself; releasing what it still holds", name)
    ended.result()
