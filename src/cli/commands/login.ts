import { UsageError } from "../../errors.js";
import { type LoginResult, login, logout } from "../../registry/login.js";
import type { Invocation } from "../command.js";
import type { LOGIN_FLAGS } from "../defs/login.js";
import type { LOGOUT_FLAGS } from "../defs/logout.js";
import { EXIT } from "../io.js";
import { registryOptions } from "../registry-flags.js";

const MAX_PASSWORD = 64 * 1024;

export async function runLogin({ values, positionals, io }: Invocation<typeof LOGIN_FLAGS>): Promise<number> {
  if (!values.username) throw new UsageError("USAGE", "login: -u USER is required");
  if (!io.stdin) throw new UsageError("USAGE", "login: no standard input to read the password from");
  if (!values["password-stdin"]) {
    // On a terminal: ask, without echo (as docker login does); otherwise the password must be piped.
    if (!isTty(io.stdin))
      throw new UsageError(
        "USAGE",
        "login: --password-stdin is required when standard input is not a terminal",
      );
    const password = await promptHidden(io.stdin, io.stderr, "Password: ");
    return finish(await login(positionals[0]!, values.username, password, registryOptions(values, io)));
  }
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of io.stdin) {
    const b = typeof c === "string" ? Buffer.from(c) : Buffer.from(c);
    n += b.length;
    if (n > MAX_PASSWORD) throw new UsageError("USAGE", "login: the password on stdin is over 64 KiB");
    parts.push(b);
  }
  const password = Buffer.concat(parts)
    .toString("utf8")
    .replace(/\r?\n$/, "");
  return finish(await login(positionals[0]!, values.username, password, registryOptions(values, io)));

  function finish(r: LoginResult): number {
    if (values.json) io.stdout.write(JSON.stringify(r) + "\n");
    else io.stdout.write(`Login succeeded: ${r.username}@${r.registry} (stored in ${r.storedIn})\n`);
    return EXIT.OK;
  }
}

/** What a terminal on standard input offers (process.stdin as a tty.ReadStream). */
interface TtyIn {
  isTTY?: boolean;
  setRawMode?: (raw: boolean) => unknown;
  on(event: "data", f: (chunk: Buffer | string) => void): unknown;
  removeListener(event: "data", f: (chunk: Buffer | string) => void): unknown;
  resume(): unknown;
  pause(): unknown;
}

function isTty(s: unknown): s is TtyIn {
  const t = s as TtyIn;
  return t.isTTY === true && typeof t.setRawMode === "function";
}

/**
 * Reads one line from a terminal with echo off (raw mode: every key comes to us, nothing is echoed):
 * Enter ends it, Backspace edits, Ctrl-C / Ctrl-D abandon it. Bounded like the piped password.
 */
function promptHidden(tty: TtyIn, out: { write(s: string): unknown }, prompt: string): Promise<string> {
  // Echo off before the prompt shows: a fast typist (or a script) answering the prompt must never
  // reach a terminal that still echoes.
  tty.setRawMode!(true);
  out.write(prompt);
  tty.resume();
  let text = "";
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      tty.removeListener("data", onData);
      tty.setRawMode!(false);
      tty.pause();
      out.write("\n");
      if (err) reject(err);
      else resolve(text);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of typeof chunk === "string" ? chunk : chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003" || ch === "\u0004")
          return done(new UsageError("USAGE", "login: no password given (interrupted)"));
        if (ch === "\u007f" || ch === "\b") text = text.slice(0, -1);
        else if (text.length < MAX_PASSWORD) text += ch;
      }
    };
    tty.on("data", onData);
  });
}

export async function runLogout({
  values,
  positionals,
  io,
}: Invocation<typeof LOGOUT_FLAGS>): Promise<number> {
  const r = await logout(positionals[0]!, { env: io.env });
  if (values.json) io.stdout.write(JSON.stringify(r) + "\n");
  else if (r.removedFrom)
    io.stdout.write(`Removed login credentials for ${r.registry} (from ${r.removedFrom})\n`);
  else io.stdout.write(`Not logged in to ${r.registry}\n`);
  return EXIT.OK;
}
