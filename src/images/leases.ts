// Counted claims on blobs by in-flight pulls and imports, so garbage collection never deletes
// a blob that an operation is about to reference.
export class Leases {
  private readonly counts = new Map<string, number>();

  acquire(keys: Iterable<string>): () => void {
    const held = [...new Set(keys)];
    for (const k of held) this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const k of held) {
        const n = (this.counts.get(k) ?? 0) - 1;
        if (n > 0) this.counts.set(k, n);
        else this.counts.delete(k);
      }
    };
  }

  has(key: string): boolean {
    return this.counts.has(key);
  }
}

/** At most `n` holders at a time; waiters are served in order. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly n: number) {}

  async acquire(): Promise<() => void> {
    if (this.active >= this.n) await new Promise<void>((r) => this.waiting.push(r));
    else this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next(); // the slot passes straight to the next waiter
      else this.active--;
    };
  }
}
