// Claims the CRI socket path: refuses when a live Berth already answers there, replaces a
// stale socket file left by a crash, and sets mode 0660 once gRPC has bound it.
import { connect } from "node:net";
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from "node:fs";
import { dirname } from "node:path";

export class SocketInUseError extends Error {
  override name = "SocketInUseError";
}

function answers(path: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(path);
    const t = setTimeout(() => { s.destroy(); resolve(true); }, timeoutMs);
    s.once("connect", () => { clearTimeout(t); s.destroy(); resolve(true); });
    s.once("error", () => { clearTimeout(t); resolve(false); });
  });
}

/** Makes `path` free to bind, or throws SocketInUseError when something live serves it. */
export async function claimSocketPath(path: string, holder: () => string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o711 });
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket()) throw new SocketInUseError(`${path} exists and is not a socket; remove it or choose another --socket`);
  if (await answers(path)) {
    throw new SocketInUseError(`another Berth (${holder()}) is already serving ${path}; stop it first or start this one with another --socket`);
  }
  unlinkSync(path);
}

export function restrictSocket(path: string): void {
  chmodSync(path, 0o660);
}
