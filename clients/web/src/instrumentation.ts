/**
 * Next.js calls `register()` once per server process before it serves anything.
 *
 * Tracing, when the OTEL_* variables ask for it (`lib/tracing/tracingSettings.ts`): Next.js then
 * records its own spans (a SERVER span per request, continuing the caller's `traceparent`), and
 * the chat route passes the trace on to the agent. Off by default, and never in the Edge runtime.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") {
    return;
  }
  const { readTracingSettings } = await import("./lib/tracing/tracingSettings");
  const settings = readTracingSettings();
  if (settings !== undefined) {
    const { startTracing } = await import("./lib/tracing/startTracing");
    startTracing(settings);
  }
}
