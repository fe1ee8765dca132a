// Connects to localhost:<port> the way CRI-O's port-forward does (IPv4 127.0.0.1, then IPv6 ::1,
// serially), in whatever network namespace the calling process is in; shared by the daemon
// (host-network pods) and the in-namespace dial helper.
import { connect, type Socket } from "node:net";

export const DIAL_TIMEOUT_MS = 10_000;

/** A port a client asked to forward to: 1..65535 (0 and bigger are the caller's error). */
export function isPort(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

function dialOne(host: string, port: number, paused: boolean, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port });
    // Paused, nothing is read before the socket is handed over (a server's banner stays in the kernel).
    if (paused) s.pause();
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect ${host}:${port}: no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    s.once("connect", () => {
      clearTimeout(timer);
      s.removeAllListeners("error");
      resolve(s);
    });
    s.once("error", (err) => {
      clearTimeout(timer);
      s.destroy();
      reject(err);
    });
  });
}

/**
 * localhost:<port> over TCP: 127.0.0.1 first, then ::1. The error names both attempts, as
 * kubelet users know it from CRI-O ("IPv4: … IPv6: …").
 */
export async function dialLocalhost(port: number, opts: { paused?: boolean; timeoutMs?: number; where?: string } = {}): Promise<Socket> {
  const paused = opts.paused ?? false;
  const timeoutMs = opts.timeoutMs ?? DIAL_TIMEOUT_MS;
  if (!isPort(port)) throw new Error(`port ${port} is not a TCP port (1-65535)`);
  try {
    return await dialOne("127.0.0.1", port, paused, timeoutMs);
  } catch (e4) {
    try {
      return await dialOne("::1", port, paused, timeoutMs);
    } catch (e6) {
      throw new Error(`failed to connect to localhost:${port} ${opts.where ?? ""}`.trimEnd() + `, IPv4: ${(e4 as Error).message}, IPv6: ${(e6 as Error).message}`);
    }
  }
}
