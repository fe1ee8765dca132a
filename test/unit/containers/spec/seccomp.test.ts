// Seccomp choice (RuntimeDefault, Localhost, Unconfined, deprecated paths, privileged) and
// Localhost profile checks and Docker-format compilation.
import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_CAPABILITIES } from "../../../../src/containers/spec/capabilities.js";
import { buildSeccomp, type SeccompInput } from "../../../../src/containers/spec/seccomp.js";
import { DEFAULT_SECCOMP } from "../../../../src/containers/spec/seccomp-default.js";
import { SecurityProfile, SecurityProfile_ProfileType } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

const FILES: Record<string, string> = {
  "/profiles/oci.json": JSON.stringify({
    defaultAction: "SCMP_ACT_LOG",
    architectures: ["SCMP_ARCH_X86_64"],
    flags: ["SECCOMP_FILTER_FLAG_LOG"],
    syscalls: [{ names: ["reboot"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
  }),
  "/profiles/docker.json": JSON.stringify({
    defaultAction: "SCMP_ACT_ERRNO",
    archMap: [{ architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86"] }],
    syscalls: [
      { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
      { names: ["mount"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_SYS_ADMIN"] } },
      { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64"] } },
      { names: ["set_tls"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm64"] } },
      { names: ["kill"], action: "SCMP_ACT_ALLOW", excludes: { caps: ["CAP_KILL"] } },
      { names: ["newer"], action: "SCMP_ACT_ALLOW", includes: { minKernel: "99.0" } },
      { name: "legacy", action: "SCMP_ACT_ALLOW" },
    ],
  }),
};

function seccomp(over: Partial<SeccompInput> = {}) {
  return buildSeccomp({
    profile: undefined,
    deprecatedPath: "",
    privileged: false,
    caps: DEFAULT_CAPABILITIES,
    whenUnset: "unconfined",
    defaultProfile: DEFAULT_SECCOMP,
    readProfile: (p) => {
      const f = FILES[p];
      if (f === undefined) throw new Error(`ENOENT: no such file or directory, open '${p}'`);
      return f;
    },
    arch: "x64",
    ...over,
  });
}

const prof = (profileType: SecurityProfile_ProfileType, localhostRef = "") => SecurityProfile.fromPartial({ profileType, localhostRef });
const names = (p: ReturnType<typeof seccomp>) => (p?.syscalls ?? []).flatMap((s) => s.names);

test("RuntimeDefault gives the built-in profile; Unconfined and privileged give none", () => {
  const d = seccomp({ profile: prof(SecurityProfile_ProfileType.RuntimeDefault) });
  assert.equal(d?.defaultAction, "SCMP_ACT_ERRNO");
  assert.ok(names(d).includes("read") && !names(d).includes("reboot"));
  assert.equal(seccomp({ profile: prof(SecurityProfile_ProfileType.Unconfined) }), undefined);
  assert.equal(seccomp({ profile: prof(SecurityProfile_ProfileType.RuntimeDefault), privileged: true }), undefined);
});

test("unset follows the configured choice; deprecated seccomp_profile_path forms still work", () => {
  assert.equal(seccomp(), undefined);
  assert.equal(seccomp({ whenUnset: "runtime-default" })?.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(seccomp({ deprecatedPath: "runtime/default" })?.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(seccomp({ deprecatedPath: "docker/default" })?.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(seccomp({ deprecatedPath: "unconfined", whenUnset: "runtime-default" }), undefined);
  assert.equal(seccomp({ deprecatedPath: "localhost//profiles/oci.json" })?.defaultAction, "SCMP_ACT_LOG");
  throwsCode(() => seccomp({ deprecatedPath: "strict" }), INVALID, /seccomp_profile_path "strict"/);
  throwsCode(() => seccomp({ profile: prof(SecurityProfile_ProfileType.UNRECOGNIZED) }), INVALID, /profile_type/);
});

test("Localhost OCI profile is passed through", () => {
  const p = seccomp({ profile: prof(SecurityProfile_ProfileType.Localhost, "/profiles/oci.json") });
  assert.deepEqual(p, {
    defaultAction: "SCMP_ACT_LOG",
    architectures: ["SCMP_ARCH_X86_64"],
    flags: ["SECCOMP_FILTER_FLAG_LOG"],
    syscalls: [{ names: ["reboot"], action: "SCMP_ACT_ERRNO", errnoRet: 1 }],
  });
});

test("Localhost Docker-format profile: archMap and includes/excludes are resolved, not ignored", () => {
  const p = seccomp({ profile: prof(SecurityProfile_ProfileType.Localhost, "/profiles/docker.json"), kernelVersion: "6.1.0" });
  assert.deepEqual(p?.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"]);
  assert.deepEqual(names(p), ["read", "write", "arch_prctl", "legacy"]);
  const admin = seccomp({ profile: prof(SecurityProfile_ProfileType.Localhost, "/profiles/docker.json"), caps: ["CAP_SYS_ADMIN"] });
  assert.deepEqual(names(admin), ["read", "write", "mount", "arch_prctl", "kill", "newer", "legacy"]); // unknown kernel keeps minKernel rules
});

test("Localhost errors name the profile and what is wrong", () => {
  const local = (ref: string, text?: string) =>
    seccomp({ profile: prof(SecurityProfile_ProfileType.Localhost, ref), ...(text !== undefined ? { readProfile: () => text } : {}) });
  throwsCode(() => local("/profiles/missing.json"), INVALID, /seccomp localhost "\/profiles\/missing\.json": cannot read the profile: ENOENT/);
  throwsCode(() => local("relative.json"), INVALID, /must be absolute/);
  throwsCode(() => local("/p", "{not json"), INVALID, /"\/p": the profile is not valid JSON/);
  throwsCode(() => local("/p", "[]"), INVALID, /must be a JSON object/);
  throwsCode(() => local("/p", "{}"), INVALID, /defaultAction undefined is not a seccomp action/);
  throwsCode(() => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_MAYBE" })), INVALID, /defaultAction "SCMP_ACT_MAYBE"/);
  throwsCode(() => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_Z80"] })), INVALID, /architectures\[0\]/);
  throwsCode(() => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", flags: ["SECCOMP_FILTER_FLAG_NEW"] })), INVALID, /flags\[0\]/);
  throwsCode(() => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: [], action: "SCMP_ACT_ALLOW" }] })), INVALID, /syscalls\[0\]\.names is empty/);
  throwsCode(() => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["x"], action: "ALLOW" }] })), INVALID, /syscalls\[0\]\.action "ALLOW"/);
  throwsCode(
    () => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", syscalls: [{ names: ["x"], action: "SCMP_ACT_ALLOW", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] }] })),
    INVALID,
    /args\[0\]\.index 6/,
  );
  throwsCode(
    () => local("/p", `{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["x"],"action":"SCMP_ACT_ALLOW","args":[{"index":0,"value":18446744073709551615,"op":"SCMP_CMP_EQ"}]}]}`),
    INVALID,
    /args\[0\]\.value .*cannot be carried exactly/,
  );
  throwsCode(
    () => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_ERRNO", architectures: ["SCMP_ARCH_X86_64"], archMap: [{ architecture: "SCMP_ARCH_X86_64" }] })),
    INVALID,
    /both architectures and archMap/,
  );
  throwsCode(() => local("/p", JSON.stringify({ defaultAction: "SCMP_ACT_NOTIFY" })), INVALID, /no listenerPath/);
  throwsCode(() => local("/p", " ".repeat((1 << 20) + 1)), INVALID, /larger than/);
});
