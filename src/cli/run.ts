import { readFileSync } from "node:fs";
import { UsageError, ZerodepError } from "../errors.js";
import { type CliIO, EXIT } from "./io.js";

interface Command {
  run: (args: string[], io: CliIO) => Promise<number>;
  help: string;
}

/**
 * Commands are imported on first use: loading every module (the ELF reader, the registry client, the
 * HTML report …) cost ~170 ms of start-up on every invocation, more than many commands take to run.
 */
const commands: Record<string, { load: () => Promise<Command>; summary: string }> = {
  inspect: {
    load: async () => {
      const m = await import("./commands/inspect.js");
      return { run: m.runInspect, help: m.inspectHelp };
    },
    summary: "what a binary is and needs (file + readelf + checksec + go version -m)",
  },
  scan: {
    load: async () => {
      const m = await import("./commands/scan.js");
      return { run: m.runScan, help: m.scanHelp };
    },
    summary: "find and inspect every binary under directories (scanelf -R)",
  },
  check: {
    load: async () => {
      const m = await import("./commands/check.js");
      return { run: m.runCheck, help: m.checkHelp };
    },
    summary: "will it run there (a root, scratch, an image): a verdict with every problem and its fix",
  },
  pack: {
    load: async () => {
      const m = await import("./commands/pack.js");
      return { run: m.runPack, help: m.packHelp };
    },
    summary: "a minimal, reproducible OCI image from binaries, no daemon (ko, crane append)",
  },
  deps: {
    load: async () => {
      const m = await import("./commands/deps.js");
      return { run: m.runDeps, help: m.depsHelp };
    },
    summary: "shared-library closure as the loader resolves it in a root (ldd, lddtree)",
  },
  analyze: {
    load: async () => {
      const m = await import("./commands/analyze.js");
      return { run: m.runAnalyze, help: m.analyzeHelp };
    },
    summary:
      "what is in an image, what it wastes (dive's and honest figures), whether it runs; --html report",
  },
  diff: {
    load: async () => {
      const m = await import("./commands/diff.js");
      return { run: m.runDiff, help: m.diffHelp };
    },
    summary: "files (content, sizes, modes) and config changed between two images (container-diff)",
  },
  push: {
    load: async () => {
      const m = await import("./commands/copy.js");
      return { run: m.runPush, help: m.pushHelp };
    },
    summary: "a local image to a registry (crane push, skopeo copy)",
  },
  pull: {
    load: async () => {
      const m = await import("./commands/copy.js");
      return { run: m.runPull, help: m.pullHelp };
    },
    summary: "a registry image into an OCI layout or archive (crane pull)",
  },
  copy: {
    load: async () => {
      const m = await import("./commands/copy.js");
      return { run: m.runCopy, help: m.copyHelp };
    },
    summary: "an image between registries, layouts and archives (skopeo copy)",
  },
  login: {
    load: async () => {
      const m = await import("./commands/login.js");
      return { run: m.runLogin, help: m.loginHelp };
    },
    summary: "check and store registry credentials (docker login)",
  },
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
    io.stdout.write((sub && commands[sub] ? (await commands[sub].load()).help : mainHelp()) + "\n");
    return EXIT.OK;
  }
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    io.stdout.write(`zerodep ${version()}\n`);
    return EXIT.OK;
  }
  const entry = commands[cmd];
  if (!entry) {
    io.stderr.write(`zerodep: unknown command '${cmd}' (commands: ${Object.keys(commands).join(", ")})\n`);
    return EXIT.USAGE;
  }
  try {
    const c = await entry.load();
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
