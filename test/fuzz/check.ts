// The rules every fuzz target checks beyond "does not throw": hostile input may be refused only
// with the parser's own typed error, never a TypeError/RangeError, and what comes out is bounded.
import { BerthError, Code } from "../../src/errors.js";

type ErrorClass = abstract new (...args: never[]) => Error;

/** Thrown when an invariant breaks: the fuzzer reports it as a crash, with the input. */
export class InvariantError extends Error {
  override name = "InvariantError";
}

export function holds(cond: boolean, what: string): asserts cond {
  if (!cond) throw new InvariantError(what);
}

/**
 * Rethrows `err` unless it is one of the typed refusals a parser may give: one of `allowed` (the
 * parser's own error class; a plain `Error` only when Error is listed), or a BerthError whose kind
 * says the input was wrong (never Internal/Unknown, which would blame Berth).
 */
export function refusal(err: unknown, allowed: readonly ErrorClass[] = []): void {
  if (err instanceof Error) {
    for (const c of allowed) {
      // Error itself matches only plain Errors: a TypeError is an instance of Error too.
      if (c === Error ? err.constructor === Error : err instanceof c) return;
    }
  }
  if (err instanceof BerthError) {
    holds(err.code !== Code.INTERNAL && err.code !== Code.UNKNOWN, `bad input refused as ${err.code}: ${err.message}`);
    holds(err.message.length > 0, "BerthError without a message");
    return;
  }
  throw err;
}

/** Runs `fn`; a typed refusal gives undefined, anything else propagates as the crash. */
export function parseOrRefuse<T>(fn: () => T, allowed: readonly ErrorClass[] = []): T | undefined {
  try {
    return fn();
  } catch (err) {
    refusal(err, allowed);
    return undefined;
  }
}

/** Same for an async parser. */
export async function parseOrRefuseAsync<T>(fn: () => Promise<T>, allowed: readonly ErrorClass[] = []): Promise<T | undefined> {
  try {
    return await fn();
  } catch (err) {
    refusal(err, allowed);
    return undefined;
  }
}

/** Splits fuzz bytes into a selector byte and the rest (for targets with modes or chunking). */
export function split(data: Buffer): { sel: number; rest: Buffer } {
  return { sel: data[0] ?? 0, rest: data.subarray(1) };
}

/** Cuts `data` into chunks whose sizes come from `seed`, to exercise incremental parsers. */
export function chunks(data: Buffer, seed: number): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  let s = seed | 1;
  while (at < data.length) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const n = seed === 0 ? data.length : 1 + (s % 97);
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}
