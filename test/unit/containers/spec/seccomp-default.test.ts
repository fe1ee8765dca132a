// The built-in RuntimeDefault profile: what it allows and blocks, per capability and architecture.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES } from "../../../../src/containers/spec/capabilities.js";
import type { OciSeccomp } from "../../../../src/containers/spec/oci-types.js";
import { DEFAULT_SECCOMP } from "../../../../src/containers/spec/seccomp-default.js";
import { compileProfile, parseProfile } from "../../../../src/containers/spec/seccomp-profile.js";

/** Syscalls allowed with no argument condition. */
function allowed(p: OciSeccomp): Set<string> {
  return new Set((p.syscalls ?? []).filter((s) => s.action === "SCMP_ACT_ALLOW" && !s.args).flatMap((s) => s.names));
}

const x64 = (caps: readonly string[] = DEFAULT_CAPABILITIES) => compileProfile(DEFAULT_SECCOMP, { arch: "x64", caps });

test("default action is EPERM and the x86_64 profile covers the 32-bit ABIs", () => {
  const p = x64();
  assert.equal(p.defaultAction, "SCMP_ACT_ERRNO");
  assert.equal(p.defaultErrnoRet, 1);
  assert.deepEqual(p.architectures, ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"]);
  assert.deepEqual(compileProfile(DEFAULT_SECCOMP, { arch: "arm64", caps: DEFAULT_CAPABILITIES }).architectures, ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]);
});

test("ordinary programs' syscalls are allowed", () => {
  const a = allowed(x64());
  for (const s of ["read", "write", "openat", "execve", "mmap", "futex", "clock_gettime", "epoll_wait", "accept4", "pipe2", "exit_group", "setuid", "chroot", "statx", "rseq"]) {
    assert.ok(a.has(s), `${s} should be allowed`);
  }
});

test("dangerous syscalls are absent from the allow list with the default capabilities", () => {
  const a = allowed(x64());
  const all = new Set((x64().syscalls ?? []).filter((s) => s.action === "SCMP_ACT_ALLOW").flatMap((s) => s.names));
  for (const s of [
    "reboot", "mount", "umount2", "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
    "bpf", "unshare", "setns", "keyctl", "add_key", "request_key", "pivot_root", "swapon", "open_by_handle_at",
    "name_to_handle_at", "userfaultfd", "perf_event_open", "io_uring_setup", "acct", "settimeofday", "clock_settime",
    "syslog", "iopl", "ioperm", "lookup_dcookie", "fsopen", "move_mount", "open_tree", "quotactl", "vhangup", "mbind",
  ]) {
    assert.ok(!all.has(s), `${s} must not be allowed`);
  }
  assert.ok(!a.has("clone") && !a.has("socket") && !a.has("personality"), "clone, socket and personality are allowed only with argument conditions");
});

test("clone: only without namespace flags; clone3 answers ENOSYS so libc falls back", () => {
  const p = x64();
  const clone = p.syscalls?.find((s) => s.names.includes("clone"));
  assert.deepEqual(clone?.args, [{ index: 0, value: 0x7e020000, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }]);
  const clone3 = p.syscalls?.find((s) => s.names.includes("clone3"));
  assert.equal(clone3?.action, "SCMP_ACT_ERRNO");
  assert.equal(clone3?.errnoRet, 38);
  const socket = p.syscalls?.find((s) => s.names.includes("socket"));
  assert.deepEqual(socket?.args, [{ index: 0, value: 40, op: "SCMP_CMP_NE" }]);
});

test("capabilities open their syscalls: SYS_ADMIN mounts and clones freely, SYS_BOOT reboots", () => {
  const admin = x64([...DEFAULT_CAPABILITIES, "CAP_SYS_ADMIN"]);
  const a = allowed(admin);
  for (const s of ["mount", "umount2", "unshare", "setns", "clone", "clone3", "bpf"]) assert.ok(a.has(s), `${s} with CAP_SYS_ADMIN`);
  assert.ok(!admin.syscalls?.some((s) => s.names.includes("clone3") && s.action === "SCMP_ACT_ERRNO"), "no ENOSYS rule for clone3 with CAP_SYS_ADMIN");
  assert.ok(!admin.syscalls?.some((s) => s.names.includes("clone") && s.args), "no restricted clone rule with CAP_SYS_ADMIN");
  assert.ok(!a.has("reboot"));
  assert.ok(allowed(x64([...DEFAULT_CAPABILITIES, "CAP_SYS_BOOT"])).has("reboot"));
  assert.ok(!allowed(x64(DEFAULT_CAPABILITIES.filter((c) => c !== "CAP_SYS_CHROOT"))).has("chroot"), "dropping SYS_CHROOT blocks chroot");
  const everything = allowed(x64(ALL_CAPABILITIES));
  for (const s of ["kexec_load", "keyctl", "userfaultfd"]) assert.ok(!everything.has(s), `${s} stays blocked even with all capabilities`);
});

test("architecture-specific rules follow the arch", () => {
  assert.ok(allowed(x64()).has("arch_prctl"));
  assert.ok(!allowed(x64()).has("set_tls"));
  const arm = allowed(compileProfile(DEFAULT_SECCOMP, { arch: "arm64", caps: DEFAULT_CAPABILITIES }));
  assert.ok(arm.has("set_tls") && !arm.has("arch_prctl"));
});

test("the built-in profile passes the Localhost shape checks and has no duplicate names", () => {
  const reparsed = parseProfile(JSON.stringify(DEFAULT_SECCOMP), "built-in");
  assert.deepEqual(compileProfile(reparsed, { arch: "x64", caps: DEFAULT_CAPABILITIES }), x64());
  const names = DEFAULT_SECCOMP.syscalls[0]?.names ?? [];
  assert.equal(new Set(names).size, names.length);
  assert.ok(names.every((n) => /^_?[a-z0-9_]+$/.test(n)));
});
