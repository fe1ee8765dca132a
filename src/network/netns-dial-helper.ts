// The program the daemon runs inside a pod's network namespace (`nsenter --net=<pin> node
// this.js <pin>`): it dials localhost ports there and hands each connected socket to the daemon.
//
// Protocol over Node's IPC channel (the daemon is the only peer): the daemon sends
// `{ id, port }`; the helper answers `{ id, ok: true }` with the socket attached (SCM_RIGHTS),
// or `{ id, ok: false, error }`. The socket keeps its namespace after it moved, so the daemon
// copies bytes itself: no process or extra copy per connection. When the daemon goes away
// (the channel closes) the helper exits.
import { dialLocalhost } from "./localhost-dial.js";

interface DialRequest {
  id: number;
  port: number;
}

function isRequest(m: unknown): m is DialRequest {
  const r = m as Partial<DialRequest> | null;
  return typeof r === "object" && r !== null && Number.isInteger(r.id) && typeof r.port === "number";
}

const where = `inside the pod's network namespace`;

if (!process.send) {
  process.stderr.write("netns-dial-helper: must be started by the Berth daemon with an IPC channel\n");
  process.exit(2);
}
process.on("disconnect", () => process.exit(0));
process.on("message", (m: unknown) => {
  if (!isRequest(m)) return;
  dialLocalhost(m.port, { paused: true, where }).then(
    (s) => {
      // Sending a net.Socket closes our copy once it is on its way.
      process.send!({ id: m.id, ok: true }, s, {}, (err) => {
        if (err) s.destroy();
      });
    },
    (err: unknown) => process.send!({ id: m.id, ok: false, error: (err as Error).message }),
  );
});
process.send({ ready: true });
