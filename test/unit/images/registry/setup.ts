// Shared set-up for the registry client tests: fixture registries, hosts.toml directories and
// clients, each registered for clean-up with the test that made it.
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { startRegistry, writeHostsToml, type FixtureRegistry, type RegistryOptions } from "../../../fixtures/registry.js";
import { RegistryClient, type RegistryClientOptions } from "../../../../src/images/registry/client.js";
import { RegistryHosts, type RegistryHostsOptions } from "../../../../src/images/registry/hosts.js";
import { setLogLevel } from "../../../../src/util/log.js";

setLogLevel(process.env.BERTH_TEST_LOG === "1" ? "debug" : "silent");

export interface After {
  after: (fn: () => Promise<void> | void) => void;
}

export async function registry(t: After, opts: RegistryOptions = {}): Promise<FixtureRegistry> {
  const r = await startRegistry(opts);
  t.after(() => r.stop());
  return r;
}

export async function tempDir(t: After, prefix = "berth-regtest-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A hosts.toml directory reaching each registry (http, or https with its CA). */
export async function hostsDir(t: After, ...regs: FixtureRegistry[]): Promise<string> {
  const dir = await tempDir(t, "berth-certsd-");
  for (const r of regs) await writeHostsToml(dir, r);
  return dir;
}

export async function writeToml(dir: string, host: string, text: string): Promise<void> {
  await mkdir(join(dir, host), { recursive: true });
  await writeFile(join(dir, host, "hosts.toml"), text);
}

export function client(t: After, hosts: RegistryHostsOptions, opts: RegistryClientOptions = {}): RegistryClient {
  const c = new RegistryClient({ retries: 1, backoffMs: 20, ...opts, hosts: new RegistryHosts(hosts) });
  t.after(() => c.close());
  return c;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export const sha256 = (b: Buffer): string => `sha256:${createHash("sha256").update(b).digest("hex")}`;
