// How the CLI prints: human tables by default, `-o json` / `-o yaml` for machines. JSON and
// YAML use the proto3 JSON mapping (int64 as strings, enums by name), as crictl does.
import { stringify as toYaml } from "yaml";
import { UsageError } from "./usage-error.js";

export type OutputFormat = "table" | "json" | "yaml";

export function parseFormat(v: string | undefined, allowed: readonly OutputFormat[] = ["table", "json", "yaml"]): OutputFormat {
  const f = (v ?? "table") as OutputFormat;
  if (!allowed.includes(f)) throw new UsageError(`--output "${v}": expected one of ${allowed.join(", ")}`);
  return f;
}

/** `-o go-template --template T` (inspect, inspectp, inspecti, info, version, imagefsinfo): set once by main. */
let template: ((doc: unknown) => string) | undefined;
export function useTemplate(render: (doc: unknown) => string): void {
  template = render;
}

export function printStructured(value: unknown, format: "json" | "yaml"): void {
  if (template !== undefined) {
    process.stdout.write(`${template(JSON.parse(JSON.stringify(value)) as unknown)}\n`);
    return;
  }
  process.stdout.write(format === "json" ? JSON.stringify(value, null, 2) + "\n" : toYaml(value));
}

/** Prints rows under a header with columns padded to their widest cell, as crictl does. */
export function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join("\n") + "\n");
}

export { UsageError };

/** A CRI `verbose` info map with each JSON value decoded (others kept as text), as crictl prints it. */
export function decodeInfo(info: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    try {
      out[k] = JSON.parse(v);
    } catch {
      out[k] = v;
    }
  }
  return out;
}
