// `berth image import FILE` and `berth image export IMAGE FILE`: archives stream to and from the
// daemon's archive socket (<state>/images.sock, HTTP), never through gRPC or into memory.
import { createReadStream, createWriteStream } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { request, type IncomingMessage } from "node:http";
import { pipeline } from "node:stream/promises";
import { status as grpcStatus } from "@grpc/grpc-js";
import { asCode, codeName } from "../../errors.js";
import type { CriClient } from "../client.js";
import { UsageError } from "../output.js";
import type { ClientArgs } from "../args.js";
import { daemonStatePath } from "./daemon-state.js";

async function readJson(res: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    return {};
  }
}

/** A failure answer as an error main prints plainly ("berth: …", exit 1). */
async function failure(res: IncomingMessage): Promise<Error> {
  const body = (await readJson(res)) as { code?: unknown; message?: unknown };
  const details = typeof body.message === "string" ? body.message : `the daemon answered HTTP ${res.statusCode}`;
  return Object.assign(new Error(details), { code: grpcStatus[codeName(asCode(body.code))], details });
}

async function socketOf(c: CriClient): Promise<string> {
  const path = await daemonStatePath(c, "images.sock");
  if (!path) throw new Error("cannot find the daemon's state directory (Status verbose gave no config)");
  return path;
}

export async function importCommand(c: CriClient, a: ClientArgs, timeoutMs: number): Promise<void> {
  const file = a.positionals[0];
  if (!file || a.positionals.length > 1) throw new UsageError("usage: berth image import FILE (an OCI archive or a `docker save` tarball; - for stdin)");
  const socketPath = await socketOf(c);
  const input = file === "-" ? process.stdin : createReadStream(file);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ socketPath, method: "POST", path: "/import", headers: { "content-type": "application/x-tar" }, timeout: timeoutMs }, resolve);
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`import did not finish within ${timeoutMs} ms`)));
    input.on("error", (err: Error) => req.destroy(err));
    input.pipe(req);
  });
  if (res.statusCode !== 200) throw await failure(res);
  const body = (await readJson(res)) as { images?: { id: string; repoTags: string[] }[] };
  for (const img of body.images ?? []) {
    if (img.repoTags.length === 0) process.stdout.write(`Loaded image ID: ${img.id}\n`);
    for (const t of img.repoTags) process.stdout.write(`Loaded image: ${t}\n`);
  }
}

export async function exportCommand(c: CriClient, a: ClientArgs, timeoutMs: number): Promise<void> {
  const [image, file] = a.positionals;
  if (!image || !file || a.positionals.length > 2) throw new UsageError("usage: berth image export IMAGE FILE (an OCI archive; - for stdout)");
  const socketPath = await socketOf(c);
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = request({ socketPath, method: "GET", path: `/export?image=${encodeURIComponent(image)}`, timeout: timeoutMs }, resolve);
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error(`export did not finish within ${timeoutMs} ms`)));
    req.end();
  });
  if (res.statusCode !== 200) throw await failure(res);
  if (file === "-") {
    await pipeline(res, process.stdout);
    return;
  }
  // Written beside the target and renamed, so a failed export leaves no half archive.
  const tmp = `${file}.berth-${process.pid}.tmp`;
  try {
    await pipeline(res, createWriteStream(tmp, { mode: 0o644 }));
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  process.stderr.write(`Exported ${res.headers["x-berth-image"] ?? image} to ${file}\n`);
}
