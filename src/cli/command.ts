import type { Flags, FlagValues } from "./flags.js";
import type { CliIO } from "./io.js";

/** What a command's run function receives: typed flag values and the positional arguments. */
export interface Invocation<F extends Flags> {
  values: FlagValues<F>;
  positionals: string[];
  io: CliIO;
}

export type RunFn<F extends Flags> = (inv: Invocation<F>) => Promise<number>;

/**
 * One command of the table. The definition is cheap to load (flags and words only); `load` imports
 * the module that does the work on first use, so `zerodep --help` and a usage error load nothing
 * heavy (the ELF reader, the registry client and the HTML report cost ~170 ms of start-up).
 */
export interface CommandDef<F extends Flags = Flags> {
  name: string;
  summary: string;
  /** Usage lines after "zerodep NAME " (the first is the main form). */
  usage: string[];
  /** Paragraphs of help between the usage and the options. */
  description: string;
  flags: F;
  /** How many positional arguments, and the usage line when the count is wrong. */
  positionals: { min: number; max?: number; message: string };
  /** Text after the options (environment notes). */
  notes?: string;
  /**
   * Checks across flags (one required of two, exclusive flags), run with the parsed values before the
   * module is loaded; throws UsageError.
   */
  check?: (values: FlagValues<F>, positionals: string[], env: NodeJS.ProcessEnv) => void;
  /** The exit-code line of help. */
  exit: string;
  load: () => Promise<RunFn<F>>;
}

export function defineCommand<F extends Flags>(def: CommandDef<F>): CommandDef<F> {
  return def;
}
