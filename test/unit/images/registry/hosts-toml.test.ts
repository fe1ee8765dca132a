// hosts.toml parsing on its own: [header] entries must be headers Node can send, or the file is
// refused naming the header. Regression for a hosts-toml fuzz target finding.
import assert from "node:assert/strict";
import { test } from "node:test";
import { BerthError, Code } from "../../../../src/errors.js";
import { parseHostsToml } from "../../../../src/images/registry/hosts-toml.js";

const PATH = "/etc/berth/certs.d/example.test/hosts.toml";

test("a [header] value or name Node cannot send is an InvalidArgument naming the file and header", () => {
  for (const [header, name] of [
    ['x-test = "a\\nb"', "x-test"],
    ['x-test = ["ok", "\\u0000"]', "x-test"],
    ['x-test = "caf\\u00e9 \\u2603"', "x-test"],
    ['"bad name" = "v"', "bad name"],
  ] as const) {
    const text = `[host."https://mirror.example.test".header]\n${header}\n`;
    assert.throws(() => parseHostsToml(text, PATH), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.ok(err.message.includes(PATH), err.message);
      assert.ok(err.message.includes(`host."https://mirror.example.test".header.${name}`), err.message);
      assert.match(err.message, /is not a valid HTTP header/);
      return true;
    });
  }
});

test("headers Node can send are kept, several values joined", () => {
  const f = parseHostsToml(`[host."https://m.example.test".header]\nx-a = ["1", "2"]\nx-b = "caf\\u00e9\\tok"\n`, PATH);
  assert.deepEqual(f.mirrors[0]?.headers, { "x-a": "1, 2", "x-b": "café\tok" });
});
