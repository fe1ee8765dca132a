// Whole-file replacement by temp file + rename, so readers (a restarted daemon, a container
// bind-mounting resolv.conf) never see a half-written file. Lives in util/durable.ts (containers use it too).
export { writeFileAtomic } from "../util/durable.js";
