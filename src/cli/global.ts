// crictl's global flags, typed BEFORE the command (`berth -r unix:///run/x.sock pull busybox`):
// split off here so the commands' own flags (exec -i/-t: interactive/tty) keep their meaning.
import { UsageError } from "./usage-error.js";

export interface GlobalFlags {
  runtimeEndpoint?: string;
  imageEndpoint?: string;
  timeout?: string;
  config?: string;
  /** -o before the command (Berth's extension; crictl takes -o only after it). */
  output?: string;
  debug?: boolean;
  help?: boolean;
  version?: boolean;
}

const VALUED: Record<string, "runtimeEndpoint" | "imageEndpoint" | "timeout" | "config" | "output"> = {
  "-r": "runtimeEndpoint",
  "--runtime-endpoint": "runtimeEndpoint",
  "-i": "imageEndpoint",
  "--image-endpoint": "imageEndpoint",
  "-t": "timeout",
  "--timeout": "timeout",
  "-c": "config",
  "--config": "config",
  "-o": "output",
  "--output": "output",
};

const SWITCHES: Record<string, "debug" | "help" | "version"> = {
  "-D": "debug",
  "--debug": "debug",
  "-h": "help",
  "--help": "help",
  "-v": "version",
  "--version": "version",
};

/** Takes the global flags up to the first word that is not one (the command); the rest is the command's. */
export function splitGlobal(argv: readonly string[]): { globals: GlobalFlags; cmd: string | undefined; rest: string[] } {
  const globals: GlobalFlags = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith("-")) break;
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    const valued = VALUED[name];
    if (valued !== undefined) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined || value === "") throw new UsageError(`global flag ${name} needs a value`);
      globals[valued] = value;
      continue;
    }
    const sw = SWITCHES[name];
    if (sw !== undefined && eq < 0) {
      globals[sw] = true;
      continue;
    }
    throw new UsageError(`unknown global flag "${arg}"; global flags are -r/--runtime-endpoint, -i/--image-endpoint, -t/--timeout, -c/--config, -D/--debug, -o/--output`);
  }
  return { globals, cmd: argv[i], rest: argv.slice(i + 1) };
}
