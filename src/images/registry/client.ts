// The registry pull client: resolves references to verified manifests and streams blobs (with
// Range resume), trying mirrors then the upstream in order, with auth answered per endpoint.
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import { BerthError, Code, invalid } from "../../errors.js";
import { logger } from "../../util/log.js";
import { Authorizer, credentialsFor, type AuthConfig } from "./auth.js";
import { canServeManifest, type Endpoint } from "./endpoint.js";
import { RegistryHosts } from "./hosts.js";
import { parseManifest, type ImageManifest, type Manifest } from "./manifest.js";
import { MANIFEST_ACCEPT, MAX_MANIFEST_BYTES } from "./media-types.js";
import { selectManifest, type Platform } from "./platform.js";
import { formatReference, parseReference, validateDigest, type Reference } from "./reference.js";
import { EndpointSession, statusError } from "./session.js";
import { Transport, type TransportOptions } from "./transport.js";

const log = logger("registry");

export interface RegistryClientOptions extends TransportOptions {
  hosts?: RegistryHosts;
}

export interface CallOptions {
  /** CRI AuthConfig for the image's registry (sent to the upstream only, never to mirrors). */
  auth?: AuthConfig;
  signal?: AbortSignal;
}

export interface Resolved {
  /** Canonical repository name (after aliases), e.g. "docker.io/library/busybox". */
  name: string;
  ref: Reference;
  /** Digest of `bytes`, computed here (never taken from the server). */
  digest: string;
  mediaType: string;
  bytes: Buffer;
  manifest: Manifest;
  endpoint: Endpoint;
}

export interface ResolvedImage {
  /** What the reference named: an index or a manifest. Its digest is the RepoDigest. */
  top: Resolved;
  /** The image manifest for the platform (top itself when top is a manifest). */
  image: Resolved & { manifest: ImageManifest };
}

export interface BlobFetch {
  stream: Readable;
  /** Full size of the blob, when the server said. */
  size?: number;
  /** Where the stream starts in the blob: the requested offset, or 0 if the server ignored Range. */
  offset: number;
  endpoint: Endpoint;
}

const formatMs = (ms: number): string => (ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`);

export function digestOf(bytes: Buffer, algorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest("hex")}`;
}

export class RegistryClient {
  readonly transport: Transport;
  readonly hosts: RegistryHosts;
  private readonly authorizer: Authorizer;

  constructor(opts: RegistryClientOptions = {}) {
    this.transport = new Transport(opts);
    this.hosts = opts.hosts ?? new RegistryHosts();
    this.authorizer = new Authorizer(this.transport);
  }

  close(): void {
    this.transport.close();
  }

  /** GETs the manifest or index a reference names; verifies a pinned digest; caps its size at 4 MiB. */
  async resolve(input: string | Reference, opts: CallOptions = {}): Promise<Resolved> {
    const ref = typeof input === "string" ? parseReference(input) : input;
    const byDigest = ref.digest !== undefined;
    const object = ref.digest ?? ref.tag ?? "latest";
    return this.overEndpoints(ref, (e) => canServeManifest(e, byDigest), `manifest ${formatReference(ref)}`, opts,
      async (s, plannedRef, fastFail) => {
        const what = `manifest ${formatReference(plannedRef)} at ${s.endpoint.host}`;
        const res = await s.send("GET", `manifests/${object}`, { accept: MANIFEST_ACCEPT }, what, fastFail);
        if (res.status !== 200) throw await statusError(res, what, this.transport);
        const bytes = await this.transport.readBody(res, MAX_MANIFEST_BYTES, what);
        const algorithm = ref.digest ? ref.digest.slice(0, ref.digest.indexOf(":")) : "sha256";
        const digest = digestOf(bytes, algorithm);
        if (ref.digest && digest !== ref.digest) {
          throw new BerthError(Code.DATA_LOSS, `${what}: content has digest ${digest}, not the requested ${ref.digest}; refusing it`);
        }
        const header = res.headers["docker-content-digest"];
        if (!ref.digest && typeof header === "string" && header.startsWith("sha256:") && header !== digest) {
          throw new BerthError(Code.DATA_LOSS, `${what}: content has digest ${digest} but the registry says ${header}; refusing it`);
        }
        const contentType = typeof res.headers["content-type"] === "string" ? res.headers["content-type"] : undefined;
        const manifest = parseManifest(bytes, contentType, what);
        return { name: plannedRef.name, ref: plannedRef, digest, mediaType: manifest.mediaType, bytes, manifest, endpoint: s.endpoint };
      });
  }

  /** A manifest by digest in repository `name` (an index's child), verified. */
  fetchManifest(name: string, digest: string, opts: CallOptions = {}): Promise<Resolved> {
    validateDigest(digest, `manifest digest for ${name}`);
    return this.resolve(parseReference(`${name}@${digest}`), opts);
  }

  /** Resolves a reference and, for an index, the manifest for `platform` (default: this host). */
  async resolveImage(input: string | Reference, opts: CallOptions & { platform?: Platform } = {}): Promise<ResolvedImage> {
    const top = await this.resolve(input, opts);
    if (top.manifest.kind === "manifest") return { top, image: top as ResolvedImage["image"] };
    const desc = selectManifest(top.manifest, opts.platform, `image index ${top.name}@${top.digest}`);
    const child = await this.fetchManifest(top.name, desc.digest, opts);
    if (child.manifest.kind !== "manifest") {
      throw invalid(`image index ${top.name}@${top.digest}: entry ${desc.digest} is not an image manifest`);
    }
    return { top, image: child as ResolvedImage["image"] };
  }

  /**
   * Starts streaming a blob. With `offset`, asks for the rest (HTTP Range); the answer's `offset`
   * says where the stream really starts. The caller verifies the digest of what it reads.
   */
  async fetchBlob(name: string, digest: string, opts: CallOptions & { offset?: number; expectedSize?: number } = {}): Promise<BlobFetch> {
    validateDigest(digest, `blob digest for ${name}`);
    const offset = opts.offset ?? 0;
    if (!Number.isSafeInteger(offset) || offset < 0) throw invalid(`blob ${digest}: offset ${offset} must be a non-negative integer`);
    const ref = parseReference(name);
    return this.overEndpoints(ref, (e) => e.capabilities.pull, `blob ${digest} of ${name}`, opts, async (s, _r, fastFail) => {
      const what = `blob ${digest} of ${name} at ${s.endpoint.host}`;
      let res = await s.send("GET", `blobs/${digest}`, offset > 0 ? { range: `bytes=${offset}-` } : {}, what, fastFail);
      let start = 0;
      let size: number | undefined;
      if (res.status === 206) {
        const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(String(res.headers["content-range"] ?? ""));
        if (m && Number(m[1]) === offset) {
          start = offset;
          size = m[3] === "*" ? undefined : Number(m[3]);
        } else {
          log.debug({ what, contentRange: res.headers["content-range"] }, "unusable Content-Range; fetching the whole blob");
          res.body.destroy();
          res = await s.send("GET", `blobs/${digest}`, {}, what, fastFail);
        }
      } else if (res.status === 416) {
        res.body.destroy();
        res = await s.send("GET", `blobs/${digest}`, {}, what, fastFail);
      }
      if (res.status !== 200 && res.status !== 206) throw await statusError(res, what, this.transport);
      if (res.status === 200) size = res.body.contentLength;
      if (opts.expectedSize !== undefined && size !== undefined && size !== opts.expectedSize) {
        res.body.destroy();
        throw new BerthError(Code.DATA_LOSS, `${what}: the registry says it is ${size} bytes, the manifest says ${opts.expectedSize}; refusing it`);
      }
      return { stream: res.body, offset: start, endpoint: s.endpoint, ...(size !== undefined ? { size } : {}) };
    });
  }

  /**
   * A whole small blob (an image config), capped and digest-verified. Like every document it
   * must arrive whole within the document deadline (request, retries and body), so a registry
   * dripping bytes inside the stall timeout cannot hold a pull forever.
   */
  async fetchBlobBytes(name: string, digest: string, cap: number, opts: CallOptions = {}): Promise<Buffer> {
    const what = `blob ${digest} of ${name}`;
    const ms = this.transport.documentDeadlineMs;
    const chunks: Buffer[] = [];
    let total = 0;
    let stream: Readable | undefined;
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      const err = new BerthError(Code.DEADLINE_EXCEEDED, `${what} did not arrive within ${formatMs(ms)} (${total} bytes so far); the registry is sending too slowly (registry.document_deadline)`);
      deadline.abort(err);
      stream?.destroy(err);
    }, ms);
    try {
      const signal = opts.signal ? AbortSignal.any([opts.signal, deadline.signal]) : deadline.signal;
      ({ stream } = await this.fetchBlob(name, digest, { ...opts, signal }));
      for await (const c of stream) {
        total += (c as Buffer).length;
        if (total > cap) {
          stream.destroy();
          throw invalid(`${what} is larger than ${cap} bytes; refusing it`);
        }
        chunks.push(c as Buffer);
      }
    } catch (err) {
      if (deadline.signal.aborted && !opts.signal?.aborted) throw deadline.signal.reason;
      throw err;
    } finally {
      clearTimeout(timer);
    }
    const bytes = Buffer.concat(chunks);
    const got = digestOf(bytes, digest.slice(0, digest.indexOf(":")));
    if (got !== digest) throw new BerthError(Code.DATA_LOSS, `${what}: content has digest ${got}; refusing it`);
    return bytes;
  }

  /** Tries each endpoint the configuration allows, in order, until one succeeds. */
  private async overEndpoints<T>(
    ref: Reference,
    usable: (e: Endpoint) => boolean,
    what: string,
    opts: CallOptions,
    attempt: (s: EndpointSession, ref: Reference, fastFail: boolean) => Promise<T>,
  ): Promise<T> {
    const plan = await this.hosts.plan(ref);
    const endpoints = plan.endpoints.filter(usable);
    if (endpoints.length === 0) throw new BerthError(Code.FAILED_PRECONDITION, `${what}: no configured endpoint may serve it`);
    const creds = credentialsFor(opts.auth, plan.ref.domain);
    const errors: BerthError[] = [];
    for (const [i, endpoint] of endpoints.entries()) {
      const session = new EndpointSession(this.transport, this.authorizer, endpoint, endpoint.mirror ? undefined : creds, opts.signal);
      try {
        return await attempt(session, plan.ref, i < endpoints.length - 1);
      } catch (err) {
        if (opts.signal?.aborted) throw err;
        const e = err instanceof BerthError ? err : new BerthError(Code.INTERNAL, String(err), { cause: err });
        if (endpoint.mirror) log.info({ what, endpoint: endpoint.url, err: e.message }, "mirror failed; trying the next endpoint");
        errors.push(e);
      }
    }
    const last = errors[errors.length - 1] as BerthError;
    if (errors.length === 1) throw last;
    throw new BerthError(last.code, `${what}: every endpoint failed: ${errors.map((e) => e.message).join("; ")}`, { cause: last });
  }
}
