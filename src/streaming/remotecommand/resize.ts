// The resize stream's payload: Go json.Encoder objects {"Width":W,"Height":H}, one per line;
// read with a bounded line buffer, bad lines skipped, sizes clamped to what a tty can take.
import type { TerminalSize } from "./session.js";

const MAX_LINE = 4096;

export class ResizeDecoder {
  #buf = "";

  /** Feeds bytes; returns the sizes completed by them. */
  push(chunk: Buffer): TerminalSize[] {
    this.#buf += chunk.toString("utf8");
    const out: TerminalSize[] = [];
    for (let nl = this.#buf.indexOf("\n"); nl >= 0; nl = this.#buf.indexOf("\n")) {
      const s = parseSize(this.#buf.slice(0, nl));
      if (s) out.push(s);
      this.#buf = this.#buf.slice(nl + 1);
    }
    if (this.#buf.length > MAX_LINE) this.#buf = "";
    // A client that does not end its object with a newline: accept a complete object as it stands.
    if (this.#buf.trim().endsWith("}")) {
      const s = parseSize(this.#buf);
      if (s) {
        out.push(s);
        this.#buf = "";
      }
    }
    return out;
  }
}

function parseSize(line: string): TerminalSize | undefined {
  if (!line.trim()) return undefined;
  try {
    const v = JSON.parse(line) as { Width?: unknown; Height?: unknown };
    const w = Number(v.Width);
    const h = Number(v.Height);
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 0 || h < 0) return undefined;
    return { width: Math.min(w, 65535), height: Math.min(h, 65535) };
  } catch {
    return undefined;
  }
}
