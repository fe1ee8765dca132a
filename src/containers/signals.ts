// The signal StopContainer sends first: the CRI config's stop_signal, else the image's
// StopSignal ("SIGTERM", "TERM", "15" or "RTMIN+3"), else SIGTERM, as containerd decides it;
// and the CRI Signal enum by either of its names (CRI <= 1.36 "SIGUSR1", 1.37 "SIGNAL_SIGUSR1").
import { constants } from "node:os";
import { invalid } from "../errors.js";
import { Signal, signalFromJSON, signalToJSON } from "../generated/runtime/v1/api.js";

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

/**
 * A CRI Signal from its name in either CRI spelling: the enum values were renamed with a
 * "SIGNAL_" prefix in cri-api 1.37 (same numbers). UNRECOGNIZED for anything else.
 */
export function criSignalFromName(name: string): Signal {
  const t = name.trim().toUpperCase();
  const bare = t.startsWith("SIGNAL_") ? t.slice("SIGNAL_".length) : t;
  const candidates = bare === "RUNTIME_DEFAULT" || bare.startsWith("SIG") ? [bare] : [bare, `SIG${bare}`];
  for (const c of candidates) {
    const v = signalFromJSON(c);
    if (v !== Signal.UNRECOGNIZED) return v;
  }
  return Signal.UNRECOGNIZED;
}

/** Whether a value that came off the wire is one of the enum's numbers. */
export function isKnownCriSignal(v: Signal): boolean {
  return v !== Signal.UNRECOGNIZED && typeof Signal[v] === "string";
}

/** The host signal as the CRI enum (glibc's RT signals 34..64 are the enum's SIGRTMIN..SIGRTMAX). */
function criSignalOf(sig: StopSignal): Signal {
  if (typeof sig === "string") return criSignalFromName(sig);
  if (sig >= RTMIN && sig <= RTMAX) return Signal.SIGRTMIN + (sig - RTMIN);
  const name = Object.entries(constants.signals).find(([, n]) => n === sig)?.[0];
  return name ? criSignalFromName(name) : Signal.UNRECOGNIZED;
}

/**
 * ContainerStatus.stop_signal: the effective one (KEP-4960): the config's, else the image's,
 * else SIGTERM; an image signal the enum cannot name is reported as RUNTIME_DEFAULT.
 */
export function effectiveStopSignal(criSignal: Signal, imageStopSignal: string | undefined): Signal {
  if (criSignal !== Signal.RUNTIME_DEFAULT && isKnownCriSignal(criSignal)) return criSignal;
  const v = criSignalOf(stopSignalOf(Signal.RUNTIME_DEFAULT, imageStopSignal));
  return v === Signal.UNRECOGNIZED ? Signal.RUNTIME_DEFAULT : v;
}
