// AppArmor profile choice: default, unconfined, Localhost, privileged, host without AppArmor.
import assert from "node:assert/strict";
import { test } from "node:test";
import { apparmorProfile, type AppArmorInput } from "../../../../src/containers/spec/apparmor.js";
import { SecurityProfile, SecurityProfile_ProfileType as T } from "../../../../src/generated/runtime/v1/api.js";
import { INVALID, throwsCode } from "./fixtures.js";

const prof = (profileType: T, localhostRef = "") => SecurityProfile.fromPartial({ profileType, localhostRef });
const aa = (over: Partial<AppArmorInput> = {}) => apparmorProfile({ profile: undefined, deprecated: "", privileged: false, available: true, defaultName: "berth-default", ...over });

test("with AppArmor: runtime/default (also when unset) is Berth's profile", () => {
  assert.equal(aa(), "berth-default");
  assert.equal(aa({ profile: prof(T.RuntimeDefault) }), "berth-default");
  assert.equal(aa({ deprecated: "runtime/default" }), "berth-default");
  assert.equal(aa({ profile: prof(T.Unconfined) }), "unconfined");
  assert.equal(aa({ deprecated: "unconfined" }), "unconfined");
  assert.equal(aa({ profile: prof(T.Localhost, "k8s-apparmor-example") }), "k8s-apparmor-example");
  assert.equal(aa({ deprecated: "localhost/my-profile" }), "my-profile");
});

test("privileged runs unconfined unless it names a Localhost profile", () => {
  assert.equal(aa({ privileged: true }), "unconfined");
  assert.equal(aa({ privileged: true, profile: prof(T.Localhost, "mine") }), "mine");
});

test("without AppArmor: nothing, except a Localhost request, which is an error", () => {
  assert.equal(aa({ available: false }), undefined);
  assert.equal(aa({ available: false, profile: prof(T.Unconfined) }), undefined);
  throwsCode(() => aa({ available: false, profile: prof(T.Localhost, "mine") }), INVALID, /"mine" was asked for but AppArmor is not enabled/);
  throwsCode(() => aa({ profile: prof(T.Localhost, "two words") }), INVALID, /must be one word/);
  throwsCode(() => aa({ deprecated: "docker-default" }), INVALID, /apparmor_profile "docker-default"/);
});
