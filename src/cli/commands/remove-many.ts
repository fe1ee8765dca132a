// The shared shape of `berth rm` and `berth rmp`: IDs or -a (not both), a running object only
// with -f, one line per removed object — crictl's rules for both, in one place.
import { UsageError } from "../output.js";

export interface RemoveMany {
  /** The subcommand, for messages ("rm", "rmp"). */
  cmd: string;
  /** What the IDs name, for messages ("container", "pod sandbox"). */
  what: string;
  ids: string[];
  all: boolean;
  force: boolean;
  listAll(): Promise<string[]>;
  running(id: string): Promise<boolean>;
  /** How to stop one first, for the refusal message ("berth stop"). */
  stopHint: string;
  remove(id: string): Promise<void>;
  /** The line printed after each removal. */
  removed(id: string): string;
}

export async function removeMany(o: RemoveMany): Promise<void> {
  let targets = o.ids;
  if (o.all) {
    if (targets.length) throw new UsageError(`berth ${o.cmd}: give IDs or -a, not both`);
    targets = await o.listAll();
  } else if (targets.length === 0) {
    throw new UsageError(`berth ${o.cmd}: expected one or more ${o.what} IDs`);
  }
  for (const id of targets) {
    if (!o.force && (await o.running(id))) throw new UsageError(`${o.what} ${id} is running; stop it first (${o.stopHint}) or use -f`);
    await o.remove(id);
    process.stdout.write(`${o.removed(id)}\n`);
  }
}
