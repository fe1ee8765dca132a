// Fuzz target: a registry's 401 answer and its token server's reply, both hostile
// (src/images/registry/challenge.ts, auth.ts): the WWW-Authenticate challenges, then the token
// fetch through a fake transport. The Authorization header made from them must be one Node can
// send, the token request must go to an http(s) realm, and refusals must be BerthErrors.
import { validateHeaderValue } from "node:http";
import { Authorizer } from "../../../src/images/registry/auth.js";
import { parseWwwAuthenticate } from "../../../src/images/registry/challenge.js";
import type { Endpoint } from "../../../src/images/registry/endpoint.js";
import type { HttpRequest, Transport } from "../../../src/images/registry/transport.js";
import { holds, parseOrRefuseAsync, split } from "../check.js";

const ENDPOINT: Endpoint = {
  url: "https://registry.example.test/v2", scheme: "https", host: "registry.example.test", repository: "library/busybox",
  capabilities: { pull: true, resolve: true, push: false }, tls: { caPems: [], skipVerify: false }, httpFallback: false,
  mirror: false, pullFrom: "all", headers: {}, source: "default",
};
const CREDS = [undefined, { username: "u", password: "p" }, { identityToken: "refresh" }] as const;

export async function fuzz(data: Buffer): Promise<void> {
  const { sel, rest } = split(data);
  // The challenge header, then (after the first NUL) the token server's body.
  const nul = rest.indexOf(0);
  const header = rest.toString("latin1", 0, nul < 0 ? rest.length : nul);
  const body = nul < 0 ? Buffer.alloc(0) : rest.subarray(nul + 1);
  const asked: HttpRequest[] = [];
  const transport = {
    request: async (req: HttpRequest) => {
      asked.push(req);
      for (const [k, v] of Object.entries(req.headers ?? {})) validateHeaderValue(k, v);
      return { status: sel & 0x10 ? 404 : 200, headers: {}, url: req.url, body: { destroy: () => undefined } };
    },
    readBody: async () => body,
  } as unknown as Transport;
  const auth = new Authorizer(transport, () => 1_700_000_000_000);
  const challenges = parseWwwAuthenticate(header);
  const creds = CREDS[sel % CREDS.length];
  const value = await parseOrRefuseAsync(() => auth.answer(ENDPOINT, challenges, "repository:library/busybox:pull", creds));
  for (const r of asked) holds(/^https?:$/.test(new URL(r.url).protocol), `token request to ${r.url}`);
  if (value === undefined) return;
  // Every later registry request carries this header: Node must accept it.
  try {
    validateHeaderValue("authorization", value);
  } catch (err) {
    holds(false, `Authorization header ${JSON.stringify(value.slice(0, 80))} cannot be sent: ${(err as Error).message}`);
  }
}
