// A publish/subscribe fan-out with one bounded queue per subscriber: publishing never waits for
// a subscriber; one that falls a whole queue behind is cut off (counted, logged) instead.
import { logger } from "./log.js";

const log = logger("events");

/** What a producer needs: whether anyone listens (so it can skip building), and publish. */
export interface Publisher<T> {
  wanted(): boolean;
  publish(item: T): void;
}

export interface FanoutOptions {
  /** Items one subscriber may have queued; one more cuts it off. */
  capacity: number;
  /** How long after endRecovery() a new subscriber still gets what recovery published. */
  replayWindowMs: number;
  /** The error a cut-off subscriber's iteration ends with. */
  overflowError: (lost: number) => Error;
  name: string;
}

export class Subscription<T> implements AsyncIterable<T> {
  #queue: T[] = [];
  #wake: (() => void) | undefined;
  #ended = false;
  #error: Error | undefined;

  constructor(
    private readonly capacity: number,
    private readonly onEnd: (s: Subscription<T>) => void,
  ) {}

  /** Queues the item; when the queue is full the subscription ends with `error` instead, its queue dropped, and the count lost is returned. */
  push(item: T, error: (lost: number) => Error): number {
    if (this.#ended) return 0;
    if (this.#queue.length < this.capacity) {
      this.#queue.push(item);
      this.#wakeUp();
      return 0;
    }
    const lost = this.#queue.length + 1;
    this.#queue = [];
    this.#end(error(lost));
    return lost;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Ends the iteration cleanly once the queue is read (an error ends it at once). */
  close(): void {
    this.#end(undefined);
  }

  #end(error: Error | undefined): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#error = error;
    this.onEnd(this);
    this.#wakeUp();
  }

  #wakeUp(): void {
    const w = this.#wake;
    this.#wake = undefined;
    w?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      if (this.#error) throw this.#error;
      const item = this.#queue.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((r) => (this.#wake = r));
    }
  }
}

export class Fanout<T> implements Publisher<T> {
  #subs = new Set<Subscription<T>>();
  /** What was published before endRecovery() (capped at capacity); replayed to early subscribers. */
  #recovered: T[] | undefined = [];
  #replayUntil = 0;
  #published = 0;
  #dropped = 0;
  #cutOff = 0;
  #closed = false;

  constructor(private readonly opts: FanoutOptions) {}

  /** Subscribers now (a plain getter for the /metrics exporter). */
  get subscribers(): number {
    return this.#subs.size;
  }

  /** Items subscribers lost because they fell behind (each cut-off subscriber's queue plus the item that overflowed it). */
  get dropped(): number {
    return this.#dropped;
  }

  /** Subscribers cut off for falling a whole queue behind. */
  get cutOff(): number {
    return this.#cutOff;
  }

  get published(): number {
    return this.#published;
  }

  wanted(): boolean {
    if (this.#recovered && this.#replayUntil > 0 && Date.now() > this.#replayUntil) this.#recovered = undefined;
    return this.#subs.size > 0 || this.#replayUntil === 0;
  }

  publish(item: T): void {
    this.#published++;
    if (this.#replayUntil === 0 && this.#recovered && this.#recovered.length < this.opts.capacity) this.#recovered.push(item);
    for (const s of [...this.#subs]) {
      const lost = s.push(item, this.opts.overflowError);
      if (lost > 0) {
        this.#dropped += lost;
        this.#cutOff++;
        log.warn({ bus: this.opts.name, lost, capacity: this.opts.capacity }, "a subscriber fell a whole queue behind; cut off (it must re-list)");
      }
    }
  }

  /** Recovery is over: what it published is replayed to subscribers joining within the window. */
  endRecovery(now = Date.now()): void {
    this.#replayUntil = now + this.opts.replayWindowMs;
    if (this.#recovered?.length === 0) this.#recovered = undefined;
  }

  subscribe(now = Date.now()): Subscription<T> {
    const s = new Subscription<T>(this.opts.capacity, (x) => this.#subs.delete(x));
    if (this.#closed) {
      s.close();
      return s;
    }
    this.#subs.add(s);
    if (this.#recovered && this.#replayUntil > 0) {
      if (now <= this.#replayUntil) for (const item of this.#recovered) s.push(item, this.opts.overflowError);
      else this.#recovered = undefined;
    }
    return s;
  }

  /** Ends every subscription cleanly (daemon shutdown), so no stream holds the server open. */
  close(): void {
    this.#closed = true;
    this.#recovered = undefined;
    for (const s of [...this.#subs]) s.close();
  }
}
