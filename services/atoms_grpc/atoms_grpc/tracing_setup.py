"""Turn OpenTelemetry tracing on for a process, from the standard `OTEL_*` variables.

Off by default. Tracing is on when a trace exporter is asked for:
- `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` or `OTEL_EXPORTER_OTLP_ENDPOINT` names a collector
  (OTLP over gRPC, e.g. `http://otel-collector:4317`), or
- `OTEL_TRACES_EXPORTER` names `otlp` and/or `console` (a comma-separated list);
and stays off when `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.

The rest is read by the OpenTelemetry SDK itself, as the specification says:
`OTEL_SERVICE_NAME` (default: the service's own name, e.g. `atoms-auth`),
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default
`parentbased_always_on`), `OTEL_PROPAGATORS` (default `tracecontext,baggage`),
`OTEL_EXPORTER_OTLP_*` (headers, certificates, timeout, `..._INSECURE`) and `OTEL_BSP_*`
(batching). OTLP over HTTP (`OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf`) is not shipped:
asking for it is a `SettingsError`, not a silent absence of traces.

Each program's entry point runs inside `process_tracing()` (or calls `start_tracing()`
before it builds its servers and `shutdown()` on the handle when it exits, which sends the
spans still batched).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from atoms_grpc.settings_loading import SettingsError
from atoms_grpc.tracing import set_tracing_enabled

if TYPE_CHECKING:  # the SDK loads only when tracing is on
    from opentelemetry.sdk.trace import TracerProvider

logger = logging.getLogger(__name__)

_TRUE = frozenset({"true", "1", "yes", "on"})
_EXPORTERS = frozenset({"otlp", "console"})
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")
_PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
_FLUSH_ON_EXIT_MS = 5_000


@dataclass(frozen=True, slots=True)
class TracingSettings:
    """What the `OTEL_*` variables ask for.

    Attributes:
        exporters: `otlp` and/or `console`; empty means tracing is off.
        service_name: the `service.name` of every span of the process.
    """

    exporters: frozenset[str]
    service_name: str

    @property
    def enabled(self) -> bool:
        """Whether spans are recorded and exported."""
        return bool(self.exporters)

    @classmethod
    def from_environment(cls, default_service_name: str, environ: Mapping[str, str]) -> TracingSettings:
        """Read the switch, the exporters and the service name.

        Raises:
            SettingsError: an exporter or OTLP protocol this build does not ship.
        """
        service_name = environ.get("OTEL_SERVICE_NAME", "").strip() or default_service_name
        if environ.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
            return cls(frozenset(), service_name)
        named = environ.get("OTEL_TRACES_EXPORTER", "").strip().lower()
        if named:
            exporters = frozenset(part.strip() for part in named.split(",") if part.strip())
            if exporters == {"none"}:
                return cls(frozenset(), service_name)
            unknown = exporters - _EXPORTERS
            if unknown:
                raise SettingsError(
                    "OTEL_TRACES_EXPORTER",
                    f"{', '.join(sorted(unknown))} is not shipped; use otlp, console or none",
                )
        elif any(environ.get(name, "").strip() for name in _ENDPOINT_VARIABLES):
            exporters = frozenset({"otlp"})
        else:
            return cls(frozenset(), service_name)
        if "otlp" in exporters:
            for name in _PROTOCOL_VARIABLES:
                protocol = environ.get(name, "").strip().lower()
                if protocol and protocol != "grpc":
                    raise SettingsError(
                        name, f"{protocol} is not shipped; traces go to the collector over OTLP/gRPC (grpc)"
                    )
                if protocol:
                    break
        return cls(exporters, service_name)


class TracingHandle:
    """The process's tracer provider; `shutdown()` exports what is batched and stops."""

    def __init__(self, provider: TracerProvider, settings: TracingSettings) -> None:
        self._provider = provider
        self.settings = settings

    def shutdown(self) -> None:
        """Send the batched spans (for up to 5 s) and stop exporting; tracing goes off."""
        self._provider.force_flush(timeout_millis=_FLUSH_ON_EXIT_MS)
        self._provider.shutdown()
        set_tracing_enabled(False)


def read_tracing_settings(default_service_name: str) -> TracingSettings:
    """What the process environment asks for; an entry point calls it with its other settings.

    Raises:
        SettingsError: an unsupported exporter or protocol is asked for, or the OTLP exporter
            cannot be loaded in this installation.
    """
    settings = TracingSettings.from_environment(default_service_name, os.environ)
    if "otlp" in settings.exporters:
        check_otlp_exporter()
    return settings


def check_otlp_exporter() -> None:
    """Load the OTLP/gRPC exporter, or say why it cannot be loaded.

    xds-protos (the auth service's Envoy protos) ships an older copy of the OpenTelemetry
    protos in the same files as opentelemetry-proto; installed after it, that copy breaks the
    exporter (`make install` puts opentelemetry-proto's files back).

    Raises:
        SettingsError: the exporter does not load.
    """
    try:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter  # noqa: F401
    except ImportError as err:
        raise SettingsError(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            f"the OTLP exporter cannot be loaded ({err}); the OpenTelemetry protos were replaced by "
            "another package's copy: pip install --no-deps --force-reinstall opentelemetry-proto",
        ) from err


def start_tracing(
    default_service_name: str, environ: Mapping[str, str] | None = None
) -> TracingHandle | None:
    """Install the tracer provider the `OTEL_*` variables ask for; None when tracing is off.

    Call it once per process, before any server or client is built (they read the switch
    when they are built). The SDK reads the sampler, propagators, batching and exporter
    options from the process environment.

    Raises:
        SettingsError: an unsupported exporter or protocol is asked for.
    """
    settings = TracingSettings.from_environment(
        default_service_name, os.environ if environ is None else environ
    )
    if not settings.enabled:
        return None
    from opentelemetry import trace
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        ConsoleSpanExporter,
        SpanExporter,
    )

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: settings.service_name}))
    exporters: list[SpanExporter] = []
    if "otlp" in settings.exporters:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    if "console" in settings.exporters:
        exporters.append(ConsoleSpanExporter(service_name=settings.service_name))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    set_tracing_enabled(True)
    logger.info(
        "tracing on: %s, service.name %s",
        " and ".join(sorted(settings.exporters)),
        settings.service_name,
        extra={"otel_exporters": sorted(settings.exporters)},
    )
    return TracingHandle(provider, settings)


@contextlib.contextmanager
def process_tracing(default_service_name: str) -> Iterator[TracingHandle | None]:
    """Tracing for the whole program's run: on as the `OTEL_*` variables say, flushed at exit.

    Raises:
        SettingsError: an unsupported exporter or protocol is asked for (before anything runs).
    """
    handle = start_tracing(default_service_name)
    try:
        yield handle
    finally:
        if handle is not None:
            handle.shutdown()
