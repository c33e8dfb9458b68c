import { spawn } from "node:child_process";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { IoError, ParseError } from "../errors.js";
import { DOCKER_HUB } from "../oci/distribution-reference.js";

/** What a registry accepts from us: a user and password (or token as password), or an OAuth2 refresh token. */
export type Credential =
  | { kind: "basic"; username: string; password: string }
  | { kind: "identityToken"; token: string; username?: string };

/** Where credentials were found, for `--json` and messages (never the secret itself). */
export interface CredentialOrigin {
  credential: Credential;
  /** "docker-credential-pass", "/home/u/.docker/config.json", "explicit" … */
  source: string;
}

/**
 * Where credentials come from. The library never reads process.env: the CLI passes its environment
 * here (DOCKER_CONFIG, REGISTRY_AUTH_FILE, XDG_RUNTIME_DIR, XDG_CONFIG_HOME, HOME, PATH for helpers).
 */
export interface CredentialOptions {
  env?: Record<string, string | undefined>;
  /** Credentials by registry host, tried before any file ("explicit"). */
  credentials?: Record<string, Credential>;
  /** How long a docker-credential-* helper may take (default 30 s). */
  helperTimeoutMs?: number;
}

/** The Docker Hub key `docker login` writes into config.json. */
const DOCKER_HUB_KEY = "https://index.docker.io/v1/";
const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

interface AuthFile {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

/**
 * The auth files in the order they are consulted, the order containers/image (podman, skopeo) uses:
 * $REGISTRY_AUTH_FILE, $XDG_RUNTIME_DIR/containers/auth.json, $XDG_CONFIG_HOME (~/.config)/containers/auth.json,
 * then Docker's $DOCKER_CONFIG/config.json (~/.docker/config.json). The first file with an entry for the
 * registry wins.
 */
export function authFilePaths(env: Record<string, string | undefined>): string[] {
  const out: string[] = [];
  if (env.REGISTRY_AUTH_FILE) out.push(env.REGISTRY_AUTH_FILE);
  if (env.XDG_RUNTIME_DIR) out.push(join(env.XDG_RUNTIME_DIR, "containers", "auth.json"));
  const cfgHome = env.XDG_CONFIG_HOME || (env.HOME ? join(env.HOME, ".config") : undefined);
  if (cfgHome) out.push(join(cfgHome, "containers", "auth.json"));
  const docker = dockerConfigPath(env);
  if (docker) out.push(docker);
  return out;
}

/** $DOCKER_CONFIG/config.json, else ~/.docker/config.json (undefined without HOME). */
export function dockerConfigPath(env: Record<string, string | undefined>): string | undefined {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, "config.json");
  return env.HOME ? join(env.HOME, ".docker", "config.json") : undefined;
}

/** "https://host/v1/" → "host"; Docker Hub's legacy keys → "docker.io". */
export function normalizeAuthKey(key: string): string {
  let k = key.replace(/^[a-z]+:\/\//i, "");
  if (k.endsWith("/")) k = k.slice(0, -1);
  k = k.replace(/\/v[12]$/, "");
  if (k === "index.docker.io" || k === "registry-1.docker.io" || k === "index.docker.io/v1")
    return DOCKER_HUB;
  return k;
}

async function readAuthFile(path: string): Promise<AuthFile | undefined> {
  let text: string;
  try {
    const fh = await open(path, "r");
    try {
      const st = await fh.stat();
      if (st.size > MAX_CONFIG_BYTES) throw new ParseError("AUTH_FILE_TOO_LARGE", `${path}: over 4 MiB`);
      text = await fh.readFile("utf8");
    } finally {
      await fh.close();
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR")
      return undefined;
    if (e instanceof ParseError) throw e;
    throw new IoError("AUTH_FILE_UNREADABLE", `${path}: ${(e as Error).message}`, { cause: e });
  }
  try {
    const j = JSON.parse(text) as AuthFile;
    return typeof j === "object" && j !== null ? j : {};
  } catch (e) {
    // The parser's message can quote the file's bytes (a secret): say only where.
    throw new ParseError("AUTH_FILE_INVALID", `${path}: not valid JSON`, undefined, { cause: e });
  }
}

/** The entry for `registry`/`repository` in an auths map: the most specific key wins (podman allows host/namespace keys). */
function findAuthEntry(auths: NonNullable<AuthFile["auths"]>, registry: string, repository?: string) {
  const byKey = new Map<string, (typeof auths)[string]>();
  for (const [k, v] of Object.entries(auths))
    if (v && typeof v === "object") byKey.set(normalizeAuthKey(k), v);
  const candidates: string[] = [];
  if (repository) {
    const parts = repository.split("/");
    for (let i = parts.length; i > 0; i--) candidates.push(`${registry}/${parts.slice(0, i).join("/")}`);
  }
  candidates.push(registry);
  for (const c of candidates) {
    const hit = byKey.get(c);
    if (hit) return hit;
  }
  return undefined;
}

function decodeEntry(e: NonNullable<AuthFile["auths"]>[string], where: string): Credential | undefined {
  if (typeof e.identitytoken === "string" && e.identitytoken !== "") {
    return { kind: "identityToken", token: e.identitytoken };
  }
  if (typeof e.auth === "string" && e.auth !== "") {
    const plain = Buffer.from(e.auth, "base64").toString("utf8");
    const i = plain.indexOf(":");
    if (i <= 0)
      throw new ParseError("AUTH_FILE_INVALID", `${where}: an "auth" value is not base64 of user:password`);
    return { kind: "basic", username: plain.slice(0, i), password: plain.slice(i + 1) };
  }
  if (typeof e.username === "string" && typeof e.password === "string") {
    return { kind: "basic", username: e.username, password: e.password };
  }
  return undefined;
}

/**
 * Runs `docker-credential-<name> get` with the server URL on stdin (the docker-credential-helpers
 * protocol): {"Username","Secret"}; Username "<token>" means Secret is an identity (refresh) token.
 * "credentials not found" is no credential, not an error.
 */
export async function runCredentialHelper(
  name: string,
  action: "get" | "store" | "erase",
  input: string,
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number },
): Promise<string | undefined> {
  if (!/^[A-Za-z0-9._-]+$/.test(name))
    throw new ParseError("CREDENTIAL_HELPER_INVALID", `credential helper name "${name}" is not a plain name`);
  const bin = `docker-credential-${name}`;
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [action], {
      env: Object.fromEntries(Object.entries(opts.env ?? {}).filter(([, v]) => v !== undefined)) as Record<
        string,
        string
      >,
      stdio: ["pipe", "pipe", "pipe"],
    });
    const out: Buffer[] = [];
    let outLen = 0;
    child.stdout.on("data", (b: Buffer) => {
      outLen += b.length;
      if (outLen <= 1 << 20) out.push(b);
    });
    child.stderr.resume();
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new IoError(
          "CREDENTIAL_HELPER_TIMEOUT",
          `${bin} ${action}: no answer within ${(opts.timeoutMs ?? 30_000) / 1000} s`,
        ),
      );
    }, opts.timeoutMs ?? 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(
        new IoError(
          "CREDENTIAL_HELPER_FAILED",
          (e as NodeJS.ErrnoException).code === "ENOENT"
            ? `${bin}: not found on PATH`
            : `${bin}: ${e.message}`,
          { cause: e },
        ),
      );
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const text = Buffer.concat(out).toString("utf8");
      if (code === 0) return resolve(text);
      if (action === "get" && /credentials not found/i.test(text)) return resolve(undefined);
      // Helpers print only a short reason; never their stdin (the secret on store).
      reject(new IoError("CREDENTIAL_HELPER_FAILED", `${bin} ${action} exited ${code}`));
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

async function fromHelper(
  helper: string,
  registry: string,
  opts: CredentialOptions,
): Promise<Credential | undefined> {
  // Docker Hub is stored under its legacy URL by `docker login`.
  const server = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const text = await runCredentialHelper(helper, "get", server, {
    env: opts.env,
    timeoutMs: opts.helperTimeoutMs,
  });
  if (text === undefined || text.trim() === "") return undefined;
  let j: { Username?: unknown; Secret?: unknown };
  try {
    j = JSON.parse(text) as typeof j;
  } catch (e) {
    throw new ParseError(
      "CREDENTIAL_HELPER_FAILED",
      `docker-credential-${helper} get: answer is not JSON`,
      undefined,
      {
        cause: e,
      },
    );
  }
  if (typeof j.Secret !== "string" || j.Secret === "") return undefined;
  if (j.Username === "<token>") return { kind: "identityToken", token: j.Secret };
  return { kind: "basic", username: typeof j.Username === "string" ? j.Username : "", password: j.Secret };
}

/**
 * The credential for a registry (and optionally a repository, for podman's per-namespace entries):
 * explicit credentials first, then each auth file in authFilePaths order; in a file, credHelpers[host]
 * first, then credsStore, then the auths entry (Docker's order). Undefined: go anonymous.
 */
export async function findCredential(
  registry: string,
  repository: string | undefined,
  opts: CredentialOptions,
): Promise<CredentialOrigin | undefined> {
  const explicit = opts.credentials?.[registry];
  if (explicit) return { credential: explicit, source: "explicit" };
  for (const path of authFilePaths(opts.env ?? {})) {
    const file = await readAuthFile(path);
    if (!file) continue;
    const helpers = file.credHelpers && typeof file.credHelpers === "object" ? file.credHelpers : {};
    const helperKey = Object.keys(helpers).find((k) => normalizeAuthKey(k) === registry);
    if (helperKey !== undefined && typeof helpers[helperKey] === "string") {
      const c = await fromHelper(helpers[helperKey], registry, opts);
      if (c) return { credential: c, source: `docker-credential-${helpers[helperKey]}` };
      continue;
    }
    if (typeof file.credsStore === "string" && file.credsStore !== "") {
      const c = await fromHelper(file.credsStore, registry, opts);
      if (c) return { credential: c, source: `docker-credential-${file.credsStore}` };
    }
    const auths = file.auths && typeof file.auths === "object" ? file.auths : {};
    const entry = findAuthEntry(auths, registry, repository);
    if (entry) {
      const c = decodeEntry(entry, path);
      if (c) return { credential: c, source: path };
    }
  }
  return undefined;
}

/**
 * Saves a credential for `registry` the way `docker login` does: through the file's credHelpers[host]
 * or credsStore helper when it names one, else base64 "user:password" in auths[host]. The file is
 * rewritten atomically (temp + rename, mode 0600) and every other key in it is kept. Returns where it went.
 */
export async function storeCredential(
  registry: string,
  username: string,
  password: string,
  opts: { file: string; env?: Record<string, string | undefined>; helperTimeoutMs?: number },
): Promise<string> {
  const file = opts.file;
  const current = (await readAuthFile(file)) ?? {};
  const key = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const helpers = current.credHelpers && typeof current.credHelpers === "object" ? current.credHelpers : {};
  const helperKey = Object.keys(helpers).find((k) => normalizeAuthKey(k) === registry);
  const helper = helperKey !== undefined ? helpers[helperKey] : current.credsStore;
  if (typeof helper === "string" && helper !== "") {
    await runCredentialHelper(
      helper,
      "store",
      JSON.stringify({ ServerURL: key, Username: username, Secret: password }),
      {
        env: opts.env,
        timeoutMs: opts.helperTimeoutMs,
      },
    );
    return `docker-credential-${helper}`;
  }
  const auths = current.auths && typeof current.auths === "object" ? { ...current.auths } : {};
  for (const k of Object.keys(auths)) if (normalizeAuthKey(k) === registry && k !== key) delete auths[k];
  auths[key] = { auth: Buffer.from(`${username}:${password}`, "utf8").toString("base64") };
  const next = { ...current, auths };
  await writeFileAtomic(file, `${JSON.stringify(next, null, "\t")}\n`);
  return file;
}

/**
 * Removes the credential for `registry` the way `docker logout` does: through the credential helper the
 * file names for it (`erase`), else every auths entry whose key normalises to the registry (the file
 * rewritten atomically, other keys kept). Returns where it was removed from, or null when nothing was
 * stored for it.
 */
export async function eraseCredential(
  registry: string,
  opts: { file: string; env?: Record<string, string | undefined>; helperTimeoutMs?: number },
): Promise<string | null> {
  const current = await readAuthFile(opts.file);
  if (!current) return null;
  const key = registry === DOCKER_HUB ? DOCKER_HUB_KEY : registry;
  const helpers = current.credHelpers && typeof current.credHelpers === "object" ? current.credHelpers : {};
  const helperKey = Object.keys(helpers).find((k) => normalizeAuthKey(k) === registry);
  const helper = helperKey !== undefined ? helpers[helperKey] : current.credsStore;
  if (typeof helper === "string" && helper !== "") {
    await runCredentialHelper(helper, "erase", key, { env: opts.env, timeoutMs: opts.helperTimeoutMs });
    return `docker-credential-${helper}`;
  }
  const auths = current.auths && typeof current.auths === "object" ? { ...current.auths } : {};
  const mine = Object.keys(auths).filter((k) => normalizeAuthKey(k) === registry);
  if (mine.length === 0) return null;
  for (const k of mine) delete auths[k];
  await writeFileAtomic(opts.file, `${JSON.stringify({ ...current, auths }, null, "\t")}\n`);
  return opts.file;
}

async function writeFileAtomic(file: string, text: string): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = join(dirname(file), `.${Date.now()}-${process.pid}.zerodep-tmp`);
  try {
    const fh = await open(tmp, "wx", 0o600);
    try {
      await fh.writeFile(text, "utf8");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new IoError("AUTH_FILE_WRITE_FAILED", `${file}: ${(e as Error).message}`, { cause: e });
  }
}
