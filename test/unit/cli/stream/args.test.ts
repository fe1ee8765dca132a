// The streaming commands' arguments: -i/-t are interactive/tty here (not the client's image
// endpoint and timeout), exec's command keeps its own flags, and port mappings as kubectl reads them.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseStreamArgs } from "../../../../src/cli/commands/streaming.js";
import { parsePortMapping } from "../../../../src/cli/stream/port-forward.js";

test("exec -it: flags before the ID are ours, the command's own flags pass through", () => {
  const a = parseStreamArgs("exec", ["-it", "--detach-keys", "ctrl-a", "abc", "ls", "-l", "-t"]);
  assert.equal(a.interactive, true);
  assert.equal(a.tty, true);
  assert.deepEqual(a.detachKeys, Buffer.from([1]));
  assert.deepEqual(a.positionals, ["abc", "ls", "-l", "-t"]);
  const b = parseStreamArgs("exec", ["-r", "unix:///s", "--timeout", "5s", "abc", "true"]);
  assert.deepEqual([b.endpoint, b.timeoutMs, b.interactive, b.tty], ["unix:///s", 5000, false, false]);
  assert.deepEqual(parseStreamArgs("exec", ["--", "abc", "sh"]).positionals, ["abc", "sh"]);
});

test("attach and port-forward flags; bad ones are usage errors", () => {
  const a = parseStreamArgs("attach", ["-i", "abc", "--detach-keys="]);
  assert.deepEqual([a.interactive, a.tty, a.detachKeys.length, a.positionals], [true, false, 0, ["abc"]]);
  const p = parseStreamArgs("port-forward", ["--address", "::1", "pod", "8080:80", ":9090"]);
  assert.deepEqual([p.address, p.positionals], ["::1", ["pod", "8080:80", ":9090"]]);
  assert.throws(() => parseStreamArgs("exec", ["--nope", "abc", "sh"]), /Unknown option '--nope'/);
  assert.throws(() => parseStreamArgs("attach", ["--detach-keys", "ctrl-1", "abc"]), /ctrl- takes a-z/);
  assert.throws(() => parseStreamArgs("exec", ["--timeout", "soon", "abc", "sh"]), /expected a duration/);
});

test("port mappings: LOCAL:REMOTE, PORT, :REMOTE and 0:REMOTE", () => {
  assert.deepEqual(parsePortMapping("8080:80"), { local: 8080, remote: 80 });
  assert.deepEqual(parsePortMapping("5432"), { local: 5432, remote: 5432 });
  assert.deepEqual(parsePortMapping(":80"), { local: 0, remote: 80 });
  assert.deepEqual(parsePortMapping("0:80"), { local: 0, remote: 80 });
  for (const bad of ["", ":", "0", "80:0", "70000:80", "80:70000", "a:b", "1:2:3"]) assert.throws(() => parsePortMapping(bad), /port mapping/, bad);
});
