// Client commands about the runtime itself: `berth version` and `berth info`, as crictl's
// `version` and `info` show them.
import { StatusResponse, VersionResponse } from "../../generated/runtime/v1/api.js";
import { call, type CriClient } from "../client.js";
import { printStructured, type OutputFormat, decodeInfo } from "../output.js";

export async function versionCommand(c: CriClient, format: OutputFormat): Promise<void> {
  const v = await call(c, c.runtime, c.runtime.version, { version: "" });
  if (format !== "table") return printStructured(VersionResponse.toJSON(v), format);
  process.stdout.write(
    `Version:  ${v.version}\nRuntimeName:  ${v.runtimeName}\nRuntimeVersion:  ${v.runtimeVersion}\nRuntimeApiVersion:  ${v.runtimeApiVersion}\n`,
  );
}

export async function infoCommand(c: CriClient, format: OutputFormat): Promise<void> {
  const s = await call(c, c.runtime, c.runtime.status, { verbose: true });
  const json = StatusResponse.toJSON(s) as { status?: unknown; runtimeHandlers?: Array<Record<string, unknown>>; features?: unknown; info?: Record<string, string> };
  // proto3 JSON leaves out the default handler's empty name: shown as "", as kubelet reads it.
  const runtimeHandlers = (json.runtimeHandlers ?? []).map((h) => ({ name: "", ...h }));
  // Like crictl, decode the JSON strings in `info` so the output is one document.
  const info = decodeInfo(s.info);
  printStructured({ status: json.status, runtimeHandlers, features: json.features ?? {}, ...info }, format === "yaml" ? "yaml" : "json");
}
