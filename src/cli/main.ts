#!/usr/bin/env node
// The only module that touches the process: argv, env, exit code. Everything below takes explicit
// arguments (CONVENTIONS.md #7).
import { setFlagsFromString } from "node:v8";
import { ZerodepError } from "../errors.js";
import { removeInterrupted } from "../io/cleanup.js";
import { runCli } from "./run.js";

// A zerodep run lasts seconds. V8's optimising compiler, left to its default inlining budget, builds
// large graphs of our async parsers and spends more CPU compiling them than a run gains from the
// result: a scan of /usr on 2 cores spent about a third of its CPU time compiling (README "Design",
// measured with and without). A smaller cumulative inlining budget keeps the small accessors
// inlined and the big graphs out. Set before any hot code runs; ZERODEP_V8_DEFAULTS=1 opts out.
if (process.env["ZERODEP_V8_DEFAULTS"] !== "1")
  setFlagsFromString("--max-inlined-bytecode-size-cumulative=200");

// Ctrl-C or a TERM from CI: remove the staging directories and temp files of outputs being written
// (the existing outputs are untouched: writers only rename into place when done), say so in one line,
// and exit as shells expect (128 + signal number).
for (const [signal, exit] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.once(signal, () => {
    const removed = removeInterrupted();
    process.stderr.write(
      `\nzerodep: interrupted (${signal})${removed.length ? `; removed ${removed.length} unfinished output(s)` : ""}\n`,
    );
    process.exit(exit);
  });
}

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
