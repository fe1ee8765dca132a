// Which OTEL_* settings turn tracing on, and the clear errors for the ones Berth cannot honour.
import assert from "node:assert/strict";
import { test } from "node:test";
import { traceSettings } from "../../../src/trace/env.js";

test("tracing is off unless the OTEL_* environment asks for an exporter", () => {
  assert.equal(traceSettings({}), undefined);
  assert.equal(traceSettings({ OTEL_SERVICE_NAME: "x" }), undefined);
  assert.equal(traceSettings({ OTEL_TRACES_EXPORTER: "none", OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }), undefined);
  assert.equal(traceSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_SDK_DISABLED: "true" }), undefined);
  assert.deepEqual(traceSettings({ OTEL_TRACES_EXPORTER: "otlp" }), { exporter: "otlp" });
  assert.deepEqual(traceSettings({ OTEL_TRACES_EXPORTER: " Console " }), { exporter: "console" });
  assert.deepEqual(traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://127.0.0.1:4318" }), { exporter: "otlp" });
  assert.deepEqual(traceSettings({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://127.0.0.1:4318/v1/traces", OTEL_EXPORTER_OTLP_PROTOCOL: "http/json" }), { exporter: "otlp" });
});

test("exporters and protocols Berth does not ship are refused by name", () => {
  assert.throws(() => traceSettings({ OTEL_TRACES_EXPORTER: "zipkin" }), /OTEL_TRACES_EXPORTER=zipkin is not supported/);
  assert.throws(() => traceSettings({ OTEL_TRACES_EXPORTER: "otlp,console" }), /not supported/);
  assert.throws(() => traceSettings({ OTEL_TRACES_EXPORTER: "otlp", OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }), /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported.*http\/json/);
  assert.throws(() => traceSettings({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://x", OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: "http/protobuf" }), /http\/protobuf/);
});
