// The bearer token cache: one token per (registry, scope, credentials), so a daemon pulling many
// repositories with rotating credentials must drop expired tokens instead of keeping them all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Authorizer } from "../../../../src/images/registry/auth.js";
import type { Endpoint } from "../../../../src/images/registry/endpoint.js";
import type { HttpRequest, HttpResponse, Transport } from "../../../../src/images/registry/transport.js";

test("expired bearer tokens are dropped from the cache as new ones arrive", async () => {
  let now = 1_000_000;
  let issued = 0;
  const transport = {
    request: async (_req: HttpRequest): Promise<HttpResponse> =>
      ({ status: 200, headers: {}, url: "https://auth.test/token", body: { destroy() {} } }) as unknown as HttpResponse,
    readBody: async (): Promise<Buffer> => Buffer.from(JSON.stringify({ token: `t${++issued}`, expires_in: 60 })),
  } as unknown as Transport;
  const auth = new Authorizer(transport, () => now);
  const endpoint = {
    url: "https://registry.test/v2", scheme: "https", host: "registry.test", repository: "app",
    capabilities: { pull: true, resolve: true, push: false }, tls: { caPems: [], skipVerify: false }, httpFallback: false,
  } as unknown as Endpoint;
  const challenge = [{ scheme: "bearer", params: { realm: "https://auth.test/token", service: "registry.test" } }];
  for (let i = 0; i < 1000; i++) {
    assert.equal(await auth.answer(endpoint, challenge, `repository:app${i}:pull`, { username: "u", password: `rotated-${i}` }), `Bearer t${i + 1}`);
    now += 10_000; // each token lives 60 s (less a margin): only the last few are still valid
  }
  assert.ok(auth.cachedTokens <= 70, `${auth.cachedTokens} tokens cached after 1000 pulls with expired tokens`);
  // A live token is still served from the cache.
  const live = await auth.preemptive(endpoint, "repository:app999:pull", { username: "u", password: "rotated-999" });
  assert.equal(live, "Bearer t1000");
});
