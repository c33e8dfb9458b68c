import { clip, UsageError } from "../errors.js";
import { type Digest, isDigest } from "./digest.js";

/**
 * A registry image reference, normalised the way Docker does it (distribution/reference
 * ParseNormalizedNamed): "alpine" is docker.io/library/alpine:latest, "user/app" is docker.io/user/app,
 * a first path component with a "." or ":" or equal to "localhost" (or with capitals) is a registry host.
 */
export interface ImageReference {
  /** Registry as the user names it and as credentials are keyed: "docker.io", "localhost:5000", "ghcr.io". */
  registry: string;
  /** Host[:port] the API is served from: Docker Hub's is registry-1.docker.io. */
  apiHost: string;
  /** Repository path: "library/alpine", "team/app". */
  repository: string;
  /** Tag, when the reference names one (or "latest" when it names neither a tag nor a digest). */
  tag: string | undefined;
  /** Digest, when the reference pins one (`@sha256:…`); it wins over the tag for reads. */
  digest: Digest | undefined;
}

export const DOCKER_HUB = "docker.io";
export const DOCKER_HUB_API = "registry-1.docker.io";
const MAX_NAME = 255;

// distribution/reference/regexp.go, restated: path components are lower-case alphanumerics joined by
// one separator ("." "_" "__" or dashes); a domain is DNS labels (any case) with an optional port, or a
// bracketed IPv6 address.
const COMPONENT_RE = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_RE =
  /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const TAG_RE = /^[\w][\w.-]{0,127}$/;

function bad(spec: string, why: string): never {
  throw new UsageError("REFERENCE_INVALID", `"${clip(spec)}": ${clip(why, 400)}`);
}

/** Parses a registry reference (an optional "docker://" prefix is accepted). UsageError REFERENCE_INVALID. */
export function parseReference(input: string): ImageReference {
  const spec = input.startsWith("docker://") ? input.slice("docker://".length) : input;
  if (spec === "") bad(input, "empty image reference");
  let rest = spec;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) bad(input, `digest "${d}" is not sha256:<64 lowercase hex>`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > lastSlash) {
    tag = rest.slice(colon + 1);
    if (!TAG_RE.test(tag)) bad(input, `tag "${tag}" is not valid ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127})`);
    rest = rest.slice(0, colon);
  }
  let registry = DOCKER_HUB;
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (/[.:]/.test(first) || first === "localhost" || first.toLowerCase() !== first) {
      registry = first;
      path = rest.slice(slash + 1);
    }
  }
  if (!DOMAIN_RE.test(registry)) bad(input, `registry "${registry}" is not a host[:port]`);
  if (registry === "index.docker.io") registry = DOCKER_HUB;
  if (registry === DOCKER_HUB && !path.includes("/")) path = `library/${path}`;
  if (path === "") bad(input, "no repository name");
  for (const c of path.split("/")) {
    if (!COMPONENT_RE.test(c)) {
      bad(
        input,
        /[A-Z]/.test(c)
          ? `repository "${path}" must be lower-case`
          : `repository component "${c}" is not valid (lower-case letters, digits, and . _ __ - between them)`,
      );
    }
  }
  if (registry.length + 1 + path.length > MAX_NAME) bad(input, `name is longer than ${MAX_NAME} characters`);
  if (tag === undefined && digest === undefined) tag = "latest";
  return {
    registry,
    apiHost: registry === DOCKER_HUB ? DOCKER_HUB_API : registry,
    repository: path,
    tag,
    digest,
  };
}

/** "host/repo:tag@digest" — the canonical, fully qualified form. */
export function formatReference(r: ImageReference): string {
  return `${r.registry}/${r.repository}${r.tag !== undefined ? `:${r.tag}` : ""}${r.digest ? `@${r.digest}` : ""}`;
}

/** The manifest reference to GET or PUT: the digest when pinned, else the tag. */
export function manifestRef(r: ImageReference): string {
  return r.digest ?? r.tag ?? "latest";
}

/** Hosts that may be spoken to in plain HTTP without --insecure (Docker treats loopback the same way). */
export function isLoopbackHost(hostPort: string): boolean {
  const host = hostPort.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
