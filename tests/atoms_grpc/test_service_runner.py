"""run_until_signalled: a service runs until SIGINT/SIGTERM or until it ends by itself, then stops."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from atoms_grpc import run_until_signalled


class _RecordingService:
    """Records its lifecycle; never ends by itself."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.started = asyncio.Event()

    async def start(self) -> int:
        self.events.append("start")
        self.started.set()
        return 0

    async def stop(self) -> None:
        self.events.append("stop")


class _EndingService(_RecordingService):
    """Ends by itself once `end()` is called, optionally with an error."""

    def __init__(self) -> None:
        super().__init__()
        self._ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def end(self, error: Exception | None = None) -> None:
        if error is None:
            self._ended.set_result(None)
        else:
            self._ended.set_exception(error)

    async def wait(self) -> None:
        await asyncio.shield(self._ended)


async def _signal_once_started(service: _RecordingService, sig: signal.Signals) -> None:
    await service.started.wait()
    os.kill(os.getpid(), sig)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
async def test_a_signal_stops_the_service_gracefully(sig, caplog):
    service = _RecordingService()
    sender = asyncio.create_task(_signal_once_started(service, sig))

    await asyncio.wait_for(run_until_signalled(service, name="test service", grace_s=2.5), timeout=10)

    await sender
    assert service.events == ["start", "stop"]
    assert f"test service: shutdown requested ({sig.name}); draining for up to 2.5s" in caplog.messages


async def test_the_signal_handlers_are_removed_after_the_run():
    before = signal.getsignal(signal.SIGTERM)
    service = _RecordingService()
    sender = asyncio.create_task(_signal_once_started(service, signal.SIGTERM))

    await asyncio.wait_for(run_until_signalled(service, name="test service", grace_s=1), timeout=10)

    await sender
    assert signal.getsignal(signal.SIGTERM) == before


async def test_a_service_that_ends_by_itself_is_stopped_without_a_signal(caplog):
    service = _EndingService()
    asyncio.get_running_loop().call_soon(service.end)

    await asyncio.wait_for(run_until_signalled(service, name="test service", grace_s=1), timeout=10)

    assert service.events == ["start", "stop"]
    assert "test service stopped by itself; releasing what it still holds" in caplog.messages


async def test_the_error_a_service_ended_with_is_raised_after_it_is_stopped():
    service = _EndingService()
    asyncio.get_running_loop().call_soon(service.end, OSError("listener closed"))

    with pytest.raises(OSError, match="listener closed"):
        await asyncio.wait_for(run_until_signalled(service, name="test service", grace_s=1), timeout=10)

    assert service.events == ["start", "stop"]


async def test_a_service_that_fails_to_start_is_not_stopped():
    class _FailingStart(_RecordingService):
        async def start(self) -> int:
            raise RuntimeError("cannot listen")

    service = _FailingStart()

    with pytest.raises(RuntimeError, match="cannot listen"):
        await run_until_signalled(service, name="test service", grace_s=1)

    assert service.events == []
