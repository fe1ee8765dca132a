// `berth completion bash|zsh`: a script completing command names, global flags (before the
// command) and the command flags; file names elsewhere. Pure text, so it is unit-testable.
import { UsageError } from "./output.js";

/** Commands with a one-line description each (zsh shows them). */
export const COMMAND_HELP: Record<string, string> = {
  version: "runtime name and versions",
  info: "runtime status and config",
  images: "list images",
  pull: "pull an image",
  rmi: "remove images",
  inspecti: "image status",
  imagefsinfo: "image filesystem usage",
  image: "image import/export",
  pods: "list pod sandboxes",
  runp: "run a pod sandbox",
  inspectp: "pod sandbox status",
  stopp: "stop pod sandboxes",
  rmp: "remove pod sandboxes",
  ps: "list containers",
  create: "create a container",
  start: "start containers",
  run: "run a pod and a container",
  inspect: "container status",
  logs: "container logs",
  exec: "run a command in a container",
  attach: "attach to a container",
  "port-forward": "forward local ports to a pod",
  stop: "stop containers",
  rm: "remove containers",
  stats: "container resource usage",
  statsp: "pod resource usage",
  update: "update container resources",
  events: "watch container events",
  checkpoint: "checkpoint running containers",
  config: "client config (--get/--set/--list) and daemon config (default/check)",
  completion: "print a bash or zsh completion script",
  daemon: "run the CRI daemon",
  network: "network init",
  help: "show usage",
};

export const GLOBAL_FLAGS = ["-r", "--runtime-endpoint", "-i", "--image-endpoint", "-t", "--timeout", "-c", "--config", "-D", "--debug", "-o", "--output", "-h", "--help", "-v", "--version"];
const VALUED_GLOBALS = "-r|--runtime-endpoint|-i|--image-endpoint|-t|--timeout|-c|--config|-o|--output";

function bash(flags: readonly string[]): string {
  return `# bash completion for berth (source <(berth completion bash))
_berth() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" cmd="" i
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in
      ${VALUED_GLOBALS}) ((i++)) ;;
      -*) ;;
      *) cmd="\${COMP_WORDS[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "$cur" == -* ]]; then
      COMPREPLY=($(compgen -W "${GLOBAL_FLAGS.join(" ")}" -- "$cur"))
    else
      COMPREPLY=($(compgen -W "${Object.keys(COMMAND_HELP).join(" ")}" -- "$cur"))
    fi
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "${flags.join(" ")}" -- "$cur"))
  elif [[ "$cmd" == completion ]]; then
    COMPREPLY=($(compgen -W "bash zsh" -- "$cur"))
  fi
}
complete -o default -F _berth berth
`;
}

function zsh(flags: readonly string[]): string {
  const cmds = Object.entries(COMMAND_HELP).map(([k, v]) => `    '${k}:${v.replace(/'/g, "")}'`).join("\n");
  return `#compdef berth
# zsh completion for berth (source <(berth completion zsh), or save as _berth in $fpath)
_berth() {
  local -a commands
  commands=(
${cmds}
  )
  local i cmd=""
  for ((i = 2; i < CURRENT; i++)); do
    case "\${words[i]}" in
      ${VALUED_GLOBALS}) ((i++)) ;;
      -*) ;;
      *) cmd="\${words[i]}"; break ;;
    esac
  done
  if [[ -z "$cmd" ]]; then
    if [[ "\${words[CURRENT]}" == -* ]]; then
      compadd -- ${GLOBAL_FLAGS.join(" ")}
    else
      _describe 'berth command' commands
    fi
  elif [[ "\${words[CURRENT]}" == -* ]]; then
    compadd -- ${flags.join(" ")}
  elif [[ "$cmd" == completion ]]; then
    compadd -- bash zsh
  else
    _files
  fi
}
if (( $+functions[compdef] )); then compdef _berth berth; fi
`;
}

/** The completion script for a shell; `flags`: every command flag (--long names). */
export function completionScript(shell: string | undefined, flags: readonly string[]): string {
  if (shell === "bash") return bash(flags);
  if (shell === "zsh") return zsh(flags);
  throw new UsageError(`berth completion: expected "bash" or "zsh"${shell ? `, not "${shell}"` : ""}`);
}
