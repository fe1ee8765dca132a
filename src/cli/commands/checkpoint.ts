// `berth checkpoint --export FILE.tar ID` (crictl's checkpoint): CheckpointContainer with the
// archive path made absolute; the daemon answers why a host cannot checkpoint.
import { resolve } from "node:path";
import type { ClientArgs } from "../args.js";
import { call, type CriClient } from "../client.js";
import { UsageError } from "../output.js";

export const CHECKPOINT_OPTIONS = { export: { type: "string", short: "e" } } as const;

/** How long the CLI waits: the daemon's default checkpoint timeout (300 s) and a margin. */
const CHECKPOINT_WAIT_MS = 320_000;

export async function checkpointCommand(c: CriClient, a: ClientArgs & { values: { export?: string | undefined } }): Promise<void> {
  const file = a.values.export;
  if (file === undefined || file === "") throw new UsageError("berth checkpoint: --export FILE.tar is required (the archive to write)");
  if (a.positionals.length !== 1) throw new UsageError("berth checkpoint: expected one container ID (each checkpoint needs its own --export archive)");
  const id = a.positionals[0]!;
  await call(c, c.runtime, c.runtime.checkpointContainer, { containerId: id, location: resolve(file), timeout: 0n }, Math.max(c.timeoutMs, CHECKPOINT_WAIT_MS));
  process.stdout.write(`${id}\n`);
}
