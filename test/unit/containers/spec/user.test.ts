// uid/gid/supplementary groups from run_as_*, the image's USER, /etc/passwd and /etc/group.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseGroup, parsePasswd } from "../../../../src/containers/spec/passwd.js";
import { checkRunAsGroup, resolveUser, userRequestFrom } from "../../../../src/containers/spec/user.js";
import { SupplementalGroupsPolicy } from "../../../../src/generated/runtime/v1/api.js";
import { ctr, INVALID, throwsCode } from "./fixtures.js";

const PASSWD = [
  "root:x:0:0:root:/root:/bin/sh",
  "# a comment",
  "",
  "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin",
  "app:x:1000:1000:App:/home/app:/bin/sh",
  "web:x:1001:2000::/srv:/bin/false",
  "broken:x:notanumber:1::/:/bin/sh",
  "+nisuser::::::",
  "app:x:4242:4242:duplicate, ignored:/:/bin/sh",
].join("\n");

const GROUP = [
  "root:x:0:",
  "daemon:x:1:",
  "audio:x:29:app,web",
  "app:x:1000:",
  "staff:x:50: app , other",
  "www:x:2000:",
  "docker:x:999:web",
  "bad:x:-1:app",
].join("\r\n");

test("passwd/group parsing: skips comments, NIS and broken lines; first entry wins", () => {
  const users = parsePasswd(PASSWD);
  assert.deepEqual(users.map((u) => u.name), ["root", "daemon", "app", "web", "app"]);
  assert.deepEqual(users.find((u) => u.name === "app"), { name: "app", uid: 1000, gid: 1000 });
  const groups = parseGroup(GROUP);
  assert.deepEqual(groups.find((g) => g.name === "staff"), { name: "staff", gid: 50, members: ["app", "other"] });
  assert.equal(groups.find((g) => g.name === "bad"), undefined);
});

test("no user anywhere: root with root's groups", () => {
  assert.deepEqual(resolveUser({ imageUser: "" }, PASSWD, GROUP), { uid: 0, gid: 0, additionalGids: [0], username: "root" });
  assert.deepEqual(resolveUser({ imageUser: "" }, "", ""), { uid: 0, gid: 0, additionalGids: [0] });
});

test("numeric image users: known and unknown uids, uid:gid", () => {
  assert.deepEqual(resolveUser({ imageUser: "1000" }, PASSWD, GROUP), { uid: 1000, gid: 1000, additionalGids: [1000, 29, 50], username: "app" });
  assert.deepEqual(resolveUser({ imageUser: "5000" }, PASSWD, GROUP), { uid: 5000, gid: 0, additionalGids: [0] });
  assert.deepEqual(resolveUser({ imageUser: "5000:6000" }, PASSWD, GROUP), { uid: 5000, gid: 6000, additionalGids: [6000] });
  assert.deepEqual(resolveUser({ imageUser: "1001:50" }, PASSWD, GROUP), { uid: 1001, gid: 50, additionalGids: [50, 29, 999], username: "web" });
});

test("named image users and groups", () => {
  assert.deepEqual(resolveUser({ imageUser: "web" }, PASSWD, GROUP), { uid: 1001, gid: 2000, additionalGids: [2000, 29, 999], username: "web" });
  assert.deepEqual(resolveUser({ imageUser: "app:staff" }, PASSWD, GROUP), { uid: 1000, gid: 50, additionalGids: [50, 29], username: "app" });
  assert.deepEqual(resolveUser({ imageUser: "app:7" }, PASSWD, GROUP).gid, 7);
  assert.deepEqual(resolveUser({ imageUser: "1000:audio" }, PASSWD, GROUP).gid, 29);
});

test("names that do not resolve are INVALID_ARGUMENT naming the field and value", () => {
  throwsCode(() => resolveUser({ imageUser: "ghost" }, PASSWD, GROUP), INVALID, /^image config User "ghost": no such user in the image's \/etc\/passwd$/);
  throwsCode(() => resolveUser({ imageUser: "app:nogroup" }, PASSWD, GROUP), INVALID, /image config User "app:nogroup": no such group "nogroup" in the image's \/etc\/group/);
  throwsCode(() => resolveUser({ imageUser: "app:" }, PASSWD, GROUP), INVALID, /group after ":" is empty/);
  throwsCode(
    () => resolveUser({ runAsUsername: "app2", imageUser: "" }, PASSWD, GROUP),
    INVALID,
    /^linux\.security_context\.run_as_username "app2": no such user in the image's \/etc\/passwd$/,
  );
  throwsCode(() => resolveUser({ runAsUsername: "app", imageUser: "" }, "", ""), INVALID, /run_as_username "app": no such user/);
});

test("run_as_user beats run_as_username and the image; run_as_group beats every gid", () => {
  assert.deepEqual(resolveUser({ runAsUser: 1001n, runAsUsername: "app", imageUser: "ghost" }, PASSWD, GROUP), {
    uid: 1001,
    gid: 2000,
    additionalGids: [2000, 29, 999],
    username: "web",
  });
  assert.deepEqual(resolveUser({ runAsUsername: "app", imageUser: "ghost" }, PASSWD, GROUP).uid, 1000);
  assert.deepEqual(resolveUser({ runAsUser: 0, runAsGroup: 3000n, imageUser: "app:staff" }, PASSWD, GROUP), {
    uid: 0,
    gid: 3000,
    additionalGids: [3000],
    username: "root",
  });
  assert.deepEqual(resolveUser({ runAsUsername: "app", runAsGroup: 77, imageUser: "web" }, PASSWD, GROUP), { uid: 1000, gid: 77, additionalGids: [77, 29, 50], username: "app" });
});

test("run_as_group without run_as_user or run_as_username is INVALID_ARGUMENT (CRI: the runtime MUST error)", () => {
  throwsCode(() => resolveUser({ runAsGroup: 77, imageUser: "app:staff" }, PASSWD, GROUP), INVALID, /run_as_group is set without run_as_user or run_as_username/);
  throwsCode(() => checkRunAsGroup({ runAsGroup: { value: 0n }, runAsUser: undefined, runAsUsername: "" }, 'container "c": linux.security_context'), INVALID, /^container "c": linux\.security_context\.run_as_group is set without/);
  checkRunAsGroup({ runAsGroup: { value: 5n }, runAsUser: { value: 0n }, runAsUsername: "" });
  checkRunAsGroup({ runAsGroup: { value: 5n }, runAsUser: undefined, runAsUsername: "app" });
  checkRunAsGroup({ runAsGroup: undefined, runAsUser: undefined, runAsUsername: "" });
  checkRunAsGroup(undefined);
});

test("supplemental groups: Merge adds /etc/group memberships, Strict does not; no duplicates", () => {
  const base = { runAsUser: 1000n, supplementalGroups: [5555n, 29n, 1000n] };
  assert.deepEqual(resolveUser({ ...base, imageUser: "" }, PASSWD, GROUP).additionalGids, [1000, 29, 50, 5555]);
  assert.deepEqual(
    resolveUser({ ...base, supplementalGroupsPolicy: SupplementalGroupsPolicy.Merge, imageUser: "" }, PASSWD, GROUP).additionalGids,
    [1000, 29, 50, 5555],
  );
  assert.deepEqual(
    resolveUser({ ...base, supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict, imageUser: "" }, PASSWD, GROUP).additionalGids,
    [1000, 5555, 29],
  );
  throwsCode(
    () => resolveUser({ imageUser: "", supplementalGroupsPolicy: SupplementalGroupsPolicy.UNRECOGNIZED }, PASSWD, GROUP),
    INVALID,
    /supplemental_groups_policy/,
  );
});

test("ids out of range are refused, never wrapped (CVE-2024-40635)", () => {
  throwsCode(() => resolveUser({ runAsUser: 4294967296n, imageUser: "" }, PASSWD, GROUP), INVALID, /run_as_user 4294967296 is out of range/);
  throwsCode(() => resolveUser({ runAsUser: -1n, imageUser: "" }, PASSWD, GROUP), INVALID, /run_as_user -1/);
  throwsCode(() => resolveUser({ runAsUser: 0, runAsGroup: 4294967295n, imageUser: "" }, PASSWD, GROUP), INVALID, /run_as_group 4294967295/);
  throwsCode(() => resolveUser({ imageUser: "99999999999" }, PASSWD, GROUP), INVALID, /image config User "99999999999"/);
  throwsCode(() => resolveUser({ imageUser: "", supplementalGroups: [1n, -5n] }, PASSWD, GROUP), INVALID, /supplemental_groups\[1\] -5/);
  assert.equal(resolveUser({ runAsUser: 2147483648n, imageUser: "" }, "", "").uid, 2147483648);
});

test("oversized account files are refused", () => {
  throwsCode(() => resolveUser({ imageUser: "" }, "x".repeat((4 << 20) + 1), ""), INVALID, /larger than/);
});

test("userRequestFrom reads the CRI security context and the image USER", () => {
  const req = userRequestFrom(
    ctr({
      linux: {
        securityContext: {
          runAsUser: { value: 1000n },
          runAsGroup: { value: 50n },
          supplementalGroups: [7n],
          supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict,
        },
      },
    }),
    { User: "web" },
  );
  assert.deepEqual(req, { runAsUser: 1000n, runAsGroup: 50n, supplementalGroups: [7n], supplementalGroupsPolicy: SupplementalGroupsPolicy.Strict, imageUser: "web" });
  assert.deepEqual(userRequestFrom(ctr(), {}), { supplementalGroups: [], supplementalGroupsPolicy: SupplementalGroupsPolicy.Merge, imageUser: "" });
  const named = userRequestFrom(ctr({ linux: { securityContext: { runAsUsername: "app" } } }), {});
  assert.equal(named.runAsUsername, "app");
  assert.equal(named.runAsUser, undefined);
});
