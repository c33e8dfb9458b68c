import { UsageError } from "../errors.js";

/**
 * One command-line flag: how it is parsed, what its value must look like, and how help shows it. The
 * help text, the README option blocks (npm run docs) and the parser all read these definitions, so
 * they cannot drift apart. `parse` runs before the command's module is loaded and before anything is
 * written: a bad value is one usage line (exit 2) and nothing is created.
 */
export interface FlagDef<T = unknown> {
  type: "boolean" | "string";
  /** May be given several times; the values are kept in order. */
  multiple?: boolean;
  short?: string;
  /** The value's placeholder in help: DIR, K=V, N … */
  value?: string;
  help: string;
  /** Shown in help as "(default …)". */
  default?: string;
  /** Turns the raw string (each one, for `multiple`) into the command's value; throws UsageError. */
  parse?: (raw: string, flag: string) => T;
  /** For a single-valued flag given twice: why it cannot be repeated (default: it takes one value). */
  repeated?: string;
  /** Listed in help under this heading (e.g. "With a registry IMAGE"); undefined = the command's own. */
  group?: string;
}

export type Flags = Record<string, FlagDef>;

type Parsed<F> = F extends { parse: (raw: string, flag: string) => infer T } ? T : string;
/** The values a command's run function receives, typed from its flag definitions. */
export type FlagValues<F extends Flags> = {
  [K in keyof F]: F[K]["type"] extends "boolean"
    ? boolean
    : F[K]["multiple"] extends true
      ? Parsed<F[K]>[] | undefined
      : Parsed<F[K]> | undefined;
};

/** A string flag; `parse` (if any) gives its typed value. The literal types are kept for FlagValues. */
export function str<const D extends Omit<FlagDef, "type">>(d: D): D & { type: "string" } {
  return { type: "string", ...d };
}

export function bool<const D extends Omit<FlagDef, "type" | "parse" | "value" | "multiple">>(
  d: D,
): D & { type: "boolean" } {
  return { type: "boolean", ...d };
}

function usage(msg: string): never {
  throw new UsageError("USAGE", msg);
}

/** A whole number in [min, max]. */
export function intValue(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string, flag: string): number => {
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max)
      usage(
        `${flag} wants a whole number ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`} (got "${raw}")`,
      );
    return Number(raw);
  };
}

/** A decimal number in [lo, hi]. */
export function numberValue(lo: number, hi: number) {
  return (raw: string, flag: string): number => {
    const n = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(n) || n < lo || n > hi)
      usage(`${flag}: "${raw}" is not a number between ${lo} and ${hi}`);
    return n;
  };
}

/** One of a closed list of words. */
export function oneOf<const W extends string>(...words: W[]) {
  return (raw: string, flag: string): W => {
    if (!(words as string[]).includes(raw))
      usage(
        `${flag}: ${words.slice(0, -1).join(", ")}${words.length > 1 ? " or " : ""}${words.at(-1)} (got "${raw}")`,
      );
    return raw as W;
  };
}

/** KEY=VALUE with a non-empty KEY (an `=` inside the value is kept). */
export function keyValue(raw: string, flag: string): [string, string] {
  const i = raw.indexOf("=");
  if (i <= 0) usage(`${flag} wants KEY=VALUE (got "${raw}")`);
  return [raw.slice(0, i), raw.slice(i + 1)];
}

/** KEY=VALUE kept as the string (pack's and check's --env), validated. */
export function envEntry(raw: string, flag: string): string {
  keyValue(raw, flag);
  return raw;
}

/** Non-empty text. */
export function nonEmpty(raw: string, flag: string): string {
  if (raw === "") usage(`${flag} wants a value (got an empty string)`);
  return raw;
}

const SIZE_RE = /^(\d+(?:\.\d+)?)\s*(B|K|KB|M|MB|G|GB|T|TB|KiB|MiB|GiB|TiB)?$/i;
const SIZE_MULT: Record<string, number> = {
  b: 1,
  k: 1e3,
  kb: 1e3,
  m: 1e6,
  mb: 1e6,
  g: 1e9,
  gb: 1e9,
  t: 1e12,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

/** "250M" → 250e6, "1.5GiB" → 1.5·2^30. UsageError on anything else. */
export function parseSize(s: string, what: string): number {
  const m = SIZE_RE.exec(s.trim());
  if (!m) usage(`${what}: "${s}" is not a size (e.g. 5000000, 50M, 1.5GiB)`);
  return Math.round(Number(m[1]) * SIZE_MULT[(m[2] ?? "B").toLowerCase()]!);
}

const DURATION_UNIT: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "30s", "5m", "1h", "1500ms", "1m30s" → milliseconds; a bare number is seconds; "0" is 0 (none). */
export function durationValue(raw: string, flag: string): number {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(s))
    usage(`${flag} wants a duration such as 30s, 5m, 1h or 0 for none (got "${raw}")`);
  let ms = 0;
  for (const m of s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNIT[m[2]!]!;
  return Math.round(ms);
}

/** OS/ARCH[/VARIANT], lower case, as in an OCI index. */
export function platformValue(raw: string, flag: string): string {
  if (!/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(raw))
    usage(`${flag} wants OS/ARCH[/VARIANT], e.g. linux/arm64 (got "${raw}")`);
  return raw;
}
