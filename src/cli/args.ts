// Shared flag parsing for every `berth` subcommand (node:util parseArgs, strict), with the
// client flags crictl users know: -r/--runtime-endpoint, -o/--output, -t/--timeout.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { UsageError } from "./usage-error.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

export const CLIENT_OPTIONS = {
  "runtime-endpoint": { type: "string", short: "r" },
  "image-endpoint": { type: "string", short: "i" },
  output: { type: "string", short: "o" },
  timeout: { type: "string", short: "t" },
  config: { type: "string", short: "c" },
  help: { type: "boolean", short: "h" },
} as const satisfies Options;

export function parse<O extends Options>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** What `parse` returns for the client flags alone; commands that add none take this. */
export type ClientArgs = ReturnType<typeof parse<typeof CLIENT_OPTIONS>>;
