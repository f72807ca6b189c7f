/**
 * Whether the web app traces, from the standard OTEL_* variables (the services read the same).
 *
 * Off unless OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) names a collector
 * or OTEL_TRACES_EXPORTER asks for `otlp`/`console`; off when OTEL_SDK_DISABLED=true or
 * OTEL_TRACES_EXPORTER=none. Spans go to the collector over OTLP/gRPC.
 */

type Environment = Readonly<Record<string, string | undefined>>;

export interface TracingSettings {
  readonly exporters: ReadonlySet<"otlp" | "console">;
  /** The collector's OTLP/gRPC URL (`http://…` is plaintext); undefined: the exporter's default. */
  readonly endpoint: string | undefined;
  readonly serviceName: string;
  /** `always_on`, `always_off`, `traceidratio` or a `parentbased_` one; with its ratio. */
  readonly sampler: string;
  readonly samplerRatio: number;
  /** OTEL_BSP_SCHEDULE_DELAY: the longest a finished span waits before export (ms). */
  readonly batchDelayMs: number;
}

export const DEFAULT_SERVICE_NAME = "atoms-web";
const SAMPLERS = new Set([
  "always_on",
  "always_off",
  "traceidratio",
  "parentbased_always_on",
  "parentbased_always_off",
  "parentbased_traceidratio",
]);

/** A value the web app does not support; the message names the variable. */
export class TracingSettingError extends Error {
  constructor(variable: string, problem: string) {
    super(`${variable}: ${problem}`);
    this.name = "TracingSettingError";
  }
}

/** The settings, or undefined when tracing is off. @throws TracingSettingError for a value not supported. */
export function readTracingSettings(env: Environment = process.env): TracingSettings | undefined {
  const value = (name: string): string => env[name]?.trim() ?? "";
  if (["true", "1", "yes", "on"].includes(value("OTEL_SDK_DISABLED").toLowerCase())) {
    return undefined;
  }
  const endpoint = value("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") || value("OTEL_EXPORTER_OTLP_ENDPOINT");
  const named = value("OTEL_TRACES_EXPORTER").toLowerCase();
  let exporters: Set<"otlp" | "console">;
  if (named !== "") {
    const asked = named.split(",").map((part) => part.trim()).filter((part) => part !== "");
    if (asked.length === 1 && asked[0] === "none") {
      return undefined;
    }
    const unknown = asked.filter((part) => part !== "otlp" && part !== "console");
    if (unknown.length > 0) {
      throw new TracingSettingError("OTEL_TRACES_EXPORTER", `${unknown.join(", ")} is not supported; use otlp, console or none`);
    }
    exporters = new Set(asked as ("otlp" | "console")[]);
  } else if (endpoint !== "") {
    exporters = new Set(["otlp"]);
  } else {
    return undefined;
  }
  const protocol = (value("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") || value("OTEL_EXPORTER_OTLP_PROTOCOL")).toLowerCase();
  if (exporters.has("otlp") && protocol !== "" && protocol !== "grpc") {
    throw new TracingSettingError("OTEL_EXPORTER_OTLP_PROTOCOL", `${protocol} is not supported; the web app exports over grpc`);
  }
  const sampler = value("OTEL_TRACES_SAMPLER").toLowerCase() || "parentbased_always_on";
  if (!SAMPLERS.has(sampler)) {
    throw new TracingSettingError("OTEL_TRACES_SAMPLER", `${sampler} is not supported`);
  }
  const ratio = Number.parseFloat(value("OTEL_TRACES_SAMPLER_ARG") || "1");
  const delay = Number.parseInt(value("OTEL_BSP_SCHEDULE_DELAY") || "5000", 10);
  return {
    exporters,
    endpoint: endpoint === "" ? undefined : endpoint,
    serviceName: value("OTEL_SERVICE_NAME") || DEFAULT_SERVICE_NAME,
    sampler,
    samplerRatio: Number.isFinite(ratio) && ratio >= 0 && ratio <= 1 ? ratio : 1,
    batchDelayMs: Number.isFinite(delay) && delay > 0 ? delay : 5000,
  };
}
