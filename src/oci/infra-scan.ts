// Finds the infra processes of one Berth instance on the host, recorded or not: the unshare
// monitors (by the pid-pin dir and infra root in their argv) and the catatonits (by their chroot).
import { readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { procStat, type ProcIdentity } from "./proc.js";

export interface FoundInfra extends ProcIdentity {
  kind: "monitor" | "init";
  /** The PID-namespace pin a monitor was started with (monitors only). */
  pin?: string;
}

/**
 * One /proc scan. A monitor is an unshare whose argv names `--pid=<pidnsDir>/…` and
 * `--root=<rootDir>`; an init is any process chrooted to rootDir (catatonit, also after its
 * monitor died and it was re-parented). Both dirs are this instance's own, so nothing of another
 * Berth (or anything else) matches.
 */
export async function findInfraProcesses(pidnsDir: string, rootDir: string): Promise<FoundInfra[]> {
  const pinPrefix = `--pid=${join(pidnsDir, "/")}`;
  const rootArg = `--root=${rootDir}`;
  const out: FoundInfra[] = [];
  const names = await readdir("/proc").catch(() => [] as string[]);
  await Promise.all(
    names.map(async (n) => {
      const pid = Number(n);
      if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
      const [argv, root] = await Promise.all([
        readFile(`/proc/${pid}/cmdline`, "utf8").then((t) => t.split("\0"), () => [] as string[]),
        readlink(`/proc/${pid}/root`).catch(() => ""),
      ]);
      const pinArg = argv.find((a) => a.startsWith(pinPrefix));
      const kind = root === rootDir ? "init" : pinArg && argv.includes(rootArg) ? "monitor" : undefined;
      if (!kind) return;
      const st = await procStat(pid);
      if (!st) return;
      out.push({ pid, startTime: st.startTime, kind, ...(kind === "monitor" && pinArg ? { pin: pinArg.slice("--pid=".length) } : {}) });
    }),
  );
  return out;
}
