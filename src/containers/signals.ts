// The signal StopContainer sends first: the CRI config's stop_signal, else the image's
// StopSignal ("SIGTERM", "TERM", "15" or "RTMIN+3"), else SIGTERM, as containerd decides it.
import { constants } from "node:os";
import { invalid } from "../errors.js";
import { Signal, signalToJSON } from "../generated/runtime/v1/api.js";

export type StopSignal = NodeJS.Signals | number;

// glibc's SIGRTMIN and SIGRTMAX on Linux (the kernel's 32 and 33 are taken by the C library).
const RTMIN = 34;
const RTMAX = 64;

/** A signal from its name or number; throws on one this host does not know. */
export function parseSignal(s: string): StopSignal {
  const t = s.trim().toUpperCase().replace(/^SIG/, "");
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n >= 1 && n <= RTMAX) return n;
  } else if (`SIG${t}` in constants.signals) {
    return `SIG${t}` as NodeJS.Signals;
  } else {
    const rt = /^RT(MIN|MAX)(?:(PLUS|MINUS|\+|-)(\d+))?$/.exec(t);
    if (rt) {
      const base = rt[1] === "MIN" ? RTMIN : RTMAX;
      const off = rt[3] === undefined ? 0 : Number(rt[3]) * (rt[2] === "PLUS" || rt[2] === "+" ? 1 : -1);
      const n = base + off;
      if (n >= RTMIN && n <= RTMAX) return n;
    }
  }
  throw invalid(`stop signal ${JSON.stringify(s)} is not a signal this host knows`);
}

export function stopSignalOf(criSignal: Signal, imageStopSignal: string | undefined): StopSignal {
  if (criSignal !== Signal.RUNTIME_DEFAULT) {
    const name = signalToJSON(criSignal);
    if (name === "SIGCLD") return "SIGCHLD";
    return parseSignal(name);
  }
  if (imageStopSignal) {
    try {
      return parseSignal(imageStopSignal);
    } catch {
      return "SIGTERM";
    }
  }
  return "SIGTERM";
}
