// An unpack worker thread: runs layer applies off the daemon's event loop, so the applier can
// use synchronous filesystem calls (~4x cheaper than async ones) without stalling gRPC.
import { parentPort } from "node:worker_threads";
import { BlobFeed } from "./blob-feed.js";
import { FeedSignal } from "./feed-signal.js";
import { applyTar } from "./layer-apply.js";
import type { ApplyJob } from "./limits.js";
import { failure, type FromWorker, type ToWorker } from "./protocol.js";

const port = parentPort;
if (!port) throw new Error("unpack worker: must run in a worker thread");
const send = (m: FromWorker): void => port.postMessage(m);

/** The current job's chunks as an async iterable; each chunk taken is acknowledged. */
class Feed implements AsyncIterable<Buffer> {
  readonly #queue: Buffer[] = [];
  readonly #s = new FeedSignal();

  push(b: Buffer): void {
    this.#queue.push(b);
    this.#s.poke();
  }
  end(): void {
    this.#s.end();
  }
  abort(reason: string): void {
    this.#s.abort(reason);
  }
  async *[Symbol.asyncIterator](): AsyncIterator<Buffer> {
    for (;;) {
      this.#s.check();
      const b = this.#queue.shift();
      if (b !== undefined) {
        send({ t: "ack" });
        yield b;
        continue;
      }
      if (this.#s.ended) return;
      await this.#s.sleep();
    }
  }
}

let feed: Feed | BlobFeed | null = null;

async function run(job: ApplyJob, f: Feed | BlobFeed): Promise<void> {
  try {
    send({ t: "done", result: await applyTar(f instanceof BlobFeed ? f.tar() : f, job) });
  } catch (err) {
    send(failure(err));
  } finally {
    if (feed === f) feed = null;
  }
}

port.on("message", (m: ToWorker) => {
  switch (m.t) {
    case "job":
      feed = m.blob ? new BlobFeed(m.blob, m.job.limits) : new Feed();
      void run(m.job, feed);
      break;
    case "chunk":
      if (feed instanceof Feed) feed.push(Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength));
      break;
    case "avail":
      if (feed instanceof BlobFeed) feed.avail(m.upTo);
      break;
    case "end":
      feed?.end();
      break;
    case "abort":
      feed?.abort(m.reason);
      break;
  }
});
