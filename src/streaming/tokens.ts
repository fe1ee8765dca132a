// Single-use tokens for streaming URLs: the RPC stores its request under a random URL-safe token,
// the streaming server takes it out once; unknown, used and expired tokens are all just absent.
import { randomBytes } from "node:crypto";
import { BerthError, Code } from "../errors.js";

export interface TokenCacheOptions {
  ttlMs: number;
  /** Requests waiting for their connection at once (kubelet's cache holds 1000). */
  maxInFlight: number;
  now?: () => number;
}

export class TokenCache<T> {
  readonly #entries = new Map<string, { value: T; expires: number }>();
  readonly #now: () => number;

  constructor(private readonly o: TokenCacheOptions) {
    this.#now = o.now ?? Date.now;
  }

  /** Stores value and returns its token (16 random bytes, base64url). */
  put(value: T): string {
    this.#sweep();
    if (this.#entries.size >= this.o.maxInFlight) {
      throw new BerthError(Code.RESOURCE_EXHAUSTED, `${this.o.maxInFlight} streaming requests are already waiting for their connection; retry later`);
    }
    let token = randomBytes(16).toString("base64url");
    while (this.#entries.has(token)) token = randomBytes(16).toString("base64url");
    this.#entries.set(token, { value, expires: this.#now() + this.o.ttlMs });
    return token;
  }

  /** The value for token, removed; undefined when unknown, already used or expired. */
  take(token: string): T | undefined {
    const e = this.#entries.get(token);
    if (!e) return undefined;
    this.#entries.delete(token);
    return e.expires > this.#now() ? e.value : undefined;
  }

  get size(): number {
    this.#sweep();
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#now();
    // Map keeps insertion order and every entry has the same TTL: the oldest come first.
    for (const [k, e] of this.#entries) {
      if (e.expires > now) break;
      this.#entries.delete(k);
    }
  }
}
