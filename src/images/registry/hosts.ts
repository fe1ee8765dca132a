// Turns an image reference into the ordered endpoints to pull from, reading containerd's
// hosts.toml directory and containers-registries.conf fresh on each call (mtime-cached).
import { failedPrecondition, invalid } from "../../errors.js";
import { FileCache } from "./file-cache.js";
import { HostsTomlConfig, entryToEndpoint, type HostEntry } from "./hosts-toml.js";
import { RegistriesConfFiles, matchRegistry, type RegistriesConf } from "./registries-conf.js";
import { defaultServer, type Endpoint } from "./endpoint.js";
import { familiarName, formatReference, withName, type Reference } from "./reference.js";

export interface RegistryHostsOptions {
  /** containerd's config_path: a directory of `<host>/hosts.toml` (certs.d layout). */
  configPath?: string;
  /** containers-registries.conf(5) v2 file, e.g. /etc/containers/registries.conf. */
  registriesConf?: string;
  /** Its drop-in directory (default: registries.conf.d beside the file). */
  registriesConfD?: string;
}

export interface PullPlan {
  /** The reference to pull after short-name aliases; its name is what the image is stored under. */
  ref: Reference;
  /** Endpoints in the order to try: registries.conf mirrors, hosts.toml mirrors, then the upstream. */
  endpoints: Endpoint[];
}

type Pending = Endpoint & { caPaths: string[]; clientPaths?: { certPath: string; keyPath: string } };

function splitName(name: string): { host: string; repository: string } {
  const i = name.indexOf("/");
  if (i <= 0 || i === name.length - 1) throw invalid(`registry location "${name}" must be "<host>/<repository>"`);
  return { host: name.slice(0, i), repository: name.slice(i + 1) };
}

/**
 * Registry configuration, both layouts. How they combine:
 * 1. registries.conf [aliases] rewrite short names ("busybox" → what the alias says);
 * 2. the best [[registry]] prefix match may block the pull, rewrite its location and add mirrors;
 * 3. the upstream host's hosts.toml adds its [host."…"] mirrors after those, then its server
 *    (or https://<host>), unless the top-level capabilities leave the server neither pull nor resolve;
 * 4. each endpoint's TLS comes from the hosts.toml (or certs.d *.crt) of its own host.
 * Plain http is used only when configured (an http:// URL, or registries.conf insecure=true,
 * which also accepts unverified TLS) — also for localhost, unlike containerd's implicit fallback.
 */
export class RegistryHosts {
  private readonly hostsToml?: HostsTomlConfig;
  private readonly registriesConf?: RegistriesConfFiles;
  private readonly pemCache = new FileCache<string>((text) => text);

  constructor(opts: RegistryHostsOptions = {}) {
    if (opts.configPath) this.hostsToml = new HostsTomlConfig(opts.configPath);
    if (opts.registriesConf) this.registriesConf = new RegistriesConfFiles(opts.registriesConf, opts.registriesConfD);
  }

  async plan(input: Reference): Promise<PullPlan> {
    const conf = this.registriesConf ? await this.registriesConf.load() : undefined;
    const ref = conf ? applyAlias(conf, input) : input;
    const match = conf ? matchRegistry(conf, formatReference(ref)) : undefined;
    if (match?.blocked) {
      throw failedPrecondition(`image "${formatReference(ref)}": registry "${match.prefix}" is blocked by ${match.source}`);
    }
    // containers/image: the location replaces the matched prefix (a wildcard matches the host).
    const rewrite = (location: string): string => {
      if (!match || location === "") return ref.name;
      return location + ref.name.slice(match.prefix.startsWith("*.") ? ref.domain.length : match.prefix.length);
    };
    const pending: Pending[] = [];
    for (const m of match?.mirrors ?? []) {
      const { host, repository } = splitName(rewrite(m.location));
      const e = await this.server(host, repository, true);
      e.pullFrom = m.pullFrom;
      if (m.insecure) markInsecure(e);
      pending.push(e);
    }
    const upstream = splitName(rewrite(match?.location ?? ""));
    const loaded = this.hostsToml ? await this.hostsToml.load(upstream.host) : undefined;
    for (const m of loaded?.file?.mirrors ?? []) pending.push(entryToEndpoint(m, upstream.repository, true));
    const server = await this.server(upstream.host, upstream.repository, false);
    if (match?.insecure) markInsecure(server);
    if (server.capabilities.pull || server.capabilities.resolve) pending.push(server);
    if (pending.length === 0) {
      throw failedPrecondition(`image "${formatReference(ref)}": the registry configuration leaves no endpoint that can pull it`);
    }
    return { ref, endpoints: await Promise.all(pending.map((p) => this.finish(p))) };
  }

  /** The upstream endpoint of a host: its hosts.toml server, else the default URL, with its TLS files. */
  private async server(host: string, repository: string, mirror: boolean): Promise<Pending> {
    const loaded = this.hostsToml ? await this.hostsToml.load(host) : undefined;
    const file = loaded?.file;
    let entry: HostEntry;
    if (file?.server) entry = file.server;
    else if (file) entry = { url: defaultServer(host), ...file.serverDefaults };
    else {
      entry = {
        url: defaultServer(host), capabilities: { pull: true, resolve: true, push: true },
        caPaths: loaded?.certs.caPaths ?? [], skipVerify: false, overridePath: false, headers: {}, source: loaded?.dir ?? "default",
      };
      if (loaded?.certs.client) entry.client = loaded.certs.client;
    }
    return entryToEndpoint(entry, repository, mirror);
  }

  private async finish(p: Pending): Promise<Endpoint> {
    const { caPaths, clientPaths, ...e } = p;
    const caPems: string[] = [];
    for (const path of caPaths) caPems.push(await this.readPem(path, e.source, "ca"));
    e.tls = { ...e.tls, caPems };
    if (clientPaths) {
      e.tls.clientCert = {
        certPem: await this.readPem(clientPaths.certPath, e.source, "client certificate"),
        keyPem: await this.readPem(clientPaths.keyPath, e.source, "client key"),
      };
    }
    return e;
  }

  private async readPem(path: string, source: string, what: string): Promise<string> {
    const text = await this.pemCache.get(path);
    if (text === undefined) throw invalid(`registry config ${source}: ${what} file ${path} does not exist`);
    return text;
  }
}

function markInsecure(e: Endpoint): void {
  e.tls.skipVerify = true;
  if (e.scheme === "https") e.httpFallback = true;
}

/** registries.conf [aliases] for short names: "busybox" or "user/x" as the user wrote it. */
function applyAlias(conf: RegistriesConf, ref: Reference): Reference {
  if (!ref.shortName) return ref;
  const alias = conf.aliases[familiarName(ref)] ?? conf.aliases[ref.path];
  if (alias === undefined) return ref;
  try {
    return withName(ref, alias);
  } catch (err) {
    throw invalid(`short-name alias "${familiarName(ref)}" = "${alias}": ${err instanceof Error ? err.message : String(err)}`);
  }
}
