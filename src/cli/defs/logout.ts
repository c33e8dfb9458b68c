import { defineCommand } from "../command.js";
import { OUTPUT } from "../flag-groups.js";

export const LOGOUT_FLAGS = {
  json: { ...OUTPUT.json, help: "{schemaVersion, registry, removedFrom}" },
  "no-color": OUTPUT["no-color"],
};

export const logoutCommand = defineCommand({
  name: "logout",
  summary: "forget stored registry credentials (docker logout)",
  usage: ["REGISTRY [--json]"],
  description: `Removes the credential zerodep login stored for REGISTRY: from $REGISTRY_AUTH_FILE when set, else
$DOCKER_CONFIG/config.json or ~/.docker/config.json (through its credsStore/credHelpers helper's
"erase" when it names one). The file is replaced atomically, other entries kept. Nothing is sent to the
registry. Not being logged in is not an error.`,
  flags: LOGOUT_FLAGS,
  positionals: { min: 1, max: 1, message: "logout: expected one REGISTRY (see zerodep logout --help)" },
  exit: "0 done (or nothing was stored), 2 usage error, 3 the credentials file cannot be read or written.",
  load: async () => (await import("../commands/login.js")).runLogout,
});
