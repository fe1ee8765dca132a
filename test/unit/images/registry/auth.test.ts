// The bearer token cache: one token per (registry, scope, credentials), so a daemon pulling many
// repositories with rotating credentials must drop expired tokens instead of keeping them all;
// and what a hostile registry or token server may send (realm schemes, unsendable tokens).
import { test } from "node:test";
import assert from "node:assert/strict";
import { validateHeaderValue } from "node:http";
import { BerthError, Code } from "../../../../src/errors.js";
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

// Regressions for the registry-auth fuzz target: a hostile registry or token server.
function fakeTokenServer(body: string): { transport: Transport; asked: string[] } {
  const asked: string[] = [];
  const transport = {
    request: async (req: HttpRequest): Promise<HttpResponse> => {
      asked.push(req.url);
      return { status: 200, headers: {}, url: req.url, body: { destroy() {} } } as unknown as HttpResponse;
    },
    readBody: async (): Promise<Buffer> => Buffer.from(body),
  } as unknown as Transport;
  return { transport, asked };
}
const ENDPOINT = {
  url: "https://registry.test/v2", scheme: "https", host: "registry.test", repository: "app",
  capabilities: { pull: true, resolve: true, push: false }, tls: { caPems: [], skipVerify: false }, httpFallback: false,
} as unknown as Endpoint;

test("a token realm that is not http(s) is refused as Unauthenticated, never requested", async () => {
  for (const realm of ["ftp://auth.test/token", "file:///etc/passwd", "httvs://auth.test/t"]) {
    const { transport, asked } = fakeTokenServer(JSON.stringify({ token: "t" }));
    const auth = new Authorizer(transport);
    await assert.rejects(auth.answer(ENDPOINT, [{ scheme: "bearer", params: { realm } }], "repository:app:pull", undefined), (err: unknown) => {
      assert.ok(err instanceof BerthError);
      assert.equal(err.code, Code.UNAUTHENTICATED);
      assert.match(err.message, /sent a token realm ".*" that is not an http\(s\) URL/);
      return true;
    });
    assert.deepEqual(asked, [], `${realm} was requested`);
  }
});

test("a token Node cannot send in an Authorization header is refused as Unauthenticated", async () => {
  for (const token of ["abc\u0000def", "abc\u007f", "abc.d\ufffd", "tab\there-ok"]) {
    const auth = new Authorizer(fakeTokenServer(JSON.stringify({ token })).transport);
    const answer = auth.answer(ENDPOINT, [{ scheme: "bearer", params: { realm: "https://auth.test/t" } }], "repository:app:pull", undefined);
    if (token === "tab\there-ok") {
      const header = await answer;
      validateHeaderValue("authorization", header);
      continue;
    }
    await assert.rejects(answer, (err: unknown) => {
      assert.ok(err instanceof BerthError, String(err));
      assert.equal(err.code, Code.UNAUTHENTICATED);
      assert.match(err.message, /the token server's answer has no usable token/);
      return true;
    });
  }
});
