import { clip, UsageError, ZerodepError } from "../errors.js";
import { normalizeRepoTag, REPO_TAG_ANY_CASE_RE, REPO_TAG_RE } from "../oci/archive.js";
import { formatReference, type ImageReference, parseReference } from "../oci/distribution-reference.js";

/*
 * One image reference type for every medium zerodep reads from or writes to. A string is parsed once,
 * at the edge (the CLI, or a library entry point given a string); everything below takes the value.
 *
 *   oci:DIR[:TAG]                    an OCI image layout directory
 *   oci-archive:FILE[:TAG]           a tar of one (skopeo's and podman's oci-archive:)
 *   docker-archive:FILE[:REPO:TAG]   a `docker save` tarball
 *   [docker://]HOST/REPO[:TAG|@DIGEST]  a registry (Docker's normalisation, src/oci/distribution-reference.ts)
 *
 * Splitting a path from its tag: skopeo splits at the FIRST ':' (containers/image
 * oci/internal.SplitPathAndImage), which cannot name a path with ':' at all; zerodep keeps its own rule,
 * documented in the README "Image references": the tag of oci:/oci-archive: is what follows the LAST
 * ':', a docker-archive: REPO:TAG starts at the first ':' after which a valid one follows, and a
 * trailing ':' means "no tag" — the one way to write a path that contains ':'. What follows a ':' must be
 * a valid tag: "oci:dir:Bad/Tag" is a usage error, never a directory "dir:Bad/Tag".
 */

export interface OciLayoutRef {
  readonly transport: "oci";
  readonly dir: string;
  /** The layout entry's org.opencontainers.image.ref.name; undefined: the only image (read) / untagged (write). */
  readonly tag: string | undefined;
}

export interface OciArchiveRef {
  readonly transport: "oci-archive";
  readonly file: string;
  readonly tag: string | undefined;
}

export interface DockerArchiveRef {
  readonly transport: "docker-archive";
  readonly file: string;
  /** "repo:tag" as in manifest.json RepoTags (":latest" added when the reference named no tag). */
  readonly repoTag: string | undefined;
}

export interface RegistryRef {
  readonly transport: "registry";
  readonly reference: Readonly<ImageReference>;
}

export type FileImageRef = OciLayoutRef | OciArchiveRef | DockerArchiveRef;
export type ImageRef = FileImageRef | RegistryRef;
export type Transport = ImageRef["transport"];

const FILE_TRANSPORTS = ["oci", "oci-archive", "docker-archive"] as const;

/**
 * A tag in oci:/oci-archive: is an index.json ref.name, so it must satisfy two grammars at once:
 * - Docker's tag grammar, distribution/reference `[\w][\w.-]{0,127}` (what a registry accepts when the
 *   image is pushed under that tag), and
 * - the image-spec's org.opencontainers.image.ref.name grammar (annotations.md: ref ::= component
 *   ("/" component)*, component ::= alphanum (separator alphanum)*, separator ::= [-._:@+] | "--"),
 *   which skopeo enforces ("Invalid image v1-"), as does LayoutWriter (REF_NAME_INVALID).
 * Their intersection: alphanumeric runs joined by one of - . _ or by "--", at most 128 characters.
 */
const LAYOUT_TAG_RE = /^[A-Za-z0-9]+(?:(?:[-._]|--)[A-Za-z0-9]+)*$/;
const MAX_TAG = 128;

function invalid(spec: string, why: string): never {
  // The spec is echoed clipped: a hostile megabyte tag must not become a megabyte error line.
  throw new UsageError("IMAGE_REF_INVALID", `"${clip(spec)}": ${clip(why, 400)}`);
}

/** The transport a string names, from its prefix alone (no validation): anything unprefixed is a registry name. */
export function transportOf(spec: string): Transport {
  for (const t of FILE_TRANSPORTS) if (spec.startsWith(`${t}:`)) return t;
  return "registry";
}

/** Whether `tag` can name an image in an OCI layout or oci-archive (see LAYOUT_TAG_RE). */
export function isLayoutTag(tag: string): boolean {
  return tag.length <= MAX_TAG && LAYOUT_TAG_RE.test(tag);
}

function checkLayoutTag(spec: string, tag: string, what: string): void {
  if (tag.length > MAX_TAG) invalid(spec, `tag "${tag.slice(0, 20)}…" is longer than ${MAX_TAG} characters`);
  if (!LAYOUT_TAG_RE.test(tag)) {
    invalid(
      spec,
      `tag "${tag}" is not valid (letters, digits, and one of . _ - or -- between them); end with ':' if ':' is part of the ${what}`,
    );
  }
}

/** oci:DIR[:TAG] and oci-archive:FILE[:TAG]: the tag follows the last ':'; a trailing ':' means none. */
function splitPathTag(spec: string, rest: string, what: string): { path: string; tag: string | undefined } {
  const at = rest.lastIndexOf(":");
  const path = at < 0 ? rest : rest.slice(0, at);
  const tag = at < 0 || at === rest.length - 1 ? undefined : rest.slice(at + 1);
  if (path === "") invalid(spec, `the ${what} name is empty`);
  if (tag !== undefined) checkLayoutTag(spec, tag, what);
  return { path, tag };
}

/**
 * docker-archive:FILE[:REPO[:TAG]]: the split is at the first ':' after which a valid reference
 * follows (a registry port is allowed: "img.tar:localhost:5000/app:v1"). A REPO without TAG gets
 * ":latest" (as docker and skopeo do) but counts only when it is a plain name without '/' or '.', so
 * that "img.tar:app" names app:latest while a ':' followed by something that is no reference is an
 * error rather than part of the file name.
 */
function splitDockerArchive(spec: string, rest: string): { file: string; repoTag: string | undefined } {
  if (rest.endsWith(":")) {
    const file = rest.slice(0, -1);
    if (file === "") invalid(spec, "the file name is empty");
    return { file, repoTag: undefined };
  }
  const first = rest.indexOf(":");
  if (first < 0) return { file: rest, repoTag: undefined };
  if (first === 0) invalid(spec, "the file name is empty");
  for (let at = first; at > 0; at = rest.indexOf(":", at + 1)) {
    const suffix = rest.slice(at + 1);
    const m = REPO_TAG_RE.exec(suffix);
    const plain = m !== null && (m[2] !== undefined || /^[a-z0-9_-]+$/.test(suffix));
    // normalizeRepoTag throws REPO_TAG_INVALID for the capitals the second pattern lets through.
    if (plain || REPO_TAG_ANY_CASE_RE.test(suffix))
      return { file: rest.slice(0, at), repoTag: normalizeRepoTag(suffix).full };
  }
  return invalid(
    spec,
    `"${rest.slice(first + 1)}" is not a valid REPO:TAG (e.g. myapp:1.0); end with ':' if ':' is part of the file name`,
  );
}

/**
 * Parses an image reference, validating it completely; nothing is touched on disk or network.
 * UsageError: IMAGE_REF_INVALID (bad tag, empty path), REPO_TAG_INVALID (docker-archive REPO:TAG),
 * REFERENCE_INVALID (registry names, with the registry parser's message).
 */
export function parseImageRef(spec: string): ImageRef {
  const transport = transportOf(spec);
  const rest = spec.slice(transport.length + 1);
  let ref: ImageRef;
  switch (transport) {
    case "oci": {
      if (rest === "") invalid(spec, "the directory name is empty");
      const { path, tag } = splitPathTag(spec, rest, "directory");
      ref = { transport, dir: path, tag };
      break;
    }
    case "oci-archive": {
      if (rest === "") invalid(spec, "the file name is empty");
      const { path, tag } = splitPathTag(spec, rest, "file");
      ref = { transport, file: path, tag };
      break;
    }
    case "docker-archive": {
      if (rest === "") invalid(spec, "the file name is empty");
      ref = { transport, ...splitDockerArchive(spec, rest) };
      break;
    }
    case "registry":
      ref = { transport, reference: Object.freeze(parseReference(spec)) };
      break;
  }
  return Object.freeze(ref);
}

/**
 * parseImageRef for an IMAGE argument read from (check, inspect, analyze, diff, copy/push SRC, --base):
 * a registry name that does not parse gets the message listing every form, as openImage always gave.
 */
export function parseImageArg(spec: string): ImageRef {
  try {
    return parseImageRef(spec);
  } catch (e) {
    if (!(e instanceof ZerodepError) || e.code !== "REFERENCE_INVALID") throw e;
    throw new UsageError(
      "IMAGE_REF_INVALID",
      `"${clip(spec)}": expected oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG] or a registry reference HOST/REPO[:TAG] (${e.message.replace(/^"[^"]*": /, "")})`,
      { cause: e },
    );
  }
}

/**
 * The canonical string of a reference; parseImageRef(formatImageRef(r)) equals r. A path containing
 * ':' with no tag gets the trailing ':' that says "no tag". A registry reference is fully qualified
 * (docker.io/library/alpine:latest), without docker://.
 */
export function formatImageRef(ref: ImageRef): string {
  const noTag = (path: string) => (path.includes(":") ? ":" : "");
  switch (ref.transport) {
    case "oci":
      return `oci:${ref.dir}${ref.tag !== undefined ? `:${ref.tag}` : noTag(ref.dir)}`;
    case "oci-archive":
      return `oci-archive:${ref.file}${ref.tag !== undefined ? `:${ref.tag}` : noTag(ref.file)}`;
    case "docker-archive":
      return `docker-archive:${ref.file}${ref.repoTag !== undefined ? `:${ref.repoTag}` : noTag(ref.file)}`;
    case "registry":
      return formatReference(ref.reference);
  }
}

/** Library entry points accept a string (parsed here, once) or an already parsed value. */
export function toImageRef(ref: string | ImageRef, parse: (s: string) => ImageRef = parseImageRef): ImageRef {
  return typeof ref === "string" ? parse(ref) : ref;
}

/** How a reference is shown in results and messages: the caller's own spelling when it gave a string. */
export function imageRefName(ref: string | ImageRef): string {
  return typeof ref === "string" ? ref : formatImageRef(ref);
}

export function isFileImageRef(ref: ImageRef): ref is FileImageRef {
  return ref.transport !== "registry";
}
