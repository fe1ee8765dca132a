// Registry authentication: anonymous, HTTP basic, and the bearer token flow from a
// WWW-Authenticate challenge, with tokens cached per (registry, scope, credentials) until expiry.
import { createHash } from "node:crypto";
import { BerthError, Code, invalid } from "../../errors.js";
import { logger } from "../../util/log.js";
import type { Challenge } from "./challenge.js";
import type { Endpoint } from "./endpoint.js";
import type { Transport } from "./transport.js";

const log = logger("registry-auth");
const MAX_TOKEN_RESPONSE = 1 << 20;
// Above this many cached tokens, expired ones are swept on every insert.
const MAX_LIVE_TOKENS = 64;

/** CRI AuthConfig (runtime.v1), as kubelet sends it with PullImage. */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** base64("user:password"), Docker config style. */
  auth?: string;
  serverAddress?: string;
  /** An OAuth2 refresh token (Docker's identitytoken). */
  identityToken?: string;
  /** A bearer token used as is. */
  registryToken?: string;
}

export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

const DOCKER_HUB_HOSTS = new Set(["docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"]);

function hostOf(address: string): string {
  const s = address.includes("://") ? address : `https://${address}`;
  try {
    return new URL(s).host.toLowerCase();
  } catch {
    return address.toLowerCase();
  }
}

/**
 * The credentials an AuthConfig gives for a registry domain, or undefined. A server_address naming
 * another registry makes the AuthConfig not apply (kubelet matched it to a different host).
 */
export function credentialsFor(auth: AuthConfig | undefined, domain: string): Credentials | undefined {
  if (!auth) return undefined;
  if (auth.serverAddress) {
    const a = hostOf(auth.serverAddress);
    const d = domain.toLowerCase();
    const same = a === d || (DOCKER_HUB_HOSTS.has(a) && DOCKER_HUB_HOSTS.has(d));
    if (!same) {
      log.debug({ serverAddress: auth.serverAddress, domain }, "auth config is for another registry; pulling anonymously");
      return undefined;
    }
  }
  const c: Credentials = {};
  if (auth.username) c.username = auth.username;
  if (auth.password) c.password = auth.password;
  if (auth.auth && !c.username && !c.password) {
    const text = Buffer.from(auth.auth, "base64").toString("utf8");
    const i = text.indexOf(":");
    if (i < 0) throw invalid(`auth config for ${domain}: "auth" must be base64 of "user:password"`);
    c.username = text.slice(0, i);
    c.password = text.slice(i + 1);
  }
  if (auth.identityToken) c.identityToken = auth.identityToken;
  if (auth.registryToken) c.registryToken = auth.registryToken;
  return Object.keys(c).length > 0 ? c : undefined;
}

interface CachedToken {
  header: string;
  expiresAt: number;
}

/**
 * Turns challenges into Authorization headers and remembers, per registry host, which scheme it
 * asked for so later requests (other blobs, other repositories) authorize up front.
 *
 * Token requests: a registry_token is sent as the bearer token itself; an identity_token is a
 * refresh token for the OAuth2 POST (grant_type=refresh_token), falling back to a GET with it as
 * the basic password when the realm has no POST flow (404/405/400/401, as containerd does);
 * username/password use a GET with basic credentials (docker's way); no credentials, an anonymous GET.
 */
export class Authorizer {
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly inflight = new Map<string, Promise<CachedToken>>();

  constructor(private readonly transport: Transport, private readonly now: () => number = Date.now) {}

  /** An Authorization header to send before any challenge, from what the host asked for earlier. */
  async preemptive(endpoint: Endpoint, scope: string, creds: Credentials | undefined): Promise<string | undefined> {
    const ch = this.challenges.get(endpoint.host);
    if (!ch) return creds?.registryToken ? `Bearer ${creds.registryToken}` : undefined;
    return this.forChallenge(endpoint, ch, scope, creds);
  }

  /** The header answering a 401's challenges; throws UNAUTHENTICATED when nothing can answer. */
  async answer(endpoint: Endpoint, challenges: Challenge[], scope: string, creds: Credentials | undefined): Promise<string> {
    const ch = challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (!ch) {
      throw new BerthError(Code.UNAUTHENTICATED, `registry ${endpoint.host} requires authentication with an unsupported scheme (${challenges.map((c) => c.scheme).join(", ") || "no challenge"})`);
    }
    this.challenges.set(endpoint.host, ch);
    const header = await this.forChallenge(endpoint, ch, scope, creds, true);
    if (!header) throw new BerthError(Code.UNAUTHENTICATED, `registry ${endpoint.host} requires credentials (basic auth) and none were given for it`);
    return header;
  }

  /** Forget a rejected token so the next attempt fetches a new one. */
  invalidate(endpoint: Endpoint, scope: string, creds: Credentials | undefined): void {
    this.tokens.delete(this.key(endpoint, scope, creds));
  }

  private key(endpoint: Endpoint, scope: string, creds: Credentials | undefined): string {
    const who = creds ? createHash("sha256").update(JSON.stringify(creds)).digest("hex").slice(0, 32) : "anonymous";
    return `${endpoint.host}\n${scope}\n${who}`;
  }

  private async forChallenge(endpoint: Endpoint, ch: Challenge, scope: string, creds: Credentials | undefined, fresh = false): Promise<string | undefined> {
    if (ch.scheme === "basic") {
      const user = creds?.username ?? (creds?.identityToken ? "<token>" : undefined);
      const pass = creds?.password ?? creds?.identityToken;
      if (user === undefined || pass === undefined) return undefined;
      return `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
    }
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const key = this.key(endpoint, scope, creds);
    const cached = this.tokens.get(key);
    if (cached && cached.expiresAt > this.now() && !fresh) return cached.header;
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetchToken(endpoint, ch, scope, creds).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    const token = await pending;
    this.tokens.set(key, token);
    this.pruneExpired();
    return token.header;
  }

  /** How many tokens are cached (expired ones are dropped as new ones arrive). */
  get cachedTokens(): number {
    return this.tokens.size;
  }

  // One key per (host, repository scope, credentials): rotating credentials and many repositories
  // would otherwise grow the cache for the daemon's life.
  private pruneExpired(): void {
    if (this.tokens.size <= MAX_LIVE_TOKENS) return;
    const now = this.now();
    for (const [k, t] of this.tokens) if (t.expiresAt <= now) this.tokens.delete(k);
  }

  private async fetchToken(endpoint: Endpoint, ch: Challenge, scope: string, creds: Credentials | undefined): Promise<CachedToken> {
    const realm = ch.params.realm;
    if (!realm) throw new BerthError(Code.UNAUTHENTICATED, `registry ${endpoint.host} sent a bearer challenge without a realm`);
    let realmUrl: URL;
    try {
      realmUrl = new URL(realm);
    } catch {
      throw new BerthError(Code.UNAUTHENTICATED, `registry ${endpoint.host} sent an invalid token realm "${realm}"`);
    }
    // Only HTTP(S) token servers: anything else reached the transport and came back as a
    // misleading "cannot reach" (found by the registry-auth fuzz target).
    if (realmUrl.protocol !== "https:" && realmUrl.protocol !== "http:") {
      throw new BerthError(Code.UNAUTHENTICATED, `registry ${endpoint.host} sent a token realm "${realm}" that is not an http(s) URL`);
    }
    const scopes = [...new Set([scope, ...(ch.params.scope ? ch.params.scope.split(" ") : [])])].filter(Boolean);
    const service = ch.params.service;
    // The realm may be another host: trust the endpoint's CAs, but skip verification only on the registry's own host.
    const tls = { caPems: endpoint.tls.caPems, skipVerify: endpoint.tls.skipVerify && realmUrl.host === endpoint.host };
    const what = `token for ${endpoint.host} (${scopes.join(" ")}) from ${realmUrl.host}`;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, client_id: "berth" });
      if (service) form.set("service", service);
      if (scopes.length) form.set("scope", scopes.join(" "));
      const res = await this.transport.request({
        method: "POST", url: realmUrl.toString(), tls, what,
        headers: { "content-type": "application/x-www-form-urlencoded" }, body: Buffer.from(form.toString()),
      });
      if (res.status === 200) return this.parseToken(await this.transport.readBody(res, MAX_TOKEN_RESPONSE, what), what);
      res.body.destroy();
      if (![400, 401, 404, 405].includes(res.status)) {
        throw new BerthError(Code.UNAUTHENTICATED, `${what}: the token server answered HTTP ${res.status} to the OAuth2 request`);
      }
      log.debug({ status: res.status }, "realm has no OAuth2 POST flow; using GET with the identity token");
    }
    const url = new URL(realmUrl);
    if (service) url.searchParams.set("service", service);
    for (const s of scopes) url.searchParams.append("scope", s);
    const headers: Record<string, string> = {};
    const user = creds?.username ?? (creds?.identityToken ? "<token>" : undefined);
    const pass = creds?.password ?? creds?.identityToken;
    if (user !== undefined && pass !== undefined) {
      headers.authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
      if (creds?.username) url.searchParams.set("account", creds.username);
    }
    const res = await this.transport.request({ method: "GET", url: url.toString(), tls, what, headers });
    if (res.status === 401 || res.status === 403) {
      res.body.destroy();
      throw new BerthError(Code.UNAUTHENTICATED, `${what}: the token server rejected the credentials (HTTP ${res.status})`);
    }
    if (res.status !== 200) {
      res.body.destroy();
      throw new BerthError(Code.UNAVAILABLE, `${what}: the token server answered HTTP ${res.status}`);
    }
    return this.parseToken(await this.transport.readBody(res, MAX_TOKEN_RESPONSE, what), what);
  }

  private parseToken(body: Buffer, what: string): CachedToken {
    let doc: unknown;
    try {
      doc = JSON.parse(body.toString("utf8"));
    } catch {
      throw new BerthError(Code.UNAUTHENTICATED, `${what}: the token server's answer is not JSON`);
    }
    const o = (typeof doc === "object" && doc !== null ? doc : {}) as Record<string, unknown>;
    const token = typeof o.token === "string" && o.token !== "" ? o.token : typeof o.access_token === "string" ? o.access_token : "";
    // A token goes into every request's Authorization header: only what Node can send there (no
    // control characters, nothing past U+00FF); others failed each request as "cannot reach"
    // (found by the registry-auth fuzz target).
    if (token === "" || /[^\t\x20-\x7e\x80-\xff]/.test(token)) throw new BerthError(Code.UNAUTHENTICATED, `${what}: the token server's answer has no usable token`);
    // The distribution token spec: expires_in defaults to 60 s; leave a margin for clock and transit.
    const expiresIn = typeof o.expires_in === "number" && o.expires_in > 0 ? o.expires_in : 60;
    const issuedAt = typeof o.issued_at === "string" ? Date.parse(o.issued_at) : NaN;
    const start = Number.isFinite(issuedAt) && Math.abs(issuedAt - this.now()) < 5 * 60_000 ? issuedAt : this.now();
    const margin = Math.min(10_000, expiresIn * 250);
    return { header: `Bearer ${token}`, expiresAt: start + expiresIn * 1000 - margin };
  }
}
