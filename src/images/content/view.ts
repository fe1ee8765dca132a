// A reader's view of a shared download, pinned to one generation: when the download throws its
// bytes away and starts over from byte 0, a reader that saw the old bytes fails instead of mixing.
import type { FileHandle } from "node:fs/promises";
import type { Followed } from "./follow.js";

/** What a view needs of the download it reads (the Ingest; an interface, so view and ingest do not import each other). */
export interface ViewSource {
  readonly generation: number;
  readonly readable: number;
  readonly state: "running" | "done" | "failed";
  readonly error: Error | undefined;
  readonly size: number;
  readonly what: string;
  readonly opened: Promise<void>;
  on(event: "progress", fn: () => void): unknown;
  off(event: "progress", fn: () => void): unknown;
  restartError(): Error;
  openFileAt(view: IngestView): Promise<FileHandle>;
}

/** What a follower reads: the download as of one generation (a restart from byte 0 ends it). */
export class IngestView implements Followed {
  constructor(
    private readonly ing: ViewSource,
    readonly generation: number,
  ) {}

  private get stale(): boolean {
    return this.ing.generation !== this.generation;
  }

  get readable(): number {
    return this.stale ? 0 : this.ing.readable;
  }

  get state(): "running" | "done" | "failed" {
    return this.stale ? "failed" : this.ing.state;
  }

  get error(): Error | undefined {
    return this.stale ? this.ing.restartError() : this.ing.error;
  }

  get size(): number {
    return this.ing.size;
  }

  get what(): string {
    return this.ing.what;
  }

  get opened(): Promise<void> {
    return this.ing.opened;
  }

  on(event: "progress", fn: () => void): this {
    this.ing.on(event, fn);
    return this;
  }

  off(event: "progress", fn: () => void): this {
    this.ing.off(event, fn);
    return this;
  }

  openFile(): Promise<FileHandle> {
    if (this.stale) return Promise.reject(this.ing.restartError());
    return this.ing.openFileAt(this);
  }
}
