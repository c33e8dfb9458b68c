import { UsageError } from "../errors.js";

function usage(msg: string): never {
  throw new UsageError("USAGE", msg);
}

/**
 * One --cmd/--entrypoint occurrence: a JSON array of strings (Docker's exec form, the only way to
 * pass an argument that contains a comma or is empty) or one plain argument. The flag is repeatable;
 * the arguments of all occurrences are joined in order.
 */
export function argvValue(raw: string, flag: string): string[] {
  if (raw.trimStart().startsWith("[")) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch {
      usage(`${flag}: "${raw}" is not a JSON array of strings (e.g. '["-addr", ":8080"]')`);
    }
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
      usage(`${flag}: "${raw}" is not a JSON array of strings (e.g. '["-addr", ":8080"]')`);
    return v;
  }
  if (raw === "") usage(`${flag} is empty: give one argument per ${flag}, or a JSON array ('[]' for none)`);
  return [raw];
}

/** PORT[/tcp|udp|sctp], PORT 1..65535: what Docker's ExposedPorts hold (nat.ParsePortSpec, one port). */
export function portValue(raw: string, flag: string): string {
  const m = /^(\d+)(?:\/(tcp|udp|sctp))?$/.exec(raw);
  const n = m ? Number(m[1]) : 0;
  if (!m || n < 1 || n > 65535)
    usage(`${flag} wants PORT[/tcp|udp|sctp] with PORT 1 to 65535 (got "${raw}")`);
  return raw;
}

// The names moby's signal.SignalMap knows on Linux; RTMIN+n / RTMAX-n as it lists them.
const SIGNALS = new Set([
  "ABRT",
  "ALRM",
  "BUS",
  "CHLD",
  "CLD",
  "CONT",
  "FPE",
  "HUP",
  "ILL",
  "INT",
  "IO",
  "IOT",
  "KILL",
  "PIPE",
  "POLL",
  "PROF",
  "PWR",
  "QUIT",
  "SEGV",
  "STKFLT",
  "STOP",
  "SYS",
  "TERM",
  "TRAP",
  "TSTP",
  "TTIN",
  "TTOU",
  "URG",
  "USR1",
  "USR2",
  "VTALRM",
  "WINCH",
  "XCPU",
  "XFSZ",
  "RTMIN",
  "RTMAX",
  ...Array.from({ length: 15 }, (_, i) => `RTMIN+${i + 1}`),
  ...Array.from({ length: 14 }, (_, i) => `RTMAX-${i + 1}`),
]);

/**
 * A stop signal as Docker accepts it (moby signal.ParseSignal): a number 1..255, or a name with or
 * without SIG, any case (SIGTERM, TERM, term, 15). The value is stored as given, as docker build does.
 */
export function signalValue(raw: string, flag: string): string {
  if (/^\d+$/.test(raw)) {
    const n = Number(raw);
    if (n >= 1 && n <= 255) return raw;
  } else if (SIGNALS.has(raw.toUpperCase().replace(/^SIG/, ""))) return raw;
  usage(`${flag}: "${raw}" is not a signal (SIGTERM, TERM or 15 forms, as Docker accepts)`);
}

/** An absolute path in the image for the binary; no "..", not a directory. */
export function imagePathValue(raw: string, flag: string): string {
  const parts = raw.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.length === 0 || parts.includes("..") || raw.endsWith("/"))
    usage(`${flag} wants a file path in the image such as /app/NAME (got "${raw}")`);
  return raw;
}
