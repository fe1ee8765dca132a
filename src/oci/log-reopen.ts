// ReopenContainerLog through conmon's control fifo: write "2 0 0" and wait until the log path
// exists again (kubelet renamed the old file away), watching the directory rather than polling.
import { constants, watch } from "node:fs";
import { access, chmod, open } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { deadlineExceeded, describe, failedPrecondition } from "../errors.js";

const REOPEN_LOGS = "2 0 0\n";
/**
 * containerd's mode for CRI logs: log shippers in the root group read them, others cannot.
 * conmon (2.1.6) creates a missing log 0600 and appends to an existing one, keeping its mode.
 */
export const LOG_FILE_MODE = 0o640;

/** Creates the CRI log before conmon opens it (appending), so it has LOG_FILE_MODE. */
export async function makeLogFile(path: string): Promise<void> {
  const fh = await open(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, LOG_FILE_MODE);
  try {
    await fh.chmod(LOG_FILE_MODE);
  } finally {
    await fh.close();
  }
}

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
    if (!(await exists(logPath))) await appeared;
    // conmon made the new file 0600; give it the same mode as the first one.
    await chmod(logPath, LOG_FILE_MODE);
  } finally {
    clearTimeout(timer);
    watcher?.close();
  }
}
