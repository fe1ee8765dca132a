// Parsers for an image's /etc/passwd and /etc/group: untrusted text, so lines that do not
// parse are skipped (as libc does) and the first entry for a name or id wins (getpwnam's rule).

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

export interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

const ID = /^\d{1,10}$/;
const MAX_ID = 0xffff_fffe;

function id(s: string | undefined): number | undefined {
  if (s === undefined || !ID.test(s)) return undefined;
  const n = Number(s);
  return n <= MAX_ID ? n : undefined;
}

function lines(text: string): string[][] {
  const out: string[][] = [];
  for (const raw of text.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    // Comments, blanks and NIS compat entries (+name, -name) are not users.
    if (line === "" || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
    out.push(line.split(":"));
  }
  return out;
}

export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of lines(text)) {
    const [name, , uidS, gidS] = f;
    const uid = id(uidS);
    const gid = id(gidS);
    if (!name || uid === undefined || gid === undefined) continue;
    out.push({ name, uid, gid });
  }
  return out;
}

export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of lines(text)) {
    const [name, , gidS, membersS] = f;
    const gid = id(gidS);
    if (!name || gid === undefined) continue;
    const members = (membersS ?? "").split(",").map((m) => m.trim()).filter((m) => m !== "");
    out.push({ name, gid, members });
  }
  return out;
}
