// Serves the pull progress feed on a unix socket (<state>/progress.sock) as newline-delimited
// JSON, so `berth pull` can draw live per-layer bars while its unary PullImage call runs.
import { chmodSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import { logger } from "../util/log.js";
import type { ProgressEvent, ProgressFeed } from "./progress.js";

const log = logger("progress");
// A reader this far behind is not reading: drop it rather than buffer without bound.
const MAX_BACKLOG = 1 << 20;

export class ProgressSocket {
  private readonly server: Server;
  private readonly clients = new Set<Socket>();
  private readonly onEvent: (e: ProgressEvent) => void;

  private constructor(private readonly path: string, private readonly feed: ProgressFeed) {
    this.onEvent = (e) => {
      if (this.clients.size === 0) return;
      const line = JSON.stringify(e) + "\n";
      for (const c of this.clients) {
        if (c.writableLength > MAX_BACKLOG) c.destroy();
        else c.write(line);
      }
    };
    this.server = createServer((sock) => {
      this.clients.add(sock);
      sock.on("error", () => sock.destroy());
      sock.on("close", () => this.clients.delete(sock));
      sock.resume(); // nothing to read; keep the socket flowing so close is seen
    });
  }

  static async listen(path: string, feed: ProgressFeed): Promise<ProgressSocket> {
    rmSync(path, { force: true });
    const s = new ProgressSocket(path, feed);
    await new Promise<void>((resolve, reject) => {
      s.server.once("error", reject);
      s.server.listen(path, () => resolve());
    });
    chmodSync(path, 0o660);
    feed.on("event", s.onEvent);
    log.debug({ path }, "progress feed listening");
    return s;
  }

  async close(): Promise<void> {
    this.feed.off("event", this.onEvent);
    for (const c of this.clients) c.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.path, { force: true });
  }
}
