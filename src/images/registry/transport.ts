// HTTP(S) for registry traffic: keep-alive agents per TLS trust, system CAs plus per-registry CAs,
// redirects (Authorization dropped across hosts), bounded retries with backoff, stall timeouts.
import type { IncomingHttpHeaders, IncomingMessage } from "node:http";
import { http } from "../../util/node-http.js";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { getCACertificates } from "node:tls";
import { createHash } from "node:crypto";
import { BerthError, Code, deadlineExceeded, describe } from "../../errors.js";
import { logger } from "../../util/log.js";
import type { TlsSettings } from "./endpoint.js";
import { GuardedBody } from "./guarded-body.js";

const { Agent: HttpAgent, request: httpRequest } = http;

const log = logger("registry");

export interface TransportOptions {
  /** Extra attempts after the first for transient failures (connect errors, 5xx, 429). Default 3. */
  retries?: number;
  /** First backoff delay; doubles per attempt, with jitter. Default 200 ms. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** No bytes (headers or body) for this long → DEADLINE_EXCEEDED. Default 30 s. */
  stallTimeoutMs?: number;
  maxRedirects?: number;
  /**
   * A capped document (manifest, config, token, error body) must arrive whole within this
   * long, so a registry dripping a byte just inside the stall timeout cannot hold a pull
   * forever (kubelet sets no deadline on PullImage). Default 120 s.
   */
  documentDeadlineMs?: number;
}

export interface HttpRequest {
  method: "GET" | "HEAD" | "POST";
  url: string;
  headers?: Record<string, string>;
  body?: Buffer;
  tls: TlsSettings;
  /** registries.conf insecure: if the TLS handshake fails at the protocol level, use plain http. */
  httpFallback?: boolean;
  /** Names the object in errors, e.g. `blob sha256:… of docker.io/library/busybox`. */
  what: string;
  /** Do not retry connection-refused style errors (another endpoint is waiting). */
  fastFail?: boolean;
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The URL that answered (after redirects). */
  url: string;
  /** The body, guarded by the stall timeout. Always consume or destroy it. */
  body: GuardedBody;
}

const TRANSIENT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH", "ECONNABORTED", "ENETDOWN"]);
const FAST_FAIL_CODES = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const TLS_PROTOCOL_CODES = new Set(["EPROTO", "ERR_SSL_WRONG_VERSION_NUMBER", "ERR_SSL_PACKET_LENGTH_TOO_LONG", "ERR_SSL_HTTP_REQUEST"]);
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
// Not sent on to another origin after a redirect (as Go's http client does).
const CROSS_HOST_DROPPED = new Set(["authorization", "proxy-authorization", "cookie", "cookie2", "www-authenticate"]);

let systemCAs: string[] | undefined;
/** Node's bundled roots plus the operating system's store, computed once. */
function trustedRoots(): string[] {
  systemCAs ??= [...new Set([...getCACertificates("default"), ...getCACertificates("system")])];
  return systemCAs;
}

// The abort listener goes when the delay ends: a pull's one signal sees every retry of every request.
const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    const onAbort = (): void => { clearTimeout(t); reject(signal?.reason); };
    const t = setTimeout(() => { signal?.removeEventListener("abort", onAbort); resolve(); }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

const errCode = (err: unknown): string | undefined => (err as { code?: unknown }).code as string | undefined;

export class Transport {
  private readonly httpsAgents = new Map<string, HttpsAgent>();
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 32 });
  /** Hosts that answered plain http after an insecure https attempt failed. */
  private readonly plainHttpHosts = new Set<string>();
  readonly retries: number;
  readonly stallTimeoutMs: number;
  readonly documentDeadlineMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly maxRedirects: number;

  constructor(opts: TransportOptions = {}) {
    this.retries = opts.retries ?? 3;
    this.backoffMs = opts.backoffMs ?? 200;
    this.maxBackoffMs = opts.maxBackoffMs ?? 5000;
    this.stallTimeoutMs = opts.stallTimeoutMs ?? 30_000;
    this.maxRedirects = opts.maxRedirects ?? 5;
    this.documentDeadlineMs = opts.documentDeadlineMs ?? 120_000;
  }

  private httpsAgent(tls: TlsSettings): HttpsAgent {
    const key = createHash("sha256")
      .update(JSON.stringify([tls.caPems, tls.skipVerify, tls.clientCert?.certPem ?? "", tls.clientCert?.keyPem ?? ""]))
      .digest("hex");
    let agent = this.httpsAgents.get(key);
    if (!agent) {
      agent = new HttpsAgent({
        keepAlive: true, maxSockets: 32,
        ca: [...trustedRoots(), ...tls.caPems],
        rejectUnauthorized: !tls.skipVerify,
        ...(tls.clientCert ? { cert: tls.clientCert.certPem, key: tls.clientCert.keyPem } : {}),
      });
      this.httpsAgents.set(key, agent);
    }
    return agent;
  }

  /**
   * Sends a request, following redirects and retrying transient failures. A final 5xx/429 is
   * returned as a response; network failures throw UNAVAILABLE, stalls DEADLINE_EXCEEDED.
   */
  async request(req: HttpRequest): Promise<HttpResponse> {
    let attempt = 0;
    for (;;) {
      let res: HttpResponse | undefined;
      let failure: unknown;
      try {
        res = await this.followRedirects(req);
      } catch (err) {
        failure = err;
      }
      const retryable = res
        ? res.status >= 500 || res.status === 429
        : this.isTransient(failure) && !(req.fastFail && FAST_FAIL_CODES.has(errCode(failure) ?? ""));
      if (!retryable || attempt >= this.retries || req.method === "POST" || req.signal?.aborted) {
        if (res) return res;
        throw this.wrap(failure, req);
      }
      let delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** attempt) * (0.75 + Math.random() * 0.5);
      if (res) {
        const after = Number(res.headers["retry-after"]);
        if (Number.isFinite(after) && after > 0) delay = Math.min(this.maxBackoffMs, after * 1000);
        res.body.destroy();
      }
      log.debug({ what: req.what, attempt, status: res?.status, err: failure ? describe(failure) : undefined }, "retrying registry request");
      attempt++;
      await sleep(delay, req.signal);
    }
  }

  private isTransient(err: unknown): boolean {
    if (err instanceof BerthError) return err.code === Code.DEADLINE_EXCEEDED;
    return TRANSIENT_CODES.has(errCode(err) ?? "");
  }

  private wrap(err: unknown, req: HttpRequest): Error {
    if (err instanceof BerthError) return err;
    if (req.signal?.aborted) return new BerthError(Code.CANCELLED, `${req.what}: cancelled`, { cause: err });
    const code = errCode(err);
    const host = new URL(req.url).host;
    if (code && /CERT|UNABLE_TO|SELF_SIGNED|^ERR_TLS/.test(code)) {
      // Node's own text suggests --use-system-ca; Berth already trusts the system store.
      return new BerthError(Code.UNAVAILABLE,
        `${req.what}: TLS verification of ${host} failed (${code}); add the registry's CA to its hosts.toml \`ca\` (or certs.d/<host>/*.crt), or set skip_verify`,
        { cause: err });
    }
    return new BerthError(Code.UNAVAILABLE, `${req.what}: cannot reach ${host}: ${describe(err)}${code ? ` (${code})` : ""}`, { cause: err });
  }

  private async followRedirects(req: HttpRequest): Promise<HttpResponse> {
    let url = new URL(req.url);
    if (url.protocol === "https:" && req.httpFallback && this.plainHttpHosts.has(url.host)) url.protocol = "http:";
    const origin = url.origin;
    let headers = { ...req.headers };
    let tls = req.tls;
    for (let hop = 0; ; hop++) {
      let res: HttpResponse;
      try {
        res = await this.once(req, url, headers, tls);
      } catch (err) {
        if (url.protocol === "https:" && req.httpFallback && TLS_PROTOCOL_CODES.has(errCode(err) ?? "")) {
          log.info({ host: url.host }, "insecure registry does not speak TLS; using plain http");
          this.plainHttpHosts.add(url.host);
          url = new URL(url);
          url.protocol = "http:";
          res = await this.once(req, url, headers, tls);
        } else throw err;
      }
      if (!REDIRECTS.has(res.status) || req.method === "POST") return res;
      const location = res.headers.location;
      res.body.destroy();
      if (typeof location !== "string" || hop >= this.maxRedirects) {
        throw new BerthError(Code.UNAVAILABLE, `${req.what}: ${hop >= this.maxRedirects ? "too many redirects" : "redirect without Location"} from ${url.host}`);
      }
      url = new URL(location, url);
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        throw new BerthError(Code.UNAVAILABLE, `${req.what}: redirect to unsupported URL scheme ${url.protocol}`);
      }
      if (url.origin !== origin) {
        // Credentials are for the registry only; a blob store elsewhere gets none, and no skip-verify.
        // Header names are case-insensitive (hosts.toml may say "Authorization").
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => !CROSS_HOST_DROPPED.has(k.toLowerCase())));
        tls = { caPems: req.tls.caPems, skipVerify: false };
      }
    }
  }

  private once(req: HttpRequest, url: URL, headers: Record<string, string>, tls: TlsSettings): Promise<HttpResponse> {
    return new Promise((resolve, reject) => {
      const https = url.protocol === "https:";
      const options = {
        method: req.method,
        headers: { "user-agent": "berth", ...headers, ...(req.body ? { "content-length": String(req.body.length) } : {}) },
        agent: https ? this.httpsAgent(tls) : this.httpAgent,
        ...(req.signal ? { signal: req.signal } : {}),
      };
      const r = (https ? httpsRequest : httpRequest)(url, options, (res: IncomingMessage) => {
        clearTimeout(timer);
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          url: url.toString(),
          body: new GuardedBody(res, this.stallTimeoutMs, req.what),
        });
      });
      const timer = setTimeout(() => {
        r.destroy(deadlineExceeded(`${req.what}: ${url.host} sent no response for ${this.stallTimeoutMs} ms`));
      }, this.stallTimeoutMs);
      r.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      r.end(req.body);
    });
  }

  /** Reads a whole body, refusing more than `cap` bytes. */
  async readBody(res: HttpResponse, cap: number, what: string): Promise<Buffer> {
    const declared = Number(res.headers["content-length"]);
    if (Number.isFinite(declared) && declared > cap) {
      res.body.destroy();
      throw new BerthError(Code.INVALID_ARGUMENT, `${what} is ${declared} bytes; at most ${cap} are accepted`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    const seconds = Math.round(this.documentDeadlineMs / 1000);
    const timer = setTimeout(
      () => res.body.destroy(new BerthError(Code.DEADLINE_EXCEEDED, `${what} did not arrive within ${seconds} s (${total} bytes so far); the registry is sending too slowly (registry.document_deadline)`)),
      this.documentDeadlineMs,
    );
    try {
      for await (const chunk of res.body) {
        total += (chunk as Buffer).length;
        if (total > cap) {
          res.body.destroy();
          throw new BerthError(Code.INVALID_ARGUMENT, `${what} is larger than ${cap} bytes; refusing it`);
        }
        chunks.push(chunk as Buffer);
      }
    } finally {
      clearTimeout(timer);
    }
    return Buffer.concat(chunks);
  }

  close(): void {
    for (const a of this.httpsAgents.values()) a.destroy();
    this.httpsAgents.clear();
    this.httpAgent.destroy();
  }
}
