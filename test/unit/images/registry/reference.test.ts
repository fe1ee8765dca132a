// Reference parsing and normalisation against the docker/containerd rules, and the formatters:
// pure logic, no registry needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { BerthError, Code } from "../../../../src/errors.js";
import {
  familiarName, formatDigested, formatReference, formatTagged, parseReference, validateDigest, withName,
} from "../../../../src/images/registry/reference.js";

const D = `sha256:${"a".repeat(64)}`;

test("short names normalise to docker.io/library with tag latest", () => {
  const r = parseReference("busybox");
  assert.deepEqual(r, { domain: "docker.io", path: "library/busybox", name: "docker.io/library/busybox", tag: "latest", shortName: true });
  assert.equal(formatReference(parseReference("user/app")), "docker.io/user/app:latest");
  assert.equal(formatReference(parseReference("index.docker.io/busybox:1.36")), "docker.io/library/busybox:1.36");
  assert.equal(formatReference(parseReference("docker.io/busybox")), "docker.io/library/busybox:latest");
  assert.equal(parseReference("docker.io/busybox").shortName, false);
});

test("domain detection: '.', ':', localhost, or upper case in the first component", () => {
  assert.equal(parseReference("quay.io/x/y").domain, "quay.io");
  assert.equal(parseReference("127.0.0.1:5000/x").domain, "127.0.0.1:5000");
  assert.equal(parseReference("localhost/x").domain, "localhost");
  assert.equal(parseReference("localhost:5000/x:1").tag, "1");
  assert.equal(parseReference("registry/x").domain, "docker.io"); // no dot, no port: a Hub user
  assert.equal(parseReference("registry/x").path, "registry/x");
  assert.equal(parseReference("Registry/x").domain, "Registry");
  assert.equal(parseReference("[::1]:5000/x").domain, "[::1]:5000");
  assert.equal(parseReference("localhost").name, "docker.io/library/localhost");
});

test("tags and digests", () => {
  const t = parseReference("example.com/a/b:v1.2_x-y");
  assert.equal(t.tag, "v1.2_x-y");
  assert.equal(t.digest, undefined);
  const d = parseReference(`example.com/a@${D}`);
  assert.equal(d.digest, D);
  assert.equal(d.tag, undefined, "a digest alone gets no default tag");
  const both = parseReference(`busybox:1.36@${D}`);
  assert.equal(both.tag, "1.36");
  assert.equal(both.digest, D);
  assert.equal(formatReference(both), `docker.io/library/busybox:1.36@${D}`);
  assert.equal(formatTagged(both), "docker.io/library/busybox:1.36");
  assert.equal(formatDigested(both, D), `docker.io/library/busybox@${D}`);
  assert.equal(formatDigested("x.io/y", D), `x.io/y@${D}`);
  assert.equal(parseReference(`x.io/y@sha512:${"b".repeat(128)}`).digest, `sha512:${"b".repeat(128)}`);
});

test("port and tag are told apart", () => {
  const r = parseReference("host:5000/ns/app");
  assert.equal(r.domain, "host:5000");
  assert.equal(r.tag, "latest");
  assert.equal(parseReference("host:5000/ns/app:5000").tag, "5000");
});

const invalidCases: Array<[string, RegExp]> = [
  ["", /empty/],
  ["Busybox", /must be lowercase/],
  ["docker.io/Library/busybox", /must be lowercase/],
  ["busybox:", /tag "" is invalid/],
  ["busybox:-x", /tag "-x" is invalid/],
  [`busybox:${"a".repeat(129)}`, /tag/],
  ["busybox@sha256:abc", /not a digest/],
  [`busybox@sha256:${"A".repeat(64)}`, /lowercase hex/],
  [`busybox@md5:${"a".repeat(32)}`, /unsupported digest algorithm/],
  [`busybox@sha256:${"a".repeat(63)}`, /not a digest|64 lowercase hex/],
  ["a".repeat(64), /image ID/],
  ["ex ample/x", /white space/],
  ["example.com/a//b", /path component "" is invalid/],
  ["example.com/a_-b", /path component/],
  ["example.com/-a", /path component/],
  ["exa_mple.com/a", /registry host/],
  [`example.com/${"a".repeat(250)}`, /longer than 255/],
  [":tag", /repository name is empty/],
];

for (const [input, re] of invalidCases) {
  test(`rejects ${JSON.stringify(input.slice(0, 40))} with INVALID_ARGUMENT`, () => {
    assert.throws(() => parseReference(input), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, Code.INVALID_ARGUMENT);
      assert.match(err.message, re);
      return true;
    });
  });
}

test("path separators: '.', '_', '__', runs of '-'", () => {
  for (const ok of ["a.b", "a_b", "a__b", "a---b", "a1/b2.c3"]) assert.equal(parseReference(`x.io/${ok}`).path, ok);
  for (const bad of ["a...b", "a___b", "a.", "_a"]) assert.throws(() => parseReference(`x.io/${bad}`), /path component/);
});

test("validateDigest and familiarName", () => {
  validateDigest(D);
  assert.throws(() => validateDigest("sha256:xyz"), BerthError);
  assert.equal(familiarName(parseReference("busybox")), "busybox");
  assert.equal(familiarName(parseReference("user/app")), "user/app");
  assert.equal(familiarName(parseReference("quay.io/a/b")), "quay.io/a/b");
});

test("withName keeps tag and digest and refuses names with a tag", () => {
  const r = withName(parseReference(`busybox:1@${D}`), "quay.io/mirror/busybox");
  assert.equal(formatReference(r), `quay.io/mirror/busybox:1@${D}`);
  assert.equal(r.shortName, false);
  assert.throws(() => withName(parseReference("busybox"), "quay.io/x:1"), /without tag or digest/);
});
