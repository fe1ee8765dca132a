// What Berth records of a running container's processes (init and its conmon, each with its
// /proc start time): shared by the runtime driver and the conmon-death sweep.
/** What the service persists per container so a restarted Berth can adopt it (JSON-safe). */
export interface ContainerProcess {
  id: string;
  bundleDir: string;
  persistDir: string;
  logPath?: string | undefined;
  /** Container init (host pid) and its /proc start time. */
  pid: number;
  pidStartTime: string;
  conmonPid: number;
  conmonStartTime: string;
  /** The runtime handler it was created with (absent: the default runc). */
  handler?: string;
}
