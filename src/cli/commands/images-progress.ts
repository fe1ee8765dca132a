// `berth pull`'s live view: reads the daemon's progress feed (<state>/progress.sock, JSON lines)
// and draws one bar per layer on a terminal (bytes, rate, ETA), or plain phase lines otherwise.
import { connect, type Socket } from "node:net";
import type { ProgressEvent } from "../../images/progress.js";

const REDRAW_MS = 100;

interface LayerLine {
  digest: string;
  total: number;
  done: number;
  phase: string;
  /** Recent (time, bytes) samples for the rate. */
  samples: [number, number][];
}

/** Decimal sizes with 3 significant digits, as crictl prints them ("2.23MB"). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  const s = Number(v.toPrecision(3)).toString();
  return `${s}${units[i]}`;
}

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return `${m}m${String(Math.ceil(seconds - m * 60)).padStart(2, "0")}s`;
}

export class PullView {
  private readonly layers = new Map<number, LayerLine>();
  private socket: Socket | undefined;
  private drawn = 0;
  private timer: NodeJS.Timeout | undefined;
  private buffered = "";
  private ended: (() => void) | undefined;
  private sawEnd = false;
  private closed = false;

  constructor(
    private readonly ref: string,
    private readonly out: NodeJS.WriteStream,
    private readonly tty: boolean,
  ) {}

  /** Subscribes to the feed; resolves once connected (or gives up quietly: progress is optional). */
  attach(socketPath: string): Promise<void> {
    return new Promise((resolve) => {
      const s = connect(socketPath);
      s.setEncoding("utf8");
      s.once("connect", () => {
        this.socket = s;
        resolve();
      });
      s.on("error", () => resolve());
      s.on("data", (d: string) => this.onData(d));
    });
  }

  private onData(d: string): void {
    this.buffered += d;
    let nl: number;
    while ((nl = this.buffered.indexOf("\n")) >= 0) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      let e: ProgressEvent;
      try {
        e = JSON.parse(line) as ProgressEvent;
      } catch {
        continue;
      }
      if (e.ref === this.ref) this.onEvent(e);
    }
  }

  private onEvent(e: ProgressEvent): void {
    if (e.kind === "pull") {
      if (e.phase === "done" || e.phase === "failed") {
        this.sawEnd = true;
        this.ended?.();
      }
      return;
    }
    let l = this.layers.get(e.index);
    if (!l) {
      l = { digest: e.layer, total: e.total, done: 0, phase: "", samples: [] };
      this.layers.set(e.index, l);
    }
    const changed = l.phase !== e.phase;
    l.phase = e.phase;
    l.done = e.done;
    l.total = e.total;
    l.samples.push([e.t, e.done]);
    if (l.samples.length > 20) l.samples.shift();
    if (this.tty) this.schedule();
    else if (changed) this.out.write(`${short(l.digest)}: ${l.phase}${l.phase === "downloading" || l.phase === "waiting" ? ` (${humanSize(l.total)})` : ""}\n`);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.draw();
    }, REDRAW_MS);
  }

  private draw(): void {
    const lines = [...this.layers.entries()].sort((a, b) => a[0] - b[0]).map(([, l]) => this.line(l));
    let s = this.drawn > 0 ? `\x1b[${this.drawn}A` : "";
    for (const line of lines) s += `\x1b[2K${line}\n`;
    this.drawn = lines.length;
    this.out.write(s);
  }

  private line(l: LayerLine): string {
    const name = short(l.digest);
    const phase = l.phase.padEnd(11);
    if (l.phase !== "downloading" && l.phase !== "resuming") return `${name}  ${phase}  ${humanSize(l.total)}`;
    const width = 24;
    const frac = l.total > 0 ? Math.min(1, l.done / l.total) : 0;
    const filled = Math.floor(frac * width);
    const bar = "=".repeat(Math.max(0, filled - 1)) + (filled > 0 ? ">" : "") + " ".repeat(width - filled);
    const first = l.samples[0];
    const last = l.samples[l.samples.length - 1];
    const secs = first && last ? (last[0] - first[0]) / 1000 : 0;
    const rate = first && last && secs > 0 ? (last[1] - first[1]) / secs : 0;
    const eta = rate > 0 ? (l.total - l.done) / rate : NaN;
    return `${name}  ${phase}  [${bar}]  ${humanSize(l.done)}/${humanSize(l.total)}  ${humanSize(rate)}/s  ETA ${duration(eta)}`;
  }

  /** Waits (briefly) for the feed's end-of-pull event, redraws a last time and disconnects. */
  async finish(): Promise<void> {
    if (this.socket && !this.sawEnd) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 300);
        this.ended = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.tty && this.layers.size > 0) this.draw();
    this.socket?.destroy();
  }
}

function short(digest: string): string {
  return digest.replace(/^sha256:/, "").slice(0, 12);
}
