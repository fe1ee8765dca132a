// Makes a user namespace with given ID mappings (and, in the same unshare, namespaces it owns):
// util-linux 2.38's --map-users needs newuidmap, absent here, so Berth writes the maps itself.
import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { BerthError, internal } from "../errors.js";
import { pinNamespaceFile } from "./idmap.js";

export interface IdMap {
  containerId: number;
  hostId: number;
  length: number;
}

export interface UsernsHolder {
  /** PID of the process inside the new namespaces; /proc/<pid>/ns/* name them until release(). */
  pid: number;
  /** Lets the process exit (the pins, if any, keep the namespaces). Safe to repeat. */
  release(): Promise<void>;
}

const TIMEOUT_MS = 10_000;
const TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export function mapText(maps: readonly IdMap[]): string {
  return maps.map((m) => `${m.containerId} ${m.hostId} ${m.length}\n`).join("");
}

export type UsernsKind = "user" | "net" | "ipc" | "uts";

/**
 * Runs `unshare --user <others> -- sh -c 'echo; read'`: the new user namespace owns the other
 * namespaces made in the same call (so their sysctls and mounts belong to the pod). Once the
 * process is in, the maps are written from outside (root on the host may map any range) and the
 * namespaces bound onto `pins` (unshare's own --user=<file> pinning fails here with EPERM).
 */
export async function makeUserns(pins: Readonly<Partial<Record<UsernsKind, string>>>, others: readonly Exclude<UsernsKind, "user">[], uid: readonly IdMap[], gid: readonly IdMap[]): Promise<UsernsHolder> {
  const pinArgs = ["--user", ...others.map((k) => `--${k}`)];
  const child = spawn("unshare", [...pinArgs, "--", "sh", "-c", "echo in; read _"], {
    stdio: ["pipe", "pipe", "pipe"],
    env: { PATH: TOOL_PATH },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once("close", (code) => resolve(code)));
  const release = async (): Promise<void> => {
    child.stdin.end();
    const t = setTimeout(() => child.kill("SIGKILL"), TIMEOUT_MS);
    await exited;
    clearTimeout(t);
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(internal(`unshare ${pinArgs.join(" ")} did not start within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
      child.stdout.once("data", () => {
        clearTimeout(t);
        resolve();
      });
      child.once("error", (e) => reject(internal(`unshare: ${e.message}`, e)));
      void exited.then((code) => {
        clearTimeout(t);
        reject(internal(`unshare ${pinArgs.join(" ")} exited with ${code}: ${stderr.trim()}`));
      });
    });
    const pid = child.pid;
    if (pid === undefined) throw internal("unshare has no pid");
    await writeFile(`/proc/${pid}/uid_map`, mapText(uid));
    await writeFile(`/proc/${pid}/gid_map`, mapText(gid));
    for (const [kind, pin] of Object.entries(pins)) pinNamespaceFile(`/proc/${pid}/ns/${kind}`, pin);
    return { pid, release };
  } catch (err) {
    child.kill("SIGKILL");
    await exited;
    throw err instanceof BerthError ? err : internal(`make user namespace: ${(err as Error).message}`, err);
  }
}
