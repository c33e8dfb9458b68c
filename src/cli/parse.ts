import { UsageError } from "../errors.js";
import type { CommandDef } from "./command.js";
import { didYouMean } from "./did-you-mean.js";
import type { FlagDef, Flags } from "./flags.js";

export type ParseResult =
  | { help: true }
  | { help: false; values: Record<string, unknown>; positionals: string[] };

// The caller prints "zerodep CMD: " before the message.
function usage(_cmd: string, msg: string): never {
  throw new UsageError("USAGE", msg);
}

/**
 * Reads argv against a command's flag definitions, the way getopt_long users expect: `--flag VALUE`,
 * `--flag=VALUE`, `-x VALUE`, `-xVALUE`, `--` ends the options. Unlike node's parseArgs, every refusal
 * is one line in our words: an unknown flag with the closest known one, a missing value, a single-valued
 * flag given twice (parseArgs keeps the last silently), a value on a boolean. Each value goes through
 * its flag's `parse` here, before the command's module is even loaded.
 */
export function parseCommandLine(def: CommandDef<Flags>, argv: string[]): ParseResult {
  const cmd = def.name;
  const flags: Flags = def.flags;
  const byShort = new Map<string, string>();
  for (const [name, f] of Object.entries(flags)) if (f.short) byShort.set(f.short, name);
  const raw = new Map<string, string[]>();
  const bools = new Set<string>();
  const positionals: string[] = [];
  const known = () => [...Object.keys(flags).map((k) => `--${k}`), "--help"];

  const take = (name: string, f: FlagDef, shown: string, inline: string | undefined, i: number): number => {
    if (f.type === "boolean") {
      if (inline !== undefined) usage(cmd, `${shown} takes no value (got "${shown}=${inline}")`);
      bools.add(name);
      return i;
    }
    let v = inline;
    let next = i;
    if (v === undefined) {
      const a = argv[i + 1];
      // A following option is a forgotten value, not the value; "-" alone (stdin) and negative
      // numbers are values. `--flag=-x` passes a value that starts with a dash.
      if (a === undefined || (a.startsWith("-") && a !== "-" && !/^-\d/.test(a)))
        usage(
          cmd,
          `${shown} needs a value${a === undefined ? "" : ` (got option ${a}; write ${shown}=VALUE for a value starting with -)`}`,
        );
      v = a;
      next = i + 1;
    }
    const list = raw.get(name) ?? [];
    if (list.length > 0 && !f.multiple)
      usage(cmd, `${shown} given twice ("${list[0]}" and "${v}"); ${f.repeated ?? "it takes one value"}`);
    list.push(v);
    raw.set(name, list);
    return next;
  };

  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a === "--help" || a === "-h") return { help: true };
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const f = flags[name];
      if (!f) usage(cmd, `unknown option --${name}${didYouMean(`--${name}`, known())}`);
      i = take(name, f, `--${name}`, eq < 0 ? undefined : a.slice(eq + 1), i);
    } else if (a.startsWith("-") && a.length > 1 && !/^-\d/.test(a)) {
      const name = byShort.get(a[1]!);
      if (!name) usage(cmd, `unknown option ${a.slice(0, 2)}${didYouMean(a, known())}`);
      const f = flags[name]!;
      if (f.type === "boolean" && a.length > 2) usage(cmd, `${a.slice(0, 2)} takes no value (got "${a}")`);
      i = take(name, f, `-${a[1]}`, a.length > 2 ? a.slice(2).replace(/^=/, "") : undefined, i);
    } else positionals.push(a);
  }

  const p = def.positionals;
  if (positionals.length < p.min || (p.max !== undefined && positionals.length > p.max))
    usage(cmd, p.message);

  const values: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(flags)) {
    if (f.type === "boolean") {
      values[name] = bools.has(name);
      continue;
    }
    const list = raw.get(name);
    if (list === undefined) continue;
    const parsed = list.map((v) => (f.parse ? f.parse(v, `--${name}`) : v));
    values[name] = f.multiple ? parsed : parsed[0];
  }
  return { help: false, values, positionals };
}
