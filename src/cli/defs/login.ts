import { defineCommand } from "../command.js";
import { OUTPUT, REGISTRY } from "../flag-groups.js";
import { bool, nonEmpty, str } from "../flags.js";

export const LOGIN_FLAGS = {
  username: str({ short: "u", value: "USER", help: "user name", parse: nonEmpty }),
  "password-stdin": bool({
    help: "read the password from standard input (piped); without it, a terminal is asked with echo off. Never on argv: others can see it",
  }),
  json: { ...OUTPUT.json, help: "{schemaVersion, registry, username, storedIn}" },
  ...REGISTRY,
};

export const loginCommand = defineCommand({
  name: "login",
  summary: "check and store registry credentials (docker login)",
  usage: ["REGISTRY -u USER [--password-stdin] [options]"],
  description: `Checks the credentials against the registry (Basic or the Bearer token flow) and stores them where
docker login does: $REGISTRY_AUTH_FILE when set, else $DOCKER_CONFIG/config.json or
~/.docker/config.json (through its credsStore/credHelpers helper when it names one). The file is
replaced atomically, mode 0600; the password is never printed.`,
  flags: LOGIN_FLAGS,
  positionals: { min: 1, max: 1, message: "login: expected one REGISTRY (see zerodep login --help)" },
  exit: "0 logged in, 2 usage error, 3 credentials refused, registry or network error.",
  load: async () => (await import("../commands/login.js")).runLogin,
});
