// One endpoint's requests for one pull: builds the /v2/<repo>/… URL, adds the Authorization the
// host asked for, answers a 401 challenge once, and turns error statuses into BerthErrors.
import { BerthError, Code } from "../../errors.js";
import type { Authorizer, Credentials } from "./auth.js";
import { parseWwwAuthenticate } from "./challenge.js";
import type { Endpoint } from "./endpoint.js";
import type { HttpResponse, Transport } from "./transport.js";

const STATUS_CODES: Record<number, Code> = {
  400: Code.INVALID_ARGUMENT, 401: Code.UNAUTHENTICATED, 403: Code.PERMISSION_DENIED, 404: Code.NOT_FOUND,
  429: Code.RESOURCE_EXHAUSTED,
};

export class EndpointSession {
  readonly scope: string;

  constructor(
    private readonly transport: Transport,
    private readonly authorizer: Authorizer,
    readonly endpoint: Endpoint,
    private readonly creds: Credentials | undefined,
    private readonly signal?: AbortSignal,
  ) {
    this.scope = `repository:${endpoint.repository}:pull`;
  }

  /** GET/HEAD `<endpoint>/<repository>/<path>` with auth; `headers` are extra request headers. */
  async send(method: "GET" | "HEAD", path: string, headers: Record<string, string>, what: string, fastFail: boolean): Promise<HttpResponse> {
    const url = `${this.endpoint.url}/${this.endpoint.repository}/${path}`;
    const base = { ...this.endpoint.headers, ...headers };
    const go = (authorization: string | undefined): Promise<HttpResponse> =>
      this.transport.request({
        method, url, what, fastFail, tls: this.endpoint.tls, httpFallback: this.endpoint.httpFallback,
        headers: authorization ? { ...base, authorization } : base,
        ...(this.signal ? { signal: this.signal } : {}),
      });
    const first = await this.authorizer.preemptive(this.endpoint, this.scope, this.creds);
    const res = await go(first);
    if (res.status !== 401) return res;
    const challenges = parseWwwAuthenticate(res.headers["www-authenticate"]);
    res.body.destroy();
    if (first) this.authorizer.invalidate(this.endpoint, this.scope, this.creds);
    const answer = await this.authorizer.answer(this.endpoint, challenges, this.scope, this.creds);
    return go(answer);
  }
}

/** Strips control characters and bounds a registry-supplied text before it goes into a message. */
function clean(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, " ").slice(0, 200);
}

/** A BerthError for a non-success status, with the registry's own error message when it sent one. */
export async function statusError(res: HttpResponse, what: string, transport: Transport): Promise<BerthError> {
  let detail = "";
  try {
    const body = await transport.readBody(res, 64 * 1024, what);
    const doc = JSON.parse(body.toString("utf8")) as { errors?: { code?: unknown; message?: unknown }[] };
    const e = doc.errors?.[0];
    if (e) detail = `: ${clean(String(e.code ?? ""))} ${clean(String(e.message ?? ""))}`.trimEnd();
  } catch {
    res.body.destroy();
  }
  const code = STATUS_CODES[res.status] ?? (res.status >= 500 ? Code.UNAVAILABLE : Code.UNKNOWN);
  const hint = res.status === 401
    ? " (the credentials were refused or do not grant pull access)"
    : res.status === 404 ? " (not found)" : "";
  return new BerthError(code, `${what}: HTTP ${res.status}${detail}${hint}`);
}
