// `berth logs [-f] [--tail N] [--since T] [--timestamps] ID`: reads the CRI log file the container
// status names (as kubelet does), splits P/F lines back into the container's stdout and stderr.
import { watch } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { ContainerState } from "../../generated/runtime/v1/api.js";
import { parseDuration } from "../../config/config.js";
import { call, type CriClient } from "../client.js";
import { UsageError } from "../output.js";
import type { ContainerArgs } from "./containers.js";

export interface LogLine {
  /** The timestamp as written (RFC 3339 with nanoseconds and an offset). */
  time: string;
  ms: number;
  stream: "stdout" | "stderr";
  partial: boolean;
  text: string;
}

/** One line of a CRI log file; undefined for a line that does not parse (skipped, as kubelet does). */
export function parseLogLine(line: string): LogLine | undefined {
  const a = line.indexOf(" ");
  const b = line.indexOf(" ", a + 1);
  if (a <= 0 || b < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== "stdout" && stream !== "stderr") return undefined;
  let c = line.indexOf(" ", b + 1);
  if (c < 0) c = line.length;
  const tags = line.slice(b + 1, c).split(":");
  const time = line.slice(0, a);
  return { time, ms: Date.parse(time), stream, partial: tags[0] === "P", text: line.slice(c + 1) };
}

/** --since: an RFC 3339 time, or a duration before now ("42m", "10s"). */
export function parseSince(s: string, now = Date.now()): number {
  const d = parseDuration(s);
  if (d !== undefined) return now - d;
  const t = Date.parse(s);
  if (Number.isNaN(t)) throw new UsageError(`--since "${s}": expected a time like 2026-01-02T13:23:37Z or a duration like 42m`);
  return t;
}

function write(l: LogLine, timestamps: boolean): void {
  const out = l.stream === "stdout" ? process.stdout : process.stderr;
  out.write(`${timestamps ? `${l.time} ` : ""}${l.text}${l.partial ? "" : "\n"}`);
}

/** Reads complete lines from a handle from `offset`, keeping a trailing partial line for later. */
class LineReader {
  offset = 0;
  private rest = "";
  constructor(public fh: FileHandle) {}

  async lines(): Promise<string[]> {
    const out: string[] = [];
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      const { bytesRead } = await this.fh.read(buf, 0, buf.length, this.offset);
      if (bytesRead === 0) break;
      this.offset += bytesRead;
      const text = this.rest + buf.subarray(0, bytesRead).toString("utf8");
      const parts = text.split("\n");
      this.rest = parts.pop() ?? "";
      out.push(...parts);
    }
    return out;
  }
}

export async function logsCommand(c: CriClient, a: ContainerArgs): Promise<void> {
  const [id, ...extra] = a.positionals;
  if (!id || extra.length) throw new UsageError("berth logs: expected one container ID");
  const v = a.values;
  // -f is --force in the shared flag table; for logs it means follow, as in crictl.
  const follow = !!(v.follow || v.force);
  const tail = v.tail === undefined ? -1 : Number(v.tail);
  if (!Number.isInteger(tail) || tail < -1) throw new UsageError(`--tail "${v.tail}": expected a number of lines`);
  const since = v.since === undefined ? undefined : parseSince(v.since);
  const timestamps = !!v.timestamps;
  const s = await call(c, c.runtime, c.runtime.containerStatus, { containerId: id, verbose: false });
  const path = s.status?.logPath ?? "";
  if (!path) throw new UsageError(`container ${id} has no log file (its pod has no log_directory)`);

  let reader = new LineReader(await open(path, "r"));
  let parsed = (await reader.lines()).map(parseLogLine).filter((l): l is LogLine => !!l);
  if (since !== undefined) parsed = parsed.filter((l) => l.ms >= since);
  if (tail >= 0) parsed = tail === 0 ? [] : parsed.slice(-tail);
  for (const l of parsed) write(l, timestamps);
  if (!follow) {
    await reader.fh.close();
    return;
  }
  const containerId = s.status!.id;
  let ino = (await reader.fh.stat()).ino;
  await new Promise<void>((resolve, reject) => {
    let busy = false;
    let lastCheck = 0;
    const watcher = watch(dirname(path), { persistent: true }, () => void tick());
    const timer = setInterval(() => void tick(), 250);
    const done = (err?: unknown) => {
      watcher.close();
      clearInterval(timer);
      void reader.fh.close().catch(() => undefined);
      if (err) reject(err);
      else resolve();
    };
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        for (const l of await reader.lines()) {
          const p = parseLogLine(l);
          if (p) write(p, timestamps);
        }
        // kubelet rotated the file: finish the old one, then follow the new one.
        const now = await stat(path).catch(() => undefined);
        if (now && now.ino !== ino) {
          for (const l of await reader.lines()) {
            const p = parseLogLine(l);
            if (p) write(p, timestamps);
          }
          await reader.fh.close();
          reader = new LineReader(await open(path, "r"));
          ino = now.ino;
        }
        if (Date.now() - lastCheck > 1000) {
          lastCheck = Date.now();
          const st = await call(c, c.runtime, c.runtime.containerStatus, { containerId, verbose: false }).catch(() => undefined);
          // Following ends once the container has ended (a created one may still start).
          const state = st?.status?.state;
          if (state !== ContainerState.CONTAINER_RUNNING && state !== ContainerState.CONTAINER_CREATED) {
            for (const l of await reader.lines()) {
              const p = parseLogLine(l);
              if (p) write(p, timestamps);
            }
            done();
          }
        }
      } catch (err) {
        done(err);
      } finally {
        busy = false;
      }
    };
  });
}
