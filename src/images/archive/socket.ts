// Berth's own image archive API on a unix socket (<state>/images.sock, mode 0660), HTTP/1.1:
// `POST /import` takes an archive as the request body, `GET /export?image=REF` streams one back.
// CRI has no import/export RPC; this keeps large archives off the gRPC socket and out of memory.
import { chmodSync, rmSync } from "node:fs";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { http } from "../../util/node-http.js";
import { pipeline } from "node:stream/promises";
import { BerthError, Code, describe } from "../../errors.js";
import { logger } from "../../util/log.js";
import type { ImageContext } from "../context.js";

const { createServer } = http;

const log = logger("archive");

const HTTP_STATUS: Partial<Record<Code, number>> = {
  [Code.INVALID_ARGUMENT]: 400, [Code.NOT_FOUND]: 404, [Code.FAILED_PRECONDITION]: 409, [Code.DATA_LOSS]: 422,
};

function fail(res: ServerResponse, err: unknown): void {
  const e = err instanceof BerthError ? err : new BerthError(Code.INTERNAL, describe(err));
  if (e.code === Code.INTERNAL) log.error({ err: e.message }, "archive request failed");
  if (res.headersSent) {
    res.destroy(e);
    return;
  }
  res.writeHead(HTTP_STATUS[e.code] ?? 500, { "content-type": "application/json" });
  res.end(JSON.stringify({ code: e.code, message: e.message }));
}

export class ArchiveSocket {
  private constructor(private readonly server: Server, private readonly path: string) {}

  static async listen(path: string, ctx: ImageContext): Promise<ArchiveSocket> {
    const server = createServer((req, res) => {
      void handle(ctx, req, res).catch((err: unknown) => fail(res, err));
    });
    // Imports can run for minutes; no idle timeout on the request.
    server.requestTimeout = 0;
    rmSync(path, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(path, () => resolve());
    });
    chmodSync(path, 0o660);
    return new ArchiveSocket(server, path);
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}

async function handle(ctx: ImageContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://berth");
  if (req.method === "POST" && url.pathname === "/import") {
    // Import and export (and tar-stream) load at their first use, not in every idle daemon.
    const images = await (await import("./import.js")).importArchive(ctx, req);
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ images: images.map((i) => ({ id: i.id, repoTags: i.repoTags, repoDigests: i.repoDigests })) }));
    return;
  }
  if (req.method === "GET" && url.pathname === "/export") {
    const image = url.searchParams.get("image");
    if (!image) throw new BerthError(Code.INVALID_ARGUMENT, "export: the image query parameter is required");
    const out = await (await import("./export.js")).exportArchive(ctx, image);
    res.writeHead(200, { "content-type": "application/x-tar", "x-berth-image": out.image });
    await pipeline(out.stream, res);
    return;
  }
  req.resume();
  throw new BerthError(Code.NOT_FOUND, `${req.method} ${url.pathname}: not an archive endpoint (POST /import, GET /export?image=)`);
}
