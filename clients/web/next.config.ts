/**
 * Next.js configuration of the Atoms chat front end.
 *
 * No setting is read here: the app reads its settings (WORKOS_*, ATOMS_*) at request time,
 * so one build runs in every environment. The root is the repository, because
 * `@atoms/agent-client` is a local package in ../typescript.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { NextConfig } from "next";

const repositoryRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

const nextConfig: NextConfig = {
  poweredByHeader: false,
  reactStrictMode: true,
  outputFileTracingRoot: repositoryRoot,
  turbopack: { root: repositoryRoot },
  // OpenTelemetry's gRPC exporter runs from node_modules (src/instrumentation.ts), not bundled.
  serverExternalPackages: ["@opentelemetry/exporter-trace-otlp-grpc", "@grpc/grpc-js"],
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Frame-Options", value: "DENY" },
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "Referrer-Policy", value: "no-referrer" },
        ],
      },
    ];
  },
};

export default nextConfig;
