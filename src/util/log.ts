// The process-wide structured logger (pino, JSON lines on stderr). Every module takes a
// child logger so each line carries its component; the level comes from config.
import { pino, type Logger } from "pino";

export type { Logger };
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const root: Logger = pino({ level: "info", base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));

// pino children keep the level they were made with, and modules make theirs at import time,
// so the level is pushed to every child when config sets it.
const children: Logger[] = [];

export function setLogLevel(level: LogLevel): void {
  root.level = level;
  for (const c of children) c.level = level;
}

export function logger(component: string): Logger {
  const child = root.child({ component });
  children.push(child);
  return child;
}
