// Finds the daemon's side sockets (progress, image archives) from the state directory its effective
// config reports over CRI Status, for the commands that talk to them (pull, image import/export).
import { call, type CriClient } from "../client.js";

/** A path in the daemon's state directory (its sockets), from its effective config. */
export async function daemonStatePath(c: CriClient, name: string): Promise<string | undefined> {
  try {
    const s = await call(c, c.runtime, c.runtime.status, { verbose: true });
    const cfg = JSON.parse(s.info["config"] ?? "{}") as { state?: unknown };
    return typeof cfg.state === "string" ? `${cfg.state}/${name}` : undefined;
  } catch {
    return undefined;
  }
}
