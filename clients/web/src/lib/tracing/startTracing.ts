/**
 * The web app's tracer provider: Next.js's own spans (the route handler's SERVER span, which
 * continues a caller's `traceparent`) and the `traceparent` the chat route sends to the agent.
 *
 * Loaded by `src/instrumentation.ts` in the Node.js runtime only when `readTracingSettings()`
 * says tracing is on; otherwise nothing of OpenTelemetry's SDK is loaded.
 */
import os from "node:os";

import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-grpc";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
  type SpanProcessor,
} from "@opentelemetry/sdk-trace";

import type { TracingSettings } from "./tracingSettings";

/** Register the global tracer provider, context manager and W3C propagators; flush on exit. */
export function startTracing(settings: TracingSettings): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  const spanProcessors: SpanProcessor[] = [];
  if (settings.exporters.has("otlp")) {
    spanProcessors.push(new BatchSpanProcessor({
        exporter: new OTLPTraceExporter(settings.endpoint ? { url: settings.endpoint } : {}),
        scheduledDelayMillis: settings.batchDelayMs,
      }));
  }
  if (settings.exporters.has("console")) {
    spanProcessors.push(new BatchSpanProcessor({ exporter: new ConsoleSpanExporter(), scheduledDelayMillis: settings.batchDelayMs }));
  }
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ "service.name": settings.serviceName, "host.name": os.hostname() }),
    sampler: sampler(settings),
    spanProcessors,
  });
  trace.setGlobalTracerProvider(provider);
  const flush = (): void => {
    provider.shutdown().catch(() => undefined);
  };
  process.once("SIGTERM", flush);
  process.once("beforeExit", flush);
  console.log(`tracing on: ${[...settings.exporters].join(" and ")}, service.name ${settings.serviceName}`);
}

function sampler(settings: TracingSettings): Sampler {
  const root =
    settings.sampler.endsWith("always_off")
      ? new AlwaysOffSampler()
      : settings.sampler.endsWith("traceidratio")
        ? new TraceIdRatioBasedSampler(settings.samplerRatio)
        : new AlwaysOnSampler();
  return settings.sampler.startsWith("parentbased_") ? new ParentBasedSampler({ root }) : root;
}
