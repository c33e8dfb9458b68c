#!/usr/bin/env node
// The only module that touches the process: argv, env, exit code. Everything below takes explicit
// arguments (CONVENTIONS.md #7).
import { setFlagsFromString } from "node:v8";
import { ZerodepError } from "../errors.js";
import { runCli } from "./run.js";

// A zerodep run lasts seconds. V8's optimising compiler, left to its default inlining budget, builds
// large graphs of our async parsers and spends more CPU compiling them than a run gains from the
// result: a scan of /usr on 2 cores spent about a third of its CPU time compiling (README "Design",
// measured with and without). A smaller cumulative inlining budget keeps the small accessors
// inlined and the big graphs out. Set before any hot code runs; ZERODEP_V8_DEFAULTS=1 opts out.
if (process.env["ZERODEP_V8_DEFAULTS"] !== "1")
  setFlagsFromString("--max-inlined-bytecode-size-cumulative=200");

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
