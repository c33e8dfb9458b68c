import { parseArgs } from "node:util";
import { UsageError } from "../../errors.js";
import { login } from "../../registry/login.js";
import { type CliIO, EXIT } from "../io.js";
import { REGISTRY_FLAGS, REGISTRY_FLAGS_HELP, registryOptions } from "../registry-flags.js";

export const loginHelp = `Usage: zerodep login REGISTRY -u USER --password-stdin [options]

Checks the credentials against the registry (Basic or the Bearer token flow) and stores them where
docker login does: $REGISTRY_AUTH_FILE when set, else $DOCKER_CONFIG/config.json or
~/.docker/config.json (through its credsStore/credHelpers helper when it names one). The file is
replaced atomically, mode 0600; the password is never printed.

Options:
  -u, --username USER   user name
  --password-stdin      read the password from standard input (the only way: argv is visible to others)
${REGISTRY_FLAGS_HELP}
  --json                {schemaVersion, registry, username, storedIn}
Exit: 0 logged in, 2 usage error, 3 credentials refused, registry or network error.`;

const MAX_PASSWORD = 64 * 1024;

export async function runLogin(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      ...REGISTRY_FLAGS,
      username: { type: "string", short: "u" },
      "password-stdin": { type: "boolean" },
      json: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(loginHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length !== 1)
    throw new UsageError("USAGE", "login: expected one REGISTRY (see zerodep login --help)");
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
