import { UsageError } from "../errors.js";
import { DOCKER_HUB, DOCKER_HUB_API } from "../oci/distribution-reference.js";
import { RegistrySession } from "./client.js";
import { dockerConfigPath, eraseCredential, storeCredential } from "./credentials.js";
import type { RegistryOptions } from "./options.js";

export interface LoginResult {
  schemaVersion: 1;
  registry: string;
  username: string;
  /** The file (or docker-credential-* helper) the credential went to. */
  storedIn: string;
}

/** "https://ghcr.io/" / "docker.io" / "localhost:5000" → the registry key and its API host. */
function registryOf(input: string, verb = "login"): { registry: string; apiHost: string } {
  const r = input.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
  if (r === "" || !/^[A-Za-z0-9.-]+(?::\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](?::\d{1,5})?$/.test(r))
    throw new UsageError("USAGE", `${verb}: "${input}" is not a registry host[:port]`);
  const registry = r === "index.docker.io" || r === "registry-1.docker.io" ? DOCKER_HUB : r;
  return { registry, apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API : registry };
}

/**
 * `zerodep login`: checks the user and password against the registry (Basic, or a token from the
 * Bearer realm) and only then stores them where `docker login` would ($REGISTRY_AUTH_FILE when set,
 * else $DOCKER_CONFIG/config.json or ~/.docker/config.json; through its credential helper when the
 * file names one), atomically and with mode 0600. The password is never printed or logged.
 */
export async function login(
  registryInput: string,
  username: string,
  password: string,
  opts: RegistryOptions = {},
): Promise<LoginResult> {
  if (username === "") throw new UsageError("USAGE", "login: empty user name");
  if (password === "") throw new UsageError("USAGE", "login: empty password");
  const { registry, apiHost } = registryOf(registryInput);
  const env = opts.env ?? {};
  const file = env.REGISTRY_AUTH_FILE || dockerConfigPath(env);
  if (!file)
    throw new UsageError(
      "USAGE",
      "login: no HOME, DOCKER_CONFIG or REGISTRY_AUTH_FILE to store credentials in",
    );
  const session = new RegistrySession({
    ...opts,
    credentials: { [registry]: { kind: "basic", username, password } },
  });
  try {
    const client = session.client(registry, apiHost);
    const what = "GET /v2/ with the given credentials";
    const res = await client.request({ method: "GET", path: "/v2/", scopes: [], what });
    if (res.status !== 200) throw await client.fail(res, what);
    res.discard();
  } finally {
    session.close();
  }
  const storedIn = await storeCredential(registry, username, password, {
    file,
    env,
    ...(opts.helperTimeoutMs !== undefined ? { helperTimeoutMs: opts.helperTimeoutMs } : {}),
  });
  return { schemaVersion: 1, registry, username, storedIn };
}

export interface LogoutResult {
  schemaVersion: 1;
  registry: string;
  /** The file (or docker-credential-* helper) the credential was removed from; null when none was stored. */
  removedFrom: string | null;
}

/**
 * `zerodep logout`: forgets the stored credential for a registry, in the file `login` writes to (or
 * through its credential helper). Nothing is sent to the registry.
 */
export async function logout(registryInput: string, opts: RegistryOptions = {}): Promise<LogoutResult> {
  const { registry } = registryOf(registryInput, "logout");
  const env = opts.env ?? {};
  const file = env.REGISTRY_AUTH_FILE || dockerConfigPath(env);
  if (!file)
    throw new UsageError(
      "USAGE",
      "logout: no HOME, DOCKER_CONFIG or REGISTRY_AUTH_FILE to remove credentials from",
    );
  const removedFrom = await eraseCredential(registry, {
    file,
    env,
    ...(opts.helperTimeoutMs !== undefined ? { helperTimeoutMs: opts.helperTimeoutMs } : {}),
  });
  return { schemaVersion: 1, registry, removedFrom };
}
