// The CRIU probe: a missing binary and a failing `criu check` become FailedPrecondition errors
// saying which (quoting CRIU's first error line); the answer is probed once and kept.
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Code, failedPrecondition, type BerthError } from "../../../src/errors.js";
import { CriuGate, criuFirstError, probeCriu, type CriuProbe } from "../../../src/oci/criu.js";

test("criuFirstError: the first Error line, else the first non-empty line", () => {
  const out = "Warn (criu/x.c:1): meh\nError (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\nError (criu/vdso.c:613): vdso: Failed\n";
  assert.equal(criuFirstError(out), "Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds");
  assert.equal(criuFirstError("\n  odd failure\n"), "odd failure");
  assert.equal(criuFirstError(""), "no output");
});

test("probeCriu: missing binary, failing check (quoted), passing check", async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "berth-criu-"));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const missing = await probeCriu("criu", dir);
  assert.equal(missing.ok, false);
  assert.equal((missing as { error: BerthError }).error.code, Code.FAILED_PRECONDITION);
  assert.match((missing as { error: BerthError }).error.message, /CRIU is not installed \(apt install criu\)/);

  const bad = join(dir, "criu-bad");
  await writeFile(bad, "#!/bin/sh\necho 'Error (criu/kerndat.c:1): kernel says no' >&2\necho 'Error (criu/x.c:2): second' >&2\nexit 1\n");
  await chmod(bad, 0o755);
  const failed = await probeCriu(bad);
  assert.equal(failed.ok, false);
  const e = (failed as { error: BerthError }).error;
  assert.equal(e.code, Code.FAILED_PRECONDITION);
  assert.match(e.message, /`criu check` failed: Error \(criu\/kerndat\.c:1\): kernel says no; this host's kernel .* and CRIU cannot checkpoint/);
  assert.doesNotMatch(e.message, /second/);

  const good = join(dir, "criu-good");
  await writeFile(good, "#!/bin/sh\necho 'Looks good.'\n");
  await chmod(good, 0o755);
  assert.deepEqual(await probeCriu(good), { ok: true, path: good });
});

test("CriuGate probes once, shares a probe in flight, and keeps a failure", async () => {
  let calls = 0;
  const fail: CriuProbe = { ok: false, error: failedPrecondition("no criu") };
  const gate = new CriuGate(async () => {
    calls++;
    return fail;
  });
  await Promise.all([assert.rejects(gate.require(), /no criu/), assert.rejects(gate.require(), /no criu/)]);
  await assert.rejects(gate.require(), /no criu/);
  assert.equal(calls, 1);
  const ok = new CriuGate(async () => ({ ok: true, path: "/usr/sbin/criu" }));
  assert.equal(await ok.require(), "/usr/sbin/criu");
});
