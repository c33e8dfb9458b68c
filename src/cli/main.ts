#!/usr/bin/env node
// The only module that touches the process: argv, env, exit code. Everything below takes explicit
// arguments (CONVENTIONS.md #7).
import { ZerodepError } from "../errors.js";
import { runCli } from "./run.js";

const code = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  stdin: process.stdin,
}).catch((err: unknown) => {
  if (err instanceof ZerodepError) {
    process.stderr.write(`zerodep: ${err.message}\n`);
    return 3;
  }
  throw err;
});
process.exitCode = code;
