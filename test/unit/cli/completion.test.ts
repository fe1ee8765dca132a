// The completion scripts: bash sources them and completes command names, global flags and
// command flags; zsh's script names every command; other shells are refused.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { completionScript } from "../../../src/cli/completion.js";

const FLAGS = ["--all", "--interactive", "--output", "--tty"];

function complete(words: string[]): string[] {
  const script = completionScript("bash", FLAGS);
  const arr = words.map((w) => `'${w}'`).join(" ");
  const out = execFileSync("bash", ["-c", `${script}\ncomplete -p berth\nCOMP_WORDS=(${arr}); COMP_CWORD=${words.length - 1}; _berth; printf '%s\\n' "\${COMPREPLY[@]}"`], { encoding: "utf8" });
  const [spec, ...rest] = out.trimEnd().split("\n");
  assert.equal(spec, "complete -o default -F _berth berth");
  return rest.filter((l) => l !== "");
}

test("bash: command names, after global flags too; global flags before the command; command flags after", () => {
  assert.deepEqual(complete(["berth", "ver"]), ["version"]);
  assert.deepEqual(complete(["berth", "-r", "unix:///x.sock", "insp"]).sort(), ["inspect", "inspecti", "inspectp"]);
  assert.deepEqual(complete(["berth", "--runt"]), ["--runtime-endpoint"]);
  assert.deepEqual(complete(["berth", "exec", "--in"]), ["--interactive"]);
  assert.deepEqual(complete(["berth", "completion", "z"]), ["zsh"]);
  assert.ok(complete(["berth", "ch"]).includes("checkpoint"));
});

test("zsh: a #compdef script naming the commands; other shells refused", () => {
  const z = completionScript("zsh", FLAGS);
  assert.match(z, /^#compdef berth\n/);
  assert.match(z, /'checkpoint:checkpoint running containers'/);
  assert.match(z, /compdef _berth berth/);
  assert.throws(() => completionScript("fish", FLAGS), /expected "bash" or "zsh", not "fish"/);
  assert.throws(() => completionScript(undefined, FLAGS), /expected "bash" or "zsh"/);
});
