// Port-forward's view of pods: the PortForward RPC's checks (the pod exists and is READY, the
// ports are TCP ports) and, per upgraded connection, a dial target in the pod's network.
import type { PortForwardRequest } from "../../generated/runtime/v1/api.js";
import { failedPrecondition, invalid } from "../../errors.js";
import { isPort } from "../../network/localhost-dial.js";
import type { PodDialers } from "../../network/netns-dialer.js";
import type { PodService } from "../../pods/service.js";
import type { Pod } from "../../pods/record.js";
import type { StreamKind, StreamRequests } from "../server.js";
import { MAX_FORWARDED_PORTS } from "../websocket/channels.js";
import type { PortForwardTarget } from "./spdy.js";

/** Where the RPC stores the request and gets the URL (the streaming server). */
export interface PortForwardIssuer {
  issue<K extends StreamKind>(kind: K, request: StreamRequests[K]): string;
}

export interface PortForwardSessionTarget extends PortForwardTarget {
  /** The session ended: the pod's helper may go when no other session needs it. */
  release(): void;
}

export class PortForwardPods {
  constructor(
    private readonly pods: PodService,
    private readonly dialers: PodDialers,
    private readonly issuer: PortForwardIssuer,
  ) {
    // A stopped pod's forwarded connections and helper go before its network does.
    pods.onStop((id) => this.dialers.closePod(id));
  }

  private ready(ref: string): Pod {
    const pod = this.pods.get(ref);
    if (pod.rec.phase !== "ready") {
      throw failedPrecondition(`pod sandbox ${pod.rec.id} is not ready (${pod.rec.reason ?? pod.rec.phase}): cannot forward ports into it`);
    }
    return pod;
  }

  /** The RPC's checks: NotFound for an unknown pod, FailedPrecondition when not READY, InvalidArgument for a bad port. Returns the full pod ID. */
  validate(req: PortForwardRequest): string {
    if (!req.podSandboxId) throw invalid("PortForward: pod_sandbox_id is required");
    if (req.port.length > MAX_FORWARDED_PORTS) throw invalid(`PortForward: ${req.port.length} ports asked for; at most ${MAX_FORWARDED_PORTS} per request`);
    for (const p of req.port) {
      if (!isPort(p)) throw invalid(`PortForward: port ${p} is not a TCP port (1-65535)`);
    }
    return this.ready(req.podSandboxId).rec.id;
  }

  /** PortForward: checks, then a single-use URL for the pod's full ID and the ports. */
  url(req: PortForwardRequest): string {
    const podSandboxId = this.validate(req);
    return this.issuer.issue("portforward", { podSandboxId, port: [...req.port] });
  }

  /** At connection time (the pod may have stopped since the RPC): a dial target for one session. */
  open(podId: string): PortForwardSessionTarget {
    const pod = this.ready(podId);
    const netns = pod.rec.ns.network === "node" ? undefined : pod.rec.pins.net;
    if (pod.rec.ns.network !== "node" && !netns) throw failedPrecondition(`pod sandbox ${pod.rec.id} has no network namespace pin`);
    const lease = this.dialers.acquire(pod.rec.id, netns);
    return { podName: pod.rec.id, dial: (port) => lease.dial(port), release: () => lease.release() };
  }
}
