// Berth's own version and the CRI API version it serves, in one place for Version, the CLI
// and the logs. The version is package.json's, read once: there is no second copy to forget.
import { readFileSync } from "node:fs";

/** package.json's "version"; this file runs as dist/src/version.js, two levels below it. */
export function packageVersion(url: URL = new URL("../../package.json", import.meta.url)): string {
  const pkg: unknown = JSON.parse(readFileSync(url, "utf8"));
  const v = typeof pkg === "object" && pkg !== null ? (pkg as { version?: unknown }).version : undefined;
  if (typeof v !== "string" || v === "") throw new Error(`${url.pathname} has no "version" string`);
  return v;
}

export const BERTH_VERSION = packageVersion();
export const RUNTIME_NAME = "berth";
export const CRI_API_VERSION = "v1";
