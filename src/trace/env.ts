// Reads the standard OTEL_* environment variables to decide whether tracing is on and how it
// exports; no OpenTelemetry code is needed for the decision, so "off" loads none.
export interface TraceSettings {
  exporter: "otlp" | "console";
}

export class TraceEnvError extends Error {
  override name = "TraceEnvError";
}

/**
 * Off unless OTEL_TRACES_EXPORTER names otlp or console, or an OTLP endpoint is set without it;
 * OTEL_SDK_DISABLED=true and OTEL_TRACES_EXPORTER=none turn it off. Only OTLP over HTTP/JSON.
 */
export function traceSettings(env: NodeJS.ProcessEnv): TraceSettings | undefined {
  if ((env["OTEL_SDK_DISABLED"] ?? "").trim().toLowerCase() === "true") return undefined;
  const endpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] || env["OTEL_EXPORTER_OTLP_ENDPOINT"];
  const named = (env["OTEL_TRACES_EXPORTER"] ?? "").split(",").map((s) => s.trim().toLowerCase()).filter((s) => s !== "");
  const exporters = named.length > 0 ? named : endpoint ? ["otlp"] : ["none"];
  if (exporters.includes("none")) return undefined;
  if (exporters.length > 1 || (exporters[0] !== "otlp" && exporters[0] !== "console"))
    throw new TraceEnvError(`OTEL_TRACES_EXPORTER=${env["OTEL_TRACES_EXPORTER"]} is not supported: set one of otlp, console or none`);
  const exporter = exporters[0];
  if (exporter === "otlp") {
    const protocol = env["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] || env["OTEL_EXPORTER_OTLP_PROTOCOL"] || "http/json";
    if (protocol !== "http/json")
      throw new TraceEnvError(`OTEL_EXPORTER_OTLP_PROTOCOL=${protocol} is not supported: Berth exports OTLP over HTTP as JSON; set it to http/json or leave it unset`);
  }
  return { exporter };
}
