// Shared set-up for the image service end-to-end tests: a fixture registry reached through a
// hosts.toml directory the daemon is configured with, a started daemon, and typed CRI calls.
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import assert from "node:assert/strict";
import type { ServiceError } from "@grpc/grpc-js";
import { call } from "../../src/cli/client.js";
import type { Image, ImageFsInfoResponse } from "../../src/generated/runtime/v1/api.js";
import { startDaemon, type Daemon } from "../fixtures/daemon.js";
import { startRegistry, writeHostsToml, type FixtureRegistry, type RegistryOptions } from "../fixtures/registry.js";

export type T = Pick<TestContext, "after">;

export async function tempDir(t: T, prefix = "berth-img-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function registry(t: T, opts: RegistryOptions = {}): Promise<FixtureRegistry> {
  const r = await startRegistry(opts);
  t.after(() => r.stop());
  return r;
}

/** A daemon whose registry.config_path is `certsD` (written with a hosts.toml per registry). */
export async function daemon(t: T, certsD: string, extraToml = ""): Promise<Daemon> {
  const d = await startDaemon({
    toml: [`[registry]`, `config_path = "${certsD}"`, `registries_conf = "${join(certsD, "registries.conf")}"`, extraToml].join("\n"),
  });
  t.after(async () => {
    const code = await d.stop();
    if (code !== 0) throw new Error(`daemon exited with ${code}:\n${d.logs().slice(-4000)}`);
  });
  return d;
}

/** A registry, a certs.d directory reaching it, and a daemon using that directory. */
export async function setup(t: T, opts: RegistryOptions = {}, extraToml = ""): Promise<{ reg: FixtureRegistry; d: Daemon; certsD: string }> {
  const reg = await registry(t, opts);
  const certsD = await tempDir(t, "berth-certsd-");
  await writeHostsToml(certsD, reg);
  const d = await daemon(t, certsD, extraToml);
  return { reg, d, certsD };
}

export function pull(d: Daemon, image: string, auth?: { username?: string; password?: string; auth?: string; registryToken?: string }, timeoutMs = 60_000): Promise<string> {
  const c = d.client;
  return call(c, c.image, c.image.pullImage, {
    image: { image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" },
    auth: auth ? { username: "", password: "", auth: "", serverAddress: "", identityToken: "", registryToken: "", ...auth } : undefined,
    sandboxConfig: undefined,
  }, timeoutMs).then((r) => r.imageRef);
}

const spec = (image: string) => ({ image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" });

export async function status(d: Daemon, image: string, verbose = false): Promise<{ image: Image | undefined; info: Record<string, string> }> {
  const c = d.client;
  return call(c, c.image, c.image.imageStatus, { image: spec(image), verbose });
}

export async function list(d: Daemon, filter?: string): Promise<Image[]> {
  const c = d.client;
  const r = await call(c, c.image, c.image.listImages, { filter: filter === undefined ? undefined : { image: spec(filter) } });
  return r.images;
}

export async function remove(d: Daemon, image: string): Promise<void> {
  const c = d.client;
  await call(c, c.image, c.image.removeImage, { image: spec(image) });
}

export async function fsInfo(d: Daemon): Promise<ImageFsInfoResponse> {
  const c = d.client;
  return call(c, c.image, c.image.imageFsInfo, {});
}

/** Writes `<certsD>/<host>/hosts.toml`. */
export async function writeHosts(certsD: string, host: string, text: string): Promise<void> {
  await mkdir(join(certsD, host), { recursive: true });
  await writeFile(join(certsD, host, "hosts.toml"), text);
}

async function names(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch {
    return [];
  }
}

/** What the daemon holds on disk: blob digests (hex), layer dirs, partial downloads. */
export async function onDisk(d: Daemon): Promise<{ blobs: string[]; layers: string[]; partials: string[] }> {
  return {
    blobs: await names(join(d.root, "content", "blobs", "sha256")),
    layers: await names(join(d.root, "layers")),
    partials: (await names(join(d.root, "content", "ingest"))).filter((n) => n.endsWith(".partial")),
  };
}

/** Asserts the daemon stores no image, no layer and no blob. */
export async function assertNothingStored(d: Daemon): Promise<void> {
  assert.deepEqual(await list(d), []);
  const disk = await onDisk(d);
  assert.deepEqual(disk.layers, [], "no layer directory");
  assert.deepEqual(disk.blobs, [], "no blob");
}

/** A matcher for assert.rejects: the gRPC code and a pattern the message must match. */
export function grpcError(code: number, pattern: RegExp): (e: ServiceError) => boolean {
  return (e: ServiceError) => {
    assert.equal(e.code, code, `code ${e.code} (${e.details})`);
    assert.match(e.details, pattern);
    return true;
  };
}

export const hexOf = (digest: string): string => digest.replace(/^sha256:/, "");
