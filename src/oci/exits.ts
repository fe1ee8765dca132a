// Learns container exits from the files conmon writes into one exit dir (inotify through
// fs.watch, plus a rescan at start for exits that happened while Berth was down). No polling.
import { EventEmitter } from "node:events";
import { readFileSync, statSync, watch, type FSWatcher } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe } from "../errors.js";
import { logger } from "../util/log.js";

const log = logger("exits");

export interface ContainerExit {
  id: string;
  /** Decimal code conmon wrote: the process's status, or 128+signal (137 after SIGKILL). */
  code: number;
  /** When conmon wrote the file (its mtime), nanoseconds since the epoch. */
  timestampNs: bigint;
}

type Waiter = (e: ContainerExit) => void;

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Reads `<dir>/<id>` as conmon writes it; undefined while absent or incomplete. Synchronous on
 * purpose: the file is a few bytes, and the thread pool's queue (layer walks, pulls) would
 * otherwise sit between an exit and its event (GetContainerEvents latency).
 */
export async function readExitFile(path: string, id: string): Promise<ContainerExit | undefined> {
  try {
    const text = readFileSync(path, "utf8");
    const st = statSync(path, { bigint: true });
    const t = text.trim();
    if (!/^-?\d+$/.test(t)) return undefined;
    return { id, code: Number(t), timestampNs: st.mtimeNs };
  } catch {
    return undefined;
  }
}

export class ExitWatcher extends EventEmitter<{ exit: [ContainerExit] }> {
  readonly dir: string;
  #exits = new Map<string, ContainerExit>();
  #waiters = new Map<string, Set<Waiter>>();
  #watcher: FSWatcher | undefined;

  constructor(dir: string) {
    super();
    this.dir = dir;
  }

  /** Watches first, then rescans, so an exit written in between is not missed. */
  async start(): Promise<void> {
    if (this.#watcher) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    this.#watcher = watch(this.dir, { persistent: false }, (_event, name) => {
      if (name) void this.#consider(name);
      else void this.rescan();
    });
    this.#watcher.on("error", (err) => log.error({ dir: this.dir, err: describe(err) }, "exit dir watch failed"));
    await this.rescan();
  }

  close(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
  }

  async rescan(): Promise<void> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    await Promise.all(names.map((n) => this.#consider(n)));
  }

  /** The exit seen so far (memory only). */
  exitOf(id: string): ContainerExit | undefined {
    return this.#exits.get(id);
  }

  /** The exit, reading the file if no event has reported it yet. */
  async readExit(id: string): Promise<ContainerExit | undefined> {
    return this.#exits.get(id) ?? (await this.#consider(id));
  }

  /** Resolves with the exit, or undefined once timeoutMs passes without one. */
  async waitForExit(id: string, timeoutMs: number): Promise<ContainerExit | undefined> {
    const known = await this.readExit(id);
    if (known) return known;
    return new Promise((resolve) => {
      const set = this.#waiters.get(id) ?? new Set<Waiter>();
      this.#waiters.set(id, set);
      const waiter: Waiter = (e) => {
        clearTimeout(timer);
        resolve(e);
      };
      // setTimeout fires after 1 ms for anything above 2^31-1 ms (~24.8 days): a long stop grace
      // period would become an immediate SIGKILL. Longer waits are capped there.
      const timer = setTimeout(() => {
        set.delete(waiter);
        if (set.size === 0) this.#waiters.delete(id);
        resolve(undefined);
      }, Math.min(Math.max(0, timeoutMs), MAX_TIMER_MS));
      set.add(waiter);
      // The file may have landed between the read above and the waiter being registered.
      void this.#consider(id);
    });
  }

  /** Drops the exit file and memory of a removed container, so a reused id starts clean. */
  async forget(id: string): Promise<void> {
    this.#exits.delete(id);
    await rm(join(this.dir, id), { force: true });
  }

  async #consider(name: string): Promise<ContainerExit | undefined> {
    // conmon writes `.<id>.XXXXXX` and renames it over `<id>`.
    if (name.startsWith(".") || name.includes("/")) return undefined;
    const seen = this.#exits.get(name);
    if (seen) return seen;
    const e = await readExitFile(join(this.dir, name), name);
    if (!e) return undefined;
    if (this.#exits.has(name)) return this.#exits.get(name);
    this.#exits.set(name, e);
    const waiters = this.#waiters.get(name);
    this.#waiters.delete(name);
    for (const w of waiters ?? []) w(e);
    this.emit("exit", e);
    return e;
  }
}
