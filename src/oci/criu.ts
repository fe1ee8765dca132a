// CRIU as CheckpointContainer needs it: the binary found and `criu check` passing, probed once
// per daemon at first use (cached), so a host that cannot checkpoint answers at once, saying why.
import { spawn } from "node:child_process";
import { release } from "node:os";
import { failedPrecondition, type BerthError } from "../errors.js";
import { which } from "../util/which.js";

const MAX_OUTPUT = 64 * 1024;
const CHECK_TIMEOUT_MS = 30_000;

export type CriuProbe = { ok: true; path: string } | { ok: false; error: BerthError };

/** The first line of CRIU's output that says what failed (an "Error (...)" line, else the first non-empty one). */
export function criuFirstError(output: string): string {
  const lines = output.split("\n").map((l) => l.trim()).filter((l) => l !== "");
  return lines.find((l) => /^Error\b/.test(l)) ?? lines[0] ?? "no output";
}

function runCheck(path: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(path, ["check"], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    const take = (d: Buffer) => {
      if (output.length < MAX_OUTPUT) output += d.toString("utf8");
    };
    child.stdout.on("data", take);
    child.stderr.on("data", take);
    const timer = setTimeout(() => child.kill("SIGKILL"), CHECK_TIMEOUT_MS);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ code: 127, output: e.message });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, output });
    });
  });
}

/** Probes CRIU: missing binary or a failing `criu check` becomes a FailedPrecondition naming the cause. */
export async function probeCriu(name = "criu", path = process.env["PATH"] ?? ""): Promise<CriuProbe> {
  const bin = name.startsWith("/") ? name : which(name, path);
  if (!bin) return { ok: false, error: failedPrecondition("CheckpointContainer: CRIU is not installed (apt install criu)") };
  const r = await runCheck(bin);
  if (r.code === 0) return { ok: true, path: bin };
  const first = criuFirstError(r.output);
  return {
    ok: false,
    error: failedPrecondition(
      `CheckpointContainer: \`criu check\` failed: ${first}; this host's kernel (${process.platform} ${kernelRelease()}) and CRIU cannot checkpoint containers (a newer CRIU may support this kernel)`,
    ),
  };
}

function kernelRelease(): string {
  return release();
}

/** Caches the first probe (a probe in flight is shared). */
export class CriuGate {
  #probe: Promise<CriuProbe> | undefined;
  constructor(private readonly probe: () => Promise<CriuProbe> = () => probeCriu()) {}

  /** The CRIU binary's path; throws the cached FailedPrecondition when this host cannot checkpoint. */
  async require(): Promise<string> {
    this.#probe ??= this.probe();
    const p = await this.#probe;
    if (!p.ok) throw p.error;
    return p.path;
  }
}
