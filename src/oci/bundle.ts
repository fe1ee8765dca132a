// Where things live for the OCI driver: the files conmon and runc make inside a bundle, and
// the driver's own directories under Berth's state dir. One place, so nobody guesses a path.
import { join } from "node:path";

/** Files inside one container bundle (the spec generator writes config.json and rootfs). */
export interface BundleFiles {
  dir: string;
  config: string;
  rootfs: string;
  /** Container init pid, written by runc --pid-file. */
  pidFile: string;
  /** conmon monitor pid, written by conmon -P. */
  conmonPidFile: string;
  /** conmon's control fifo: "1 h w" resize, "2 0 0" reopen logs. */
  ctl: string;
  winsz: string;
  /** conmon's SOCK_SEQPACKET attach socket (dial it through AttachPaths' short link). */
  attach: string;
  /** Empty file conmon makes in its cwd (the bundle) after a cgroup OOM event. */
  oom: string;
}

export function bundleFiles(dir: string): BundleFiles {
  return {
    dir,
    config: join(dir, "config.json"),
    rootfs: join(dir, "rootfs"),
    pidFile: join(dir, "pidfile"),
    conmonPidFile: join(dir, "conmon-pidfile"),
    ctl: join(dir, "ctl"),
    winsz: join(dir, "winsz"),
    attach: join(dir, "attach"),
    oom: join(dir, "oom"),
  };
}

/** Files conmon writes into a container's persist dir (they outlive conmon and Berth). */
export interface PersistFiles {
  exit: string;
  oom: string;
}

export function persistFiles(dir: string): PersistFiles {
  return { exit: join(dir, "exit"), oom: join(dir, "oom") };
}

/** The OCI driver's directories under Berth's runtime state dir (tmpfs: gone after reboot). */
export interface OciStateDirs {
  /** runc --root: runc's own state, separate from any other runc user on the host. */
  runcRoot: string;
  /** conmon --socket-dir-path: short links <id> -> bundle so attach paths fit sun_path. */
  socketDir: string;
  /** conmon --exit-dir: one file per exited container, named by id, watched by ExitWatcher. */
  exitDir: string;
  /** Scratch for ExecSync pid files. */
  execDir: string;
}

export function ociStateDirs(stateDir: string): OciStateDirs {
  return {
    runcRoot: join(stateDir, "runc"),
    socketDir: join(stateDir, "socks"),
    exitDir: join(stateDir, "exits"),
    execDir: join(stateDir, "exec"),
  };
}

/** Where a client dials conmon's attach socket for a container. */
export function attachSocketPath(socketDir: string, id: string): string {
  return join(socketDir, id, "attach");
}
