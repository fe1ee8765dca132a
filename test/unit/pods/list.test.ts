// ListPodSandbox's ID filter: a prefix names one pod first, as containerd resolves it; a prefix
// two pods share lists nothing, never both.
import assert from "node:assert/strict";
import { test } from "node:test";
import { PodSandboxFilter } from "../../../src/generated/runtime/v1/api.js";
import { PodContext, type PodDeps } from "../../../src/pods/context.js";
import { listPods } from "../../../src/pods/list.js";
import { podFromRecord } from "../../../src/pods/record.js";
import { POD_A, POD_B, POD_C, pod } from "./records-kit.js";

test("ListPodSandbox: an ID prefix two pods share lists nothing", () => {
  const ctx = new PodContext({} as PodDeps);
  for (const [i, id] of [POD_A, POD_B, POD_C].entries()) ctx.pods.set(id, podFromRecord(pod(id, String(i + 1))));
  const listed = (id: string) => listPods(ctx, PodSandboxFilter.fromPartial({ id })).map((p) => p.id.slice(0, 3));
  assert.deepEqual(listed("ab"), []);
  assert.deepEqual(listed("ab1"), ["ab1"]);
  assert.deepEqual(listed(""), ["ab1", "ab2", "c00"]);
});
