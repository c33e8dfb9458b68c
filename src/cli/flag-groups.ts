import { UsageError } from "../errors.js";
import { bool, durationValue, envEntry, intValue, parseSize, platformValue, str } from "./flags.js";

/**
 * Flags several commands share, defined once. A command lists the groups it takes (`...REGISTRY`);
 * no command imports another command's definitions.
 */

/** Every command: machine output and colour. */
export const OUTPUT = {
  json: bool({ help: "JSON output (schema: README)" }),
  "no-color": bool({ help: "never colour (colour is used only on a TTY; NO_COLOR is honoured)" }),
};

const REG = "Registry access";

/**
 * Every command that may talk to a registry (push, pull, copy, login, pack --base/--push, an IMAGE
 * argument of inspect/check/analyze/diff): trust and retries. Transfer and upload tuning are separate
 * groups, so a command that only reads never lists upload flags.
 */
export const REGISTRY = {
  "ca-file": str({
    multiple: true,
    value: "FILE",
    help: "trust this PEM CA besides the system roots (repeatable)",
    group: REG,
  }),
  insecure: bool({
    help: "allow plain HTTP and unverified TLS for any registry (loopback may use HTTP anyway)",
    group: REG,
  }),
  retries: str({
    value: "N",
    help: "retries on 429/5xx/resets/timeouts, with backoff",
    default: "5",
    parse: intValue(0),
    group: REG,
  }),
  timeout: str({
    value: "DURATION",
    help: "time budget for the command's registry traffic (30s, 5m, 1h; 0 = none)",
    default: "1h",
    parse: durationValue,
    group: REG,
  }),
};

/** Commands that move whole images between places (push, pull, copy, pack --push). */
export const TRANSFER = {
  concurrency: str({
    value: "N",
    help: "blobs in flight at once",
    default: "4",
    parse: intValue(1),
    group: REG,
  }),
};

/** Commands that upload blobs (push, copy, pack --push). */
export const UPLOAD = {
  "chunk-size": str({
    value: "BYTES",
    help: "upload in chunks of this size instead of one streamed PUT per blob",
    parse: intValue(1),
    group: REG,
  }),
};

/** Which image of an index. */
export const PLATFORM = {
  platform: str({
    value: "OS/ARCH",
    help: "which platform of a multi-platform index (os/arch[/variant]; default this machine's)",
    parse: platformValue,
  }),
};

/** Commands that read whole images layer by layer (analyze, diff). */
export const IMAGE_READ = {
  ...PLATFORM,
  "max-layer-bytes": str({
    value: "N",
    help: "refuse a layer decompressing beyond N bytes (gzip bombs)",
    default: "16GiB",
    parse: parseSize,
  }),
};

/** The root a binary is judged in (deps, check). */
export const ROOT = {
  root: str({ value: "DIR", help: "the root file system; links inside it never escape it", default: "/" }),
  target: str({
    value: "scratch",
    help: "an empty root (what FROM scratch gives you); exclusive with --root",
    parse: (raw, flag): "scratch" => {
      if (raw !== "scratch") throw usageErr(`${flag}: only "scratch" is known (got "${raw}")`);
      return raw;
    },
  }),
  as: str({
    value: "PATH",
    help: "where the binary sits inside the root, its $ORIGIN (default: its path there, else /app/NAME)",
  }),
  env: str({
    multiple: true,
    value: "K=V",
    help: "the target's environment: LD_LIBRARY_PATH, SSL_CERT_FILE, ZONEINFO, TMPDIR … (repeatable)",
    parse: envEntry,
  }),
};

function usageErr(m: string): UsageError {
  return new UsageError("USAGE", m);
}
