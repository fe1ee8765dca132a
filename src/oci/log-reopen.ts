// ReopenContainerLog through conmon's control fifo: write "2 0 0" and wait until the log path
// exists again (kubelet renamed the old file away), watching the directory rather than polling.
import { constants, watch } from "node:fs";
import { access, open } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { deadlineExceeded, describe, failedPrecondition } from "../errors.js";

const REOPEN_LOGS = "2 0 0\n";

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Asks conmon (through ctlPath) to reopen logPath and resolves once the file is there. */
export async function reopenLog(id: string, ctlPath: string, logPath: string, timeoutMs = 10_000): Promise<void> {
  const dir = dirname(logPath);
  const name = basename(logPath);
  let watcher: ReturnType<typeof watch> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const appeared = new Promise<void>((resolve, reject) => {
      watcher = watch(dir, { persistent: false }, (_e, f) => {
        if (f === null || f === name) void exists(logPath).then((ok) => ok && resolve());
      });
      watcher.on("error", reject);
      timer = setTimeout(() => reject(deadlineExceeded(`reopen log of container "${id}": ${logPath} did not reappear within ${timeoutMs} ms`)), timeoutMs);
    });
    appeared.catch(() => undefined); // awaited below; this only keeps an early exit quiet
    let fh;
    try {
      // Non-blocking: with no reader (conmon gone) this fails with ENXIO instead of hanging.
      fh = await open(ctlPath, constants.O_WRONLY | constants.O_NONBLOCK);
    } catch (e) {
      throw failedPrecondition(`reopen log of container "${id}": its monitor is not running (${describe(e)})`);
    }
    try {
      await fh.write(REOPEN_LOGS);
    } finally {
      await fh.close();
    }
    if (await exists(logPath)) return;
    await appeared;
  } finally {
    clearTimeout(timer);
    watcher?.close();
  }
}
