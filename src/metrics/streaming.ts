// Live streaming sessions (exec, attach, port-forward) for berth_streaming_sessions: the
// streaming server calls sessionOpened/sessionClosed; plain counters, no prom-client needed.
export type StreamingKind = "exec" | "attach" | "port_forward";

const open: Record<StreamingKind, number> = { exec: 0, attach: 0, port_forward: 0 };

export function sessionOpened(kind: StreamingKind): void {
  open[kind]++;
}

export function sessionClosed(kind: StreamingKind): void {
  if (open[kind] > 0) open[kind]--;
}

export function openSessions(): Readonly<Record<StreamingKind, number>> {
  return open;
}
