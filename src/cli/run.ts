import { clip, UsageError, ZerodepError } from "../errors.js";
import { closest } from "./did-you-mean.js";
import { commandHelp, mainHelp } from "./help.js";
import { type CliIO, EXIT } from "./io.js";
import { parseCommandLine } from "./parse.js";
import { COMMANDS, findCommand } from "./table.js";
import { zerodepVersion } from "./version.js";

export { mainHelp };

/**
 * Runs one command line; returns the exit code. The command's flags are parsed and validated from its
 * definition before its module is loaded: a usage error prints one line and returns 2 with nothing
 * loaded, read or written.
 */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === "help" || cmd === "--help" || cmd === "-h") {
    const sub = cmd === "help" && rest[0] !== undefined ? findCommand(rest[0]) : undefined;
    io.stdout.write(`${sub ? commandHelp(sub) : mainHelp(COMMANDS)}\n`);
    return EXIT.OK;
  }
  if (cmd === "--version" || cmd === "-V" || cmd === "version") {
    io.stdout.write(`zerodep ${zerodepVersion()}\n`);
    return EXIT.OK;
  }
  // Two-word commands ("k8s gen"): the group name, then the subcommand.
  let args = rest;
  let def = findCommand(cmd);
  if (!def && rest[0] !== undefined && COMMANDS.some((c) => c.name.startsWith(`${cmd} `))) {
    def = findCommand(`${cmd} ${rest[0]}`);
    if (def) args = rest.slice(1);
  }
  if (!def) {
    const near = closest(
      cmd,
      COMMANDS.map((c) => c.name),
    );
    io.stderr.write(
      `zerodep: unknown command '${cmd}'${near ? ` (did you mean ${near}?)` : ""}; commands: ${COMMANDS.map((c) => c.name).join(", ")}\n`,
    );
    return EXIT.USAGE;
  }
  try {
    const parsed = parseCommandLine(def, args);
    if (parsed.help) {
      io.stdout.write(`${commandHelp(def)}\n`);
      return EXIT.OK;
    }
    def.check?.(parsed.values as never, parsed.positionals, io.env);
    const run = await def.load();
    return await run({ values: parsed.values as never, positionals: parsed.positionals, io });
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`zerodep ${cmd}: ${clip(err.message, 2000)}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof ZerodepError) {
      // The last guard against a hostile value echoed in full (a megabyte tag or path): one readable line.
      io.stderr.write(`zerodep ${cmd}: ${clip(err.message, 2000)}\n`);
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

function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  const e = err as NodeJS.ErrnoException | undefined;
  return (
    e instanceof Error &&
    typeof e.code === "string" &&
    /^E[A-Z0-9]+$/.test(e.code) &&
    typeof e.syscall === "string"
  );
}
