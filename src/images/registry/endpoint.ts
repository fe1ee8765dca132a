// What the registry configuration yields for one image: the ordered endpoints to try, each with
// its URL, TLS trust, capabilities and the repository path to ask for there.
export interface TlsSettings {
  /** Extra CA certificates (PEM) trusted besides the system's. */
  caPems: string[];
  /** Accept any server certificate (hosts.toml skip_verify, registries.conf insecure). */
  skipVerify: boolean;
  clientCert?: { certPem: string; keyPem: string };
}

export interface Capabilities {
  /** Fetch blobs and manifests by digest. */
  pull: boolean;
  /** Resolve tags to digests. */
  resolve: boolean;
  push: boolean;
}

export interface Endpoint {
  /** API base, always ending in "/v2" unless override_path, e.g. "https://mirror.local:5000/v2". */
  url: string;
  scheme: "http" | "https";
  /** host[:port] of url, the key for credentials and tokens. */
  host: string;
  /** Repository path at this endpoint (registries.conf may rewrite it), e.g. "library/busybox". */
  repository: string;
  capabilities: Capabilities;
  tls: TlsSettings;
  /** registries.conf insecure=true: if TLS fails at the protocol level, try plain http. */
  httpFallback: boolean;
  mirror: boolean;
  /** registries.conf pull-from-mirror: which references this mirror may resolve. */
  pullFrom: "all" | "digest-only" | "tag-only";
  /** Extra request headers (hosts.toml [header]). */
  headers: Record<string, string>;
  /** Which file configured it ("default" when none did), for messages. */
  source: string;
}

export const ALL_CAPABILITIES: Capabilities = { pull: true, resolve: true, push: true };

/** The upstream of a registry host when no configuration names one (docker.io's API lives elsewhere). */
export function defaultServer(host: string): string {
  return host === "docker.io" ? "https://registry-1.docker.io" : `https://${host}`;
}

/** Whether an endpoint may serve a manifest request for a tag (resolve) or a digest (pull). */
export function canServeManifest(e: Endpoint, byDigest: boolean): boolean {
  if (byDigest) return e.capabilities.pull && e.pullFrom !== "tag-only";
  return e.capabilities.pull && e.capabilities.resolve && e.pullFrom !== "digest-only";
}
