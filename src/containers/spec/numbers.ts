// int64 CRI fields arrive as bigint and config.json wants plain JSON numbers: convert with
// range checks so nothing wraps (CVE-2024-40635: a uid over int32 became 0) or loses precision.
import { invalid } from "../../errors.js";

export const UINT32_MAX = 0xffff_ffff;

/**
 * `value` as a safe integer in [min, max], or an INVALID_ARGUMENT naming `field`.
 * Values past 2^53 are refused rather than rounded: no real limit needs them.
 */
export function toInt(value: bigint | number, field: string, min: number, max: number = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === "bigint" ? (value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : NaN) : value;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw invalid(`${field} ${String(value)} is out of range: it must be an integer from ${min} to ${max}`);
  }
  return n;
}

/** A Linux uid or gid: 0 .. 2^32-2 ((uid_t)-1 means "no change" to the kernel). */
export function toId(value: bigint | number, field: string): number {
  return toInt(value, field, 0, UINT32_MAX - 1);
}
