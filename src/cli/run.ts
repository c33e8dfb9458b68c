import { readFileSync } from "node:fs";
import { UsageError, ZerodepError } from "../errors.js";
import { analyzeHelp, runAnalyze } from "./commands/analyze.js";
import { checkHelp, runCheck } from "./commands/check.js";
import { copyHelp, pullHelp, pushHelp, runCopy, runPull, runPush } from "./commands/copy.js";
import { depsHelp, runDeps } from "./commands/deps.js";
import { diffHelp, runDiff } from "./commands/diff.js";
import { inspectHelp, runInspect } from "./commands/inspect.js";
import { loginHelp, runLogin } from "./commands/login.js";
import { packHelp, runPack } from "./commands/pack.js";
import { runScan, scanHelp } from "./commands/scan.js";
import { type CliIO, EXIT } from "./io.js";

const commands: Record<
  string,
  { run: (args: string[], io: CliIO) => Promise<number>; help: string; summary: string }
> = {
  inspect: {
    run: runInspect,
    help: inspectHelp,
    summary: "what a binary is and needs (file + readelf + checksec + go version -m)",
  },
  scan: {
    run: runScan,
    help: scanHelp,
    summary: "find and inspect every binary under directories (scanelf -R)",
  },
  check: {
    run: runCheck,
    help: checkHelp,
    summary: "will it run there: a verdict with every problem and its fix",
  },
  pack: {
    run: runPack,
    help: packHelp,
    summary: "a minimal, reproducible OCI image from binaries, no daemon (ko, crane append)",
  },
  deps: {
    run: runDeps,
    help: depsHelp,
    summary: "shared-library closure as the loader resolves it in a root (ldd, lddtree)",
  },
  analyze: {
    run: runAnalyze,
    help: analyzeHelp,
    summary:
      "what is in an image, what it wastes (dive's and honest figures), whether it runs; --html report",
  },
  diff: {
    run: runDiff,
    help: diffHelp,
    summary: "files (content, sizes, modes) and config changed between two images (container-diff)",
  },
  push: { run: runPush, help: pushHelp, summary: "a local image to a registry (crane push, skopeo copy)" },
  pull: {
    run: runPull,
    help: pullHelp,
    summary: "a registry image into an OCI layout or archive (crane pull)",
  },
  copy: {
    run: runCopy,
    help: copyHelp,
    summary: "an image between registries, layouts and archives (skopeo copy)",
  },
  login: { run: runLogin, help: loginHelp, summary: "check and store registry credentials (docker login)" },
};

export function mainHelp(): string {
  const rows = Object.entries(commands).map(([k, c]) => `  ${k.padEnd(10)}${c.summary}`);
  return `zerodep — zero-dependency deployment of single binaries, proven without running them

Usage: zerodep <command> [options]

Commands:
${rows.join("\n")}

Run 'zerodep <command> --help' for a command's options. Every command takes --json.
Exit codes: 0 ok, 1 a check failed, 2 usage error, 3 bad input or I/O error.`;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return "unknown";
  }
}

/** Runs one command line; returns the exit code. Usage errors print one line and return 2. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    const sub = cmd === "help" ? rest[0] : undefined;
    io.stdout.write((sub && commands[sub] ? commands[sub].help : mainHelp()) + "\n");
    return EXIT.OK;
  }
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    io.stdout.write(`zerodep ${version()}\n`);
    return EXIT.OK;
  }
  const c = commands[cmd];
  if (!c) {
    io.stderr.write(`zerodep: unknown command '${cmd}' (commands: ${Object.keys(commands).join(", ")})\n`);
    return EXIT.USAGE;
  }
  try {
    return await c.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || isParseArgsError(err)) {
      io.stderr.write(`zerodep ${cmd}: ${(err as Error).message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof ZerodepError) {
      io.stderr.write(`zerodep ${cmd}: ${err.message}\n`);
      return EXIT.BAD_INPUT;
    }
    // An operating-system error that no layer below wrapped (a full disk, a file-size limit, a
    // vanished directory): still the user's environment, not our bug — one line, exit 3.
    if (isSystemError(err)) {
      io.stderr.write(`zerodep ${cmd}: ${err.message}\n`);
      return EXIT.BAD_INPUT;
    }
    throw err;
  }
}

function isParseArgsError(err: unknown): boolean {
  const code = (err as { code?: string })?.code ?? "";
  return code.startsWith("ERR_PARSE_ARGS");
}

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | undefined;
  return (
    e instanceof Error &&
    typeof e.code === "string" &&
    /^E[A-Z0-9]+$/.test(e.code) &&
    typeof e.syscall === "string"
  );
}
