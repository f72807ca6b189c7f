import { describe, expect, test } from "vitest";

import { readTracingSettings, TracingSettingError } from "../src/lib/tracing/tracingSettings";

describe("readTracingSettings", () => {
  test("is off when nothing asks for it", () => {
    expect(readTracingSettings({})).toBeUndefined();
  });

  test("is on with a collector endpoint, OTLP over gRPC, named atoms-web", () => {
    const settings = readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4317" });
    expect(settings?.exporters).toEqual(new Set(["otlp"]));
    expect(settings?.endpoint).toBe("http://collector:4317");
    expect(settings?.serviceName).toBe("atoms-web");
    expect(settings?.sampler).toBe("parentbased_always_on");
  });

  test("is off when the SDK is disabled or the exporter is none", () => {
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_SDK_DISABLED: "true" })).toBeUndefined();
    expect(readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4317", OTEL_TRACES_EXPORTER: "none" })).toBeUndefined();
  });

  test("takes the service name, sampler and batch delay", () => {
    const settings = readTracingSettings({
      OTEL_TRACES_EXPORTER: "console",
      OTEL_SERVICE_NAME: "web-eu",
      OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
      OTEL_TRACES_SAMPLER_ARG: "0.25",
      OTEL_BSP_SCHEDULE_DELAY: "100",
    });
    expect(settings).toMatchObject({ serviceName: "web-eu", sampler: "parentbased_traceidratio", samplerRatio: 0.25, batchDelayMs: 100 });
  });

  test("refuses what it does not support, naming the variable", () => {
    expect(() => readTracingSettings({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(TracingSettingError);
    expect(() => readTracingSettings({ OTEL_TRACES_EXPORTER: "zipkin" })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() =>
      readTracingSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf" }),
    ).toThrow(/OTEL_EXPORTER_OTLP_PROTOCOL/);
    expect(() => readTracingSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_TRACES_SAMPLER: "sometimes" })).toThrow(/OTEL_TRACES_SAMPLER/);
  });
});
