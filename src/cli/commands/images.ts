// Client commands for images, shaped like crictl's: pull (live per-layer progress), images,
// inspecti, rmi (-a, --prune), imagefsinfo; plus `image import|export` for air-gapped nodes.
import type { ParseArgsConfig } from "node:util";
import type { ServiceError } from "@grpc/grpc-js";
import { status as grpcStatus } from "@grpc/grpc-js";
import { Image, ImageFsInfoResponse, type AuthConfig } from "../../generated/runtime/v1/api.js";
import { formatReference, parseReference } from "../../images/registry/reference.js";
import type { ClientArgs } from "../args.js";
import { call, type CriClient } from "../client.js";
import { parseFormat, printStructured, printTable, UsageError, decodeInfo } from "../output.js";
import { humanSize, PullView } from "./images-progress.js";
import { exportCommand, importCommand } from "./images-archive.js";
import { daemonStatePath } from "./daemon-state.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

const spec = (image: string) => ({ image, annotations: {}, userSpecifiedImage: "", runtimeHandler: "", imageRef: "" });
const str = (a: ClientArgs, k: string): string | undefined => {
  const v = (a.values as Record<string, unknown>)[k];
  return typeof v === "string" ? v : undefined;
};
const flag = (a: ClientArgs, k: string): boolean => (a.values as Record<string, unknown>)[k] === true;
// Pulls and imports may take long; the client deadline applies only when -t is given.
const longTimeout = (c: CriClient, a: ClientArgs): number => (a.values.timeout !== undefined ? c.timeoutMs : 24 * 3600_000);

async function pull(c: CriClient, a: ClientArgs): Promise<void> {
  const image = a.positionals[0];
  if (!image || a.positionals.length > 1) throw new UsageError("usage: berth pull [--creds USER[:PASS]] [--auth BASE64] [-u USER -p PASS] IMAGE");
  const auth: AuthConfig = { username: "", password: "", auth: "", serverAddress: "", identityToken: "", registryToken: "" };
  const creds = str(a, "creds");
  if (creds !== undefined) {
    const i = creds.indexOf(":");
    auth.username = i < 0 ? creds : creds.slice(0, i);
    auth.password = i < 0 ? "" : creds.slice(i + 1);
  }
  auth.username = str(a, "username") ?? auth.username;
  auth.password = str(a, "password") ?? auth.password;
  auth.auth = str(a, "auth") ?? "";
  const withAuth = auth.username !== "" || auth.password !== "" || auth.auth !== "";
  const view = new PullView(formatReference(parseReference(image)), process.stderr, process.stderr.isTTY === true);
  const sock = await daemonStatePath(c, "progress.sock");
  if (sock) await view.attach(sock);
  try {
    const r = await call(c, c.image, c.image.pullImage, { image: spec(image), auth: withAuth ? auth : undefined, sandboxConfig: undefined }, longTimeout(c, a));
    await view.finish();
    process.stdout.write(`Image is up to date for ${r.imageRef}\n`);
  } finally {
    view.close();
  }
}

/** Exits 1 with "berth: no such image …" (shaped like a gRPC error, which main prints plainly). */
function noSuchImage(names: string[]): Error {
  const details = `no such image: ${names.join(", ")}`;
  return Object.assign(new Error(details), { code: grpcStatus.NOT_FOUND, details });
}

const truncId = (id: string): string => id.replace(/^sha256:/, "").slice(0, 13);

/** crictl's rows: one per tag; an untagged image shows its digest's name with tag <none>. */
function rows(img: Image, digests: boolean, noTrunc: boolean): string[][] {
  const first = img.repoDigests[0];
  const at = first?.lastIndexOf("@") ?? -1;
  const digestName = first && at > 0 ? first.slice(0, at) : "<none>";
  const digest = first && at > 0 ? first.slice(at + 1) : "<none>";
  const pairs: [string, string][] = img.repoTags.length === 0 ? [[digestName, "<none>"]] : img.repoTags.map((t) => {
    const i = t.lastIndexOf(":");
    return i > t.lastIndexOf("/") ? [t.slice(0, i), t.slice(i + 1)] : [t, "<none>"];
  });
  const id = noTrunc ? img.id : truncId(img.id);
  const d = noTrunc || digest === "<none>" ? digest : truncId(digest);
  const size = humanSize(Number(img.size));
  return pairs.map(([name, tag]) => (digests ? [name, tag, d, id, size] : [name, tag, id, size]));
}

async function images(c: CriClient, a: ClientArgs): Promise<void> {
  const format = parseFormat(a.values.output);
  const filter = a.positionals[0];
  const r = await call(c, c.image, c.image.listImages, { filter: filter ? { image: spec(filter) } : undefined });
  if (flag(a, "quiet")) {
    for (const img of r.images) process.stdout.write(`${img.id}\n`);
    return;
  }
  if (format !== "table") return printStructured({ images: r.images.map((i) => Image.toJSON(i)) }, format);
  const digests = flag(a, "digests");
  const header = digests ? ["IMAGE", "TAG", "DIGEST", "IMAGE ID", "SIZE"] : ["IMAGE", "TAG", "IMAGE ID", "SIZE"];
  printTable(header, r.images.flatMap((i) => rows(i, digests, flag(a, "no-trunc"))));
}

async function inspecti(c: CriClient, a: ClientArgs): Promise<void> {
  if (a.positionals.length === 0) throw new UsageError("usage: berth inspecti IMAGE...");
  const format = parseFormat(a.values.output ?? "json", ["json", "yaml"]) as "json" | "yaml";
  const missing: string[] = [];
  for (const image of a.positionals) {
    const r = await call(c, c.image, c.image.imageStatus, { image: spec(image), verbose: true });
    if (!r.image) {
      missing.push(image);
      continue;
    }
    const info = decodeInfo(r.info);
    printStructured({ status: Image.toJSON(r.image), info }, format);
  }
  if (missing.length > 0) throw noSuchImage(missing);
}

/** IDs of images no container uses (containers' image refs); no RuntimeService yet means none. */
async function unusedImages(c: CriClient, all: Image[]): Promise<Image[]> {
  let used = new Set<string>();
  try {
    const r = await call(c, c.runtime, c.runtime.listContainers, { filter: undefined });
    used = new Set(r.containers.flatMap((x) => [x.imageRef, x.image?.image ?? "", x.imageId ?? ""]));
  } catch (err) {
    if ((err as ServiceError).code !== grpcStatus.UNIMPLEMENTED) throw err;
  }
  return all.filter((i) => !used.has(i.id) && !i.repoTags.some((t) => used.has(t)) && !i.repoDigests.some((d) => used.has(d)));
}

async function rmi(c: CriClient, a: ClientArgs): Promise<void> {
  let targets = a.positionals;
  if (flag(a, "all") || flag(a, "prune")) {
    const all = (await call(c, c.image, c.image.listImages, { filter: undefined })).images;
    const chosen = flag(a, "prune") ? await unusedImages(c, all) : all;
    targets = chosen.map((i) => i.id);
  } else if (targets.length === 0) throw new UsageError("usage: berth rmi [-a|--all] [--prune] IMAGE...");
  const missing: string[] = [];
  for (const image of targets) {
    const before = (await call(c, c.image, c.image.imageStatus, { image: spec(image), verbose: false })).image;
    if (!before) {
      missing.push(image);
      continue;
    }
    await call(c, c.image, c.image.removeImage, { image: spec(image) });
    const after = (await call(c, c.image, c.image.imageStatus, { image: spec(before.id), verbose: false })).image;
    if (after) {
      for (const t of before.repoTags.filter((x) => !after.repoTags.includes(x))) process.stdout.write(`Untagged: ${t}\n`);
    } else {
      const names = before.repoTags.length > 0 ? before.repoTags : [before.id];
      for (const n of names) process.stdout.write(`Deleted: ${n}\n`);
    }
  }
  if (missing.length > 0) throw noSuchImage(missing);
}

async function imagefsinfo(c: CriClient, a: ClientArgs): Promise<void> {
  const format = parseFormat(a.values.output ?? "json", ["json", "yaml"]) as "json" | "yaml";
  const r = await call(c, c.image, c.image.imageFsInfo, {});
  printStructured({ status: ImageFsInfoResponse.toJSON(r) }, format);
}

async function imageGroup(c: CriClient, a: ClientArgs): Promise<void> {
  const [sub, ...rest] = a.positionals;
  const args = { ...a, positionals: rest };
  if (sub === "import") return importCommand(c, args, longTimeout(c, a));
  if (sub === "export") return exportCommand(c, args, longTimeout(c, a));
  throw new UsageError(`berth image: expected "import FILE" or "export IMAGE FILE"`);
}

/** Flags of the image commands (merged into the client flags by main). */
export const IMAGE_OPTIONS = {
  creds: { type: "string" },
  auth: { type: "string" },
  username: { type: "string", short: "u" },
  password: { type: "string", short: "p" },
  quiet: { type: "boolean", short: "q" },
  digests: { type: "boolean" },
  "no-trunc": { type: "boolean" },
  all: { type: "boolean", short: "a" },
  prune: { type: "boolean" },
} as const satisfies Options;

export const IMAGE_COMMANDS = { pull, images, inspecti, rmi, imagefsinfo, image: imageGroup } as const;

export const IMAGE_USAGE = `Images:
  berth pull [--creds USER[:PASS]] [--auth BASE64] IMAGE   pull, with live per-layer progress
  berth images [-q] [--digests] [--no-trunc] [IMAGE]   list images
  berth inspecti IMAGE...       image status with its config (JSON)
  berth rmi [-a|--all] [--prune] IMAGE...   remove images (by ID, tag or digest)
  berth imagefsinfo             bytes and inodes used by images and containers' layers
  berth image import FILE       load an OCI archive or a \`docker save\` tarball
  berth image export IMAGE FILE write an image as an OCI archive
`;
