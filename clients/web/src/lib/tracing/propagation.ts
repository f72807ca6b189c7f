/** The current trace context as headers for an outgoing request (empty when the app does not trace). */
import { context, propagation } from "@opentelemetry/api";

export function traceHeaders(): Record<string, string> {
  const headers: Record<string, string> = {};
  propagation.inject(context.active(), headers);
  return headers;
}
