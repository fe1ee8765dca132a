// The per-pod files containers bind-mount: resolv.conf (from CRI DNSConfig or the host's),
// hosts and hostname. Content is built by pure functions; writers replace files atomically.
import { mkdir, readFile } from "node:fs/promises";
import { isIP } from "node:net";
import { join } from "node:path";
import { invalid } from "../errors.js";
import { writeFileAtomic } from "../network/atomic-file.js";

export interface DnsConfig {
  servers?: readonly string[];
  searches?: readonly string[];
  options?: readonly string[];
}

export interface HostAlias {
  ip: string;
  hostnames: readonly string[];
}

// glibc reads at most 3 nameservers and, since 2.26, any number of search domains; kubelet
// already caps searches at 32. Values must not smuggle extra lines into the file.
const MAX_SEARCHES = 32;

function field(what: string, v: string): string {
  if (v === "" || /[\s#;]/.test(v)) throw invalid(`DNS config ${what} ${JSON.stringify(v)} must be one word without "#" or ";"`);
  return v;
}

/** True when the CRI DNSConfig says anything; otherwise the pod gets the host's resolv.conf. */
export function hasDnsConfig(dns: DnsConfig | undefined): dns is DnsConfig {
  return !!dns && ((dns.servers?.length ?? 0) > 0 || (dns.searches?.length ?? 0) > 0 || (dns.options?.length ?? 0) > 0);
}

export function resolvConfContent(dns: DnsConfig): string {
  const lines: string[] = [];
  const searches = dns.searches ?? [];
  if (searches.length > MAX_SEARCHES) throw invalid(`DNS config has ${searches.length} search domains; at most ${MAX_SEARCHES} are allowed`);
  if (searches.length) lines.push(`search ${searches.map((s) => field("search", s)).join(" ")}`);
  for (const s of dns.servers ?? []) {
    if (!isIP(s)) throw invalid(`DNS config server ${JSON.stringify(s)} is not an IP address`);
    lines.push(`nameserver ${s}`);
  }
  if (dns.options?.length) lines.push(`options ${dns.options.map((o) => field("option", o)).join(" ")}`);
  return `${lines.join("\n")}\n`;
}

export interface HostsInput {
  hostname: string;
  podIps: readonly string[];
  aliases?: readonly HostAlias[];
}

export function hostsContent(h: HostsInput): string {
  const lines = [
    "# Kubernetes-managed hosts file (Berth).",
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "fe00::0\tip6-mcastprefix",
    "fe00::1\tip6-allnodes",
    "fe00::2\tip6-allrouters",
  ];
  const name = hostname(h.hostname);
  for (const ip of h.podIps) {
    if (!isIP(ip)) throw invalid(`pod IP ${JSON.stringify(ip)} is not an IP address`);
    lines.push(`${ip}\t${name}`);
  }
  if (h.aliases?.length) {
    lines.push("", "# Entries added by HostAliases.");
    for (const a of h.aliases) {
      if (!isIP(a.ip)) throw invalid(`host alias IP ${JSON.stringify(a.ip)} is not an IP address`);
      const names = a.hostnames.map((n) => hostname(n));
      if (names.length) lines.push(`${a.ip}\t${names.join("\t")}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

function hostname(n: string): string {
  if (n === "" || n.length > 253 || /[\s#\0]/.test(n)) throw invalid(`host name ${JSON.stringify(n)} must be a non-empty word of at most 253 characters`);
  return n;
}

export function hostnameContent(name: string): string {
  return `${hostname(name)}\n`;
}

export interface PodFilePaths {
  resolvConf: string;
  hosts: string;
  hostname: string;
}

export function podFilePaths(dir: string): PodFilePaths {
  return { resolvConf: join(dir, "resolv.conf"), hosts: join(dir, "hosts"), hostname: join(dir, "hostname") };
}

/** resolv.conf from DNSConfig, or a copy of the host's (`hostResolvConf`) when none was given. */
export async function writeResolvConf(path: string, dns: DnsConfig | undefined, hostResolvConf = "/etc/resolv.conf"): Promise<void> {
  const content = hasDnsConfig(dns) ? resolvConfContent(dns) : await readFile(hostResolvConf);
  await writeFileAtomic(path, content);
}

export async function writeHosts(path: string, h: HostsInput): Promise<void> {
  await writeFileAtomic(path, hostsContent(h));
}

export async function writeHostname(path: string, name: string): Promise<void> {
  await writeFileAtomic(path, hostnameContent(name));
}

/** Writes all three into `dir` (created if needed) and returns their paths. */
export async function writePodFiles(
  dir: string,
  p: { hostname: string; podIps: readonly string[]; aliases?: readonly HostAlias[]; dns?: DnsConfig; hostResolvConf?: string },
): Promise<PodFilePaths> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const paths = podFilePaths(dir);
  const hostsInput: HostsInput = { hostname: p.hostname, podIps: p.podIps };
  if (p.aliases) hostsInput.aliases = p.aliases;
  await Promise.all([
    writeResolvConf(paths.resolvConf, p.dns, p.hostResolvConf),
    writeHosts(paths.hosts, hostsInput),
    writeHostname(paths.hostname, p.hostname),
  ]);
  return paths;
}
