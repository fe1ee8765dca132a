// `berth` as a crictl-style client (and its config, completion and network-init helpers): loaded
// only for those commands, so the daemon process never holds the client code or its YAML library.
import { loadConfig } from "../config/config.js";
import { defaultConfigToml } from "../config/default-file.js";
import { CLIENT_OPTIONS, parse } from "./args.js";
import { connectCri, type CriClient } from "./client.js";
import { parseFormat, UsageError, useTemplate } from "./output.js";
import type { GlobalFlags } from "./global.js";
import { clientConfigCommand, DEFAULT_CLIENT_CONFIG, readClientConfig } from "./client-config.js";
import { resolveEndpoints, timeoutMs as parseTimeout, DEFAULT_TIMEOUT_MS } from "./endpoint.js";
import { renderTemplate, parseTemplate } from "./template.js";
import { completionScript } from "./completion.js";
import { checkpointCommand, CHECKPOINT_OPTIONS } from "./commands/checkpoint.js";
import { infoCommand, versionCommand } from "./commands/runtime.js";
import { networkInitCommand } from "./commands/network.js";
import { inspectpCommand, podsCommand, POD_OPTIONS, rmpCommand, runpCommand, stoppCommand } from "./commands/pods.js";
import * as ctr from "./commands/containers.js";
import { logsCommand } from "./commands/container-logs.js";
import { eventsCommand } from "./commands/events.js";
import { statspCommand, STATS_OPTIONS, watching } from "./commands/stats.js";
import { IMAGE_COMMANDS, IMAGE_OPTIONS, IMAGE_USAGE } from "./commands/images.js";
import { parseStreamArgs, runStreamCommand, STREAM_COMMANDS, STREAM_USAGE, type StreamCommand } from "./commands/streaming.js";
import { setLogLevel, logger } from "../util/log.js";
import { BERTH_VERSION } from "../version.js";

const USAGE = `berth ${BERTH_VERSION}: a CRI runtime for Kubernetes

Daemon:
  berth daemon [--config FILE] [--root DIR] [--state DIR] [--socket PATH] [--log-level LEVEL]
  berth config default          print the default config file, with every key explained
  berth config check [--config FILE]   validate a config file
  berth network init [--config FILE]   write the default CNI network (bridge, 10.88.0.0/16) if the conf dir has none
  berth config --get KEY | --set KEY=VALUE[,...] | --list   crictl's client config file (/etc/crictl.yaml)
  berth completion bash|zsh     print a shell completion script

Client (talks to a running daemon):
  berth [GLOBAL FLAGS] COMMAND [FLAGS]   global flags, before the command, as crictl's:
    -r/--runtime-endpoint E  -i/--image-endpoint E  -t/--timeout 10s  -c/--config crictl.yaml  -D/--debug
    -o/--output FORMAT (Berth also takes the command's -o before the command)
    (env: BERTH_RUNTIME_ENDPOINT, CONTAINER_RUNTIME_ENDPOINT, IMAGE_SERVICE_ENDPOINT, CRI_CONFIG_FILE)
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
  berth checkpoint --export FILE.tar ID   checkpoint a running container with CRIU (left running)
  berth update [--memory 64m] [--cpu-quota N] [--cpu-period N] [--cpu-share N] [--cpuset-cpus L] [--cpuset-mems L] ID...
${STREAM_USAGE}
${IMAGE_USAGE}
Client flags: -r ENDPOINT  -o table|json|yaml  -t TIMEOUT (e.g. 10s)
  inspect, inspectp, inspecti, info, version, imagefsinfo: -o go-template --template '{{.status.id}}'
  (Berth's go-template: {{.a.b}}, {{.}}, {{range .x}}...{{end}}, {{json .x}}, {{"text"}}, {{- -}})
`;

const OPTIONS = { ...CLIENT_OPTIONS, ...POD_OPTIONS, ...IMAGE_OPTIONS, ...ctr.CONTAINER_OPTIONS, ...STATS_OPTIONS, ...CHECKPOINT_OPTIONS, template: { type: "string" } } as const;
/** The commands where crictl has `-o go-template`. */
const TEMPLATE_COMMANDS = new Set(["inspect", "inspectp", "inspecti", "info", "version", "imagefsinfo"]);
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
  checkpoint: checkpointCommand,
};

function configCommand(args: string[], globals: GlobalFlags): number {
  const { values, positionals } = parse(args, {
    config: { type: "string", short: "c" },
    get: { type: "string" },
    set: { type: "string", multiple: true },
    list: { type: "boolean" },
  });
  if (values.get !== undefined || values.set !== undefined || values.list) {
    process.stdout.write(clientConfigCommand(clientConfigFile(globals), values));
    return 0;
  }
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
      throw new UsageError(`berth config: expected --get KEY, --set KEY=VALUE, --list (client config), or "default" / "check" (daemon config)`);
  }
}

function clientConfigFile(globals: GlobalFlags): string {
  return globals.config ?? process.env["CRI_CONFIG_FILE"] ?? DEFAULT_CLIENT_CONFIG;
}

/** Endpoints and timeout from (in order) the command's flags, the global flags, the environment, crictl.yaml, Berth's config. */
function clientTarget(globals: GlobalFlags, cmdFlags: { endpoint?: string | undefined; image?: string | undefined; timeout?: string | undefined; config?: string | undefined }) {
  const file = readClientConfig(clientConfigFile(globals));
  if (globals.debug || file.debug === true) setLogLevel("debug");
  const ends = resolveEndpoints({
    flag: cmdFlags.endpoint,
    globalFlag: globals.runtimeEndpoint,
    imageFlag: cmdFlags.image,
    globalImageFlag: globals.imageEndpoint,
    env: process.env,
    file,
    daemonSocket: () => {
      try {
        return loadConfig(cmdFlags.config !== undefined ? { file: cmdFlags.config } : {}).socket;
      } catch {
        return "/run/berth/berth.sock";
      }
    },
  });
  const ms = parseTimeout(cmdFlags.timeout) ?? parseTimeout(globals.timeout) ?? parseTimeout(typeof file.timeout === "boolean" ? String(file.timeout) : file.timeout, "crictl.yaml timeout") ?? DEFAULT_TIMEOUT_MS;
  logger("cli").debug({ runtime: ends.runtime, image: ends.image, timeoutMs: ms }, "client target");
  return { ...ends, timeoutMs: ms };
}

/** Every command but `berth daemon`: help, version, config, completion, network init and the CRI client commands. */
export async function runCli(globals: GlobalFlags, cmd: string | undefined, rest: string[]): Promise<number> {
  if (globals.version && cmd === undefined) {
    process.stdout.write(`berth ${BERTH_VERSION}\n`);
    return 0;
  }
  if (cmd === undefined || cmd === "help" || globals.help) {
    process.stdout.write(USAGE);
    return cmd === undefined && !globals.help ? 2 : 0;
  }
  if (cmd === "config") return configCommand(rest, globals);
  if (cmd === "completion") {
    const flags = [...new Set([...Object.keys(OPTIONS), "interactive", "tty", "detach-keys", "address"].map((k) => `--${k}`))].sort();
    process.stdout.write(completionScript(rest[0], flags));
    return 0;
  }
  if (cmd === "network" && rest[0] === "init") {
    const { values } = parse(rest.slice(1), { config: { type: "string", short: "c" } });
    await networkInitCommand(loadConfig(values.config !== undefined ? { file: values.config } : {}));
    return 0;
  }
  if (STREAM_COMMANDS.includes(cmd)) {
    if (globals.output !== undefined) throw new UsageError(`berth ${cmd} takes no -o/--output`);
    const a = parseStreamArgs(cmd as StreamCommand, rest);
    if (a.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    const explicitTimeout = rest.some((r) => r === "--timeout" || r.startsWith("--timeout="));
    const t = clientTarget(globals, { endpoint: a.endpoint, config: a.config, timeout: explicitTimeout ? `${a.timeoutMs}ms` : undefined });
    const client = connectCri(t.runtime, t.timeoutMs, t.image);
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
  parsed.values.output ??= globals.output;
  if (parsed.values.output === "go-template") {
    if (!TEMPLATE_COMMANDS.has(cmd)) throw new UsageError(`berth ${cmd}: -o go-template is not supported here (it is for ${[...TEMPLATE_COMMANDS].join(", ")})`);
    const tmpl = parsed.values.template;
    if (tmpl === undefined) throw new UsageError("-o go-template needs --template TEMPLATE");
    parseTemplate(tmpl); // a bad template fails before any call
    useTemplate((doc) => renderTemplate(tmpl, doc));
    parsed.values.output = "json";
  } else if (parsed.values.template !== undefined) {
    throw new UsageError("--template is used with -o go-template");
  }
  // `stop -t N` is the stop grace period in seconds (crictl's meaning), not the call deadline.
  const t = clientTarget(globals, {
    endpoint: parsed.values["runtime-endpoint"],
    image: parsed.values["image-endpoint"],
    timeout: cmd === "stop" ? undefined : parsed.values.timeout,
    config: parsed.values.config,
  });
  const client = connectCri(t.runtime, t.timeoutMs, t.image);
  try {
    await handler(client, parsed);
  } finally {
    client.close();
  }
  return 0;
}
