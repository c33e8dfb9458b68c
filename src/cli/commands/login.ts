import { UsageError } from "../../errors.js";
import { login, logout } from "../../registry/login.js";
import type { Invocation } from "../command.js";
import type { LOGIN_FLAGS } from "../defs/login.js";
import type { LOGOUT_FLAGS } from "../defs/logout.js";
import { EXIT } from "../io.js";
import { registryOptions } from "../registry-flags.js";

const MAX_PASSWORD = 64 * 1024;

export async function runLogin({ values, positionals, io }: Invocation<typeof LOGIN_FLAGS>): Promise<number> {
  if (!values.username) throw new UsageError("USAGE", "login: -u USER is required");
  if (!values["password-stdin"])
    throw new UsageError("USAGE", "login: --password-stdin is required (pipe the password in)");
  if (!io.stdin) throw new UsageError("USAGE", "login: no standard input to read the password from");
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
  const r = await login(positionals[0]!, values.username, password, registryOptions(values, io));
  if (values.json) io.stdout.write(JSON.stringify(r) + "\n");
  else io.stdout.write(`Login succeeded: ${r.username}@${r.registry} (stored in ${r.storedIn})\n`);
  return EXIT.OK;
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
