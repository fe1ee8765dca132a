// Where the CLI connects and how long it waits, crictl's way: a flag, then the environment
// (BERTH_RUNTIME_ENDPOINT, CONTAINER_RUNTIME_ENDPOINT, IMAGE_SERVICE_ENDPOINT), then crictl.yaml.
import { parseDuration } from "../config/config.js";
import type { ClientConfig } from "./client-config.js";
import { UsageError } from "./output.js";

export const DEFAULT_TIMEOUT_MS = 10_000;

export interface EndpointSources {
  /** -r after the command, then before it. */
  flag?: string | undefined;
  globalFlag?: string | undefined;
  imageFlag?: string | undefined;
  globalImageFlag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  file: ClientConfig;
  /** The socket of Berth's own daemon config (last resort). */
  daemonSocket: () => string;
}

const nonEmpty = (...vs: Array<unknown>): string | undefined => vs.find((v): v is string => typeof v === "string" && v !== "");

export function resolveEndpoints(s: EndpointSources): { runtime: string; image: string } {
  const runtime =
    nonEmpty(s.flag, s.globalFlag, s.env["BERTH_RUNTIME_ENDPOINT"], s.env["CONTAINER_RUNTIME_ENDPOINT"], s.file["runtime-endpoint"]) ?? s.daemonSocket();
  const image = nonEmpty(s.imageFlag, s.globalImageFlag, s.env["IMAGE_SERVICE_ENDPOINT"], s.file["image-endpoint"]) ?? runtime;
  return { runtime, image };
}

/** A timeout flag ("10s", "1m" or bare seconds as crictl's config file has it) in ms. */
export function timeoutMs(value: string | number | undefined, what = "--timeout"): number | undefined {
  if (value === undefined || value === "") return undefined;
  const v = String(value);
  const ms = /^\d+$/.test(v) ? Number(v) * 1000 : parseDuration(v);
  if (ms === undefined) throw new UsageError(`${what} "${v}": expected a duration such as 10s`);
  return ms > 0 ? ms : DEFAULT_TIMEOUT_MS; // crictl: 0 or less is the default
}
