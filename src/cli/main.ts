// The `berth` client commands (and `config`, `network init`): dispatch, usage and flags. main.ts
// loads this only for a client command, so the daemon never holds the CLI's code or its parsers.
import { loadConfig, parseDuration } from "../config/config.js";
import { defaultConfigToml } from "../config/default-file.js";
import { CLIENT_OPTIONS, parse } from "./args.js";
import { connectCri, type CriClient } from "./client.js";
import { parseFormat, UsageError } from "./output.js";
import { infoCommand, versionCommand } from "./commands/runtime.js";
import { networkInitCommand } from "./commands/network.js";
import { inspectpCommand, podsCommand, POD_OPTIONS, rmpCommand, runpCommand, stoppCommand } from "./commands/pods.js";
import * as ctr from "./commands/containers.js";
import { logsCommand } from "./commands/container-logs.js";
import { eventsCommand } from "./commands/events.js";
import { statspCommand, STATS_OPTIONS, watching } from "./commands/stats.js";
import { IMAGE_COMMANDS, IMAGE_OPTIONS, IMAGE_USAGE } from "./commands/images.js";
import { parseStreamArgs, runStreamCommand, STREAM_COMMANDS, STREAM_USAGE, type StreamCommand } from "./commands/streaming.js";
import { BERTH_VERSION } from "../version.js";

const USAGE = `berth ${BERTH_VERSION}: a CRI runtime for Kubernetes

Daemon:
  berth daemon [--config FILE] [--root DIR] [--state DIR] [--socket PATH] [--log-level LEVEL]
  berth config default          print the default config file, with every key explained
  berth config check [--config FILE]   validate a config file
  berth network init [--config FILE]   write the default CNI network (bridge, 10.88.0.0/16) if the conf dir has none

Client (talks to a running daemon; -r/--runtime-endpoint, env BERTH_RUNTIME_ENDPOINT):
  berth version                 runtime name and versions
  berth info                    runtime status, conditions and effective config
  berth runp [--runtime H] POD.json|yaml   create a pod sandbox (crictl's pod config format)
  berth pods [--id ID] [--name RE] [--namespace RE] [--state ready|notready] [--label k=v]... [-q] [--no-trunc] [-l | -n N]
  berth inspectp ID...          pod status and verbose info (JSON)
  berth stopp ID...             stop pod sandboxes
  berth rmp [-f] ID... | -a     remove pod sandboxes (-f: also ready ones)
  berth create [--no-pull] POD_ID CONTAINER.json POD.json   create a container in a pod (pulls the image if missing)
  berth start ID...             start created containers
  berth run [--runtime H] [--no-pull] CONTAINER.json POD.json   pod + container, started (like crictl run)
  berth ps [-a] [-q] [--pod ID] [--state S] [--label k=v]... [--name RE] [--id ID] [--no-trunc] [-l | -n N]
  berth inspect ID...           container status and verbose info (JSON)
  berth logs [-f] [--tail N] [--since T] [--timestamps] ID   the container's CRI log, split into stdout and stderr
  berth stop [-t SECONDS] ID... stop containers (stop signal, then SIGKILL after the grace period; default 10)
  berth rm [-f] ID... | -a      remove containers (-f: also running ones)
  berth stats [-a] [--id ID] [--pod ID] [--label k=v] [-w [--seconds N]]   CPU, memory and writable-layer usage (-w: refresh until Ctrl-C)
  berth statsp [--id ID] [--label k=v] [-w [--seconds N]]   CPU, memory and network per pod sandbox
  berth events [-o table|json] [--no-trunc]   watch container and pod sandbox events live (Ctrl-C ends)
  berth update [--memory 64m] [--cpu-quota N] [--cpu-period N] [--cpu-share N] [--cpuset-cpus L] [--cpuset-mems L] ID...
${STREAM_USAGE}
${IMAGE_USAGE}
Client flags: -r ENDPOINT  -o table|json|yaml  -t TIMEOUT (e.g. 10s)
`;

const OPTIONS = { ...CLIENT_OPTIONS, ...POD_OPTIONS, ...IMAGE_OPTIONS, ...ctr.CONTAINER_OPTIONS, ...STATS_OPTIONS } as const;
type ClientCommand = (c: CriClient, args: ReturnType<typeof parse<typeof OPTIONS>>) => Promise<void>;

const CLIENT_COMMANDS: Record<string, ClientCommand> = {
  version: (c, a) => versionCommand(c, parseFormat(a.values.output)),
  info: (c, a) => infoCommand(c, parseFormat(a.values.output, ["json", "yaml", "table"])),
  runp: runpCommand,
  pods: podsCommand,
  inspectp: inspectpCommand,
  stopp: stoppCommand,
  rmp: rmpCommand,
  ...IMAGE_COMMANDS,
  create: ctr.createCommand,
  start: ctr.startCommand,
  run: ctr.runCommand,
  ps: ctr.psCommand,
  inspect: ctr.inspectCommand,
  logs: logsCommand,
  stop: ctr.stopCommand,
  rm: ctr.rmCommand,
  stats: watching(ctr.statsCommand),
  statsp: watching(statspCommand),
  update: ctr.updateCommand,
  events: eventsCommand,
};

function configCommand(args: string[]): number {
  const { values, positionals } = parse(args, { config: { type: "string", short: "c" } });
  switch (positionals[0]) {
    case "default":
      process.stdout.write(defaultConfigToml());
      return 0;
    case "check": {
      const c = loadConfig(values.config !== undefined ? { file: values.config } : {});
      process.stdout.write(`${c.source.fileFound ? c.source.file : `${c.source.file} (not found: defaults)`}: ok\n`);
      return 0;
    }
    default:
      throw new UsageError(`berth config: expected "default" or "check"`);
  }
}

function clientEndpoint(explicit: string | undefined, configFile: string | undefined): string {
  if (explicit) return explicit;
  const env = process.env["BERTH_RUNTIME_ENDPOINT"] ?? process.env["CONTAINER_RUNTIME_ENDPOINT"];
  if (env) return env;
  try {
    return loadConfig(configFile !== undefined ? { file: configFile } : {}).socket;
  } catch {
    return "/run/berth/berth.sock";
  }
}

/** Runs every `berth` subcommand but `daemon` (main.ts runs that without loading any CLI code). */
export async function runCli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    process.stdout.write(USAGE);
    return cmd === undefined ? 2 : 0;
  }
  if (cmd === "--version" || cmd === "-v") {
    process.stdout.write(`berth ${BERTH_VERSION}\n`);
    return 0;
  }
  if (cmd === "config") return configCommand(rest);
  if (cmd === "network" && rest[0] === "init") {
    const { values } = parse(rest.slice(1), { config: { type: "string", short: "c" } });
    await networkInitCommand(loadConfig(values.config !== undefined ? { file: values.config } : {}));
    return 0;
  }
  if (STREAM_COMMANDS.includes(cmd)) {
    const a = parseStreamArgs(cmd as StreamCommand, rest);
    if (a.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const client = connectCri(clientEndpoint(a.endpoint, a.config), a.timeoutMs);
    try {
      return await runStreamCommand(cmd as StreamCommand, client, a);
    } finally {
      client.close();
    }
  }
  const handler = CLIENT_COMMANDS[cmd];
  if (!handler) throw new UsageError(`unknown command "${cmd}"; run \`berth help\``);
  const parsed = parse(rest, OPTIONS);
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  // `stop -t N` is the stop grace period in seconds (crictl's meaning), not the call deadline.
  const rawTimeout = cmd === "stop" ? undefined : parsed.values.timeout;
  const timeoutMs = rawTimeout !== undefined ? (/^\d+$/.test(rawTimeout) ? Number(rawTimeout) * 1000 : parseDuration(rawTimeout)) : 10_000;
  if (timeoutMs === undefined) throw new UsageError(`--timeout "${parsed.values.timeout}": expected a duration such as 10s`);
  const client = connectCri(clientEndpoint(parsed.values["runtime-endpoint"], parsed.values.config), timeoutMs);
  try {
    await handler(client, parsed);
  } finally {
    client.close();
  }
  return 0;
}

