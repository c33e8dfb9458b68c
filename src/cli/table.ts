import type { CommandDef } from "./command.js";
import { analyzeCommand } from "./defs/analyze.js";
import { buildCommand } from "./defs/build.js";
import { checkCommand } from "./defs/check.js";
import { depsCommand } from "./defs/deps.js";
import { diffCommand } from "./defs/diff.js";
import { inspectCommand } from "./defs/inspect.js";
import { k8sGenCommand, k8sLintCommand, k8sPolicyCommand } from "./defs/k8s.js";
import { loginCommand } from "./defs/login.js";
import { logoutCommand } from "./defs/logout.js";
import { packCommand } from "./defs/pack.js";
import { scanCommand } from "./defs/scan.js";
import { copyCommand, pullCommand, pushCommand } from "./defs/transfer.js";
import type { Flags } from "./flags.js";

/** Every command, in the order `zerodep --help` lists them. Definitions only: no command module is loaded. */
export const COMMANDS: readonly CommandDef<Flags>[] = [
  inspectCommand,
  scanCommand,
  checkCommand,
  buildCommand,
  packCommand,
  depsCommand,
  analyzeCommand,
  diffCommand,
  k8sGenCommand,
  k8sLintCommand,
  k8sPolicyCommand,
  pushCommand,
  pullCommand,
  copyCommand,
  loginCommand,
  logoutCommand,
] as unknown as CommandDef<Flags>[];

export function findCommand(name: string): CommandDef<Flags> | undefined {
  return COMMANDS.find((c) => c.name === name);
}
