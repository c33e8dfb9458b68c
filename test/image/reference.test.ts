// The one image-reference parser (src/image/reference.ts), table-driven. Expected values come from the
// grammars, cited per row, not from zerodep's output:
//   [D-tag]   Docker tag, distribution/reference regexp.go: tag := [\w][\w.-]{0,127}
//   [D-name]  Docker name, regexp.go + ParseNormalizedNamed (lower-case path components, domain rules,
//             docker.io/library/ for a bare name, ":latest" when neither tag nor digest)
//   [OCI-ref] image-spec annotations.md, org.opencontainers.image.ref.name:
//             ref ::= component ("/" component)*; component ::= alphanum (separator alphanum)*;
//             alphanum ::= [A-Za-z0-9]+; separator ::= [-._:@+] | "--"
//   [digest]  image-spec descriptor.md: algorithm ":" encoded; sha256 is 64 lower-case hex
// A tag of oci:/oci-archive: must satisfy [D-tag] AND [OCI-ref] (it is an index.json ref.name that can
// also be pushed). skopeo (containers/image oci/internal.ValidateImageName) is the anchor for [OCI-ref]
// and is asked below about the same strings.
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { UsageError } from "../../src/errors.js";
import { formatImageRef, type ImageRef, parseImageArg, parseImageRef } from "../../src/image/reference.js";
import type { Digest } from "../../src/oci/digest.js";
import { needs, run } from "../helpers/env.js";

const T128 = `v${"1".repeat(127)}`;
const T129 = `v${"1".repeat(128)}`;
const HEX = "a".repeat(64);
const DIGEST: Digest = `sha256:${HEX}`;

const reg = (registry: string, repository: string, tag: string | undefined, digest?: Digest) => ({
  transport: "registry" as const,
  reference: {
    registry,
    apiHost: registry === "docker.io" ? "registry-1.docker.io" : registry,
    repository,
    tag,
    digest,
  },
});

/** input, the value, its canonical form. */
const VALID: [string, ImageRef, string][] = [
  ["oci:dir", { transport: "oci", dir: "dir", tag: undefined }, "oci:dir"],
  ["oci:dir:v1", { transport: "oci", dir: "dir", tag: "v1" }, "oci:dir:v1"],
  // [D-tag] and [OCI-ref]: runs of alphanumerics joined by single . _ -
  [
    "oci:/out/img:1.0.3-rc_1",
    { transport: "oci", dir: "/out/img", tag: "1.0.3-rc_1" },
    "oci:/out/img:1.0.3-rc_1",
  ],
  // [OCI-ref] separator "--"; [D-tag] allows any run of '-'
  ["oci:dir:a--b", { transport: "oci", dir: "dir", tag: "a--b" }, "oci:dir:a--b"],
  // [D-tag] upper case allowed in tags
  ["oci:dir:V1.Latest", { transport: "oci", dir: "dir", tag: "V1.Latest" }, "oci:dir:V1.Latest"],
  // [D-tag] at most 128 characters
  [`oci:dir:${T128}`, { transport: "oci", dir: "dir", tag: T128 }, `oci:dir:${T128}`],
  // The tag follows the LAST ':'; a trailing ':' says "no tag" (a path that contains ':').
  ["oci:/srv/a:b/img:v2", { transport: "oci", dir: "/srv/a:b/img", tag: "v2" }, "oci:/srv/a:b/img:v2"],
  ["oci:/srv/a:b/img:", { transport: "oci", dir: "/srv/a:b/img", tag: undefined }, "oci:/srv/a:b/img:"],
  ["oci:dir:", { transport: "oci", dir: "dir", tag: undefined }, "oci:dir"],
  [
    "oci-archive:img.tar",
    { transport: "oci-archive", file: "img.tar", tag: undefined },
    "oci-archive:img.tar",
  ],
  [
    "oci-archive:img.tar:v1",
    { transport: "oci-archive", file: "img.tar", tag: "v1" },
    "oci-archive:img.tar:v1",
  ],
  [
    "oci-archive:/srv/backup:v2:",
    { transport: "oci-archive", file: "/srv/backup:v2", tag: undefined },
    "oci-archive:/srv/backup:v2:",
  ],
  // docker-archive: REPO[:TAG] per [D-name]/[D-tag], ":latest" added as docker save/load and skopeo do.
  [
    "docker-archive:img.tar",
    { transport: "docker-archive", file: "img.tar", repoTag: undefined },
    "docker-archive:img.tar",
  ],
  [
    "docker-archive:img.tar:app:v1",
    { transport: "docker-archive", file: "img.tar", repoTag: "app:v1" },
    "docker-archive:img.tar:app:v1",
  ],
  [
    "docker-archive:img.tar:app",
    { transport: "docker-archive", file: "img.tar", repoTag: "app:latest" },
    "docker-archive:img.tar:app:latest",
  ],
  [
    "docker-archive:/srv/x:y",
    { transport: "docker-archive", file: "/srv/x", repoTag: "y:latest" },
    "docker-archive:/srv/x:y:latest",
  ],
  [
    "docker-archive:img.tar:team/app:1.0",
    { transport: "docker-archive", file: "img.tar", repoTag: "team/app:1.0" },
    "docker-archive:img.tar:team/app:1.0",
  ],
  // [D-name] a domain may carry a port and capitals
  [
    "docker-archive:img.tar:localhost:5000/app:v1",
    { transport: "docker-archive", file: "img.tar", repoTag: "localhost:5000/app:v1" },
    "docker-archive:img.tar:localhost:5000/app:v1",
  ],
  [
    "docker-archive:img.tar:Registry.Example.com/app:v1",
    { transport: "docker-archive", file: "img.tar", repoTag: "Registry.Example.com/app:v1" },
    "docker-archive:img.tar:Registry.Example.com/app:v1",
  ],
  [
    "docker-archive:/srv/x:y/img.tar:app:v1",
    { transport: "docker-archive", file: "/srv/x:y/img.tar", repoTag: "app:v1" },
    "docker-archive:/srv/x:y/img.tar:app:v1",
  ],
  [
    "docker-archive:/srv/x:y:",
    { transport: "docker-archive", file: "/srv/x:y", repoTag: undefined },
    "docker-archive:/srv/x:y:",
  ],
  // [D-name] normalisation; docker:// is only a prefix
  ["alpine", reg("docker.io", "library/alpine", "latest"), "docker.io/library/alpine:latest"],
  ["docker://alpine:3.19", reg("docker.io", "library/alpine", "3.19"), "docker.io/library/alpine:3.19"],
  ["localhost:5000/a/b:t", reg("localhost:5000", "a/b", "t"), "localhost:5000/a/b:t"],
  [`ghcr.io/o/x@sha256:${HEX}`, reg("ghcr.io", "o/x", undefined, DIGEST), `ghcr.io/o/x@sha256:${HEX}`],
  [
    `docker://127.0.0.1:5000/x:1@sha256:${HEX}`,
    reg("127.0.0.1:5000", "x", "1", DIGEST),
    `127.0.0.1:5000/x:1@sha256:${HEX}`,
  ],
];

/** input, error code, and the rule it breaks. */
const INVALID: [string, string, string][] = [
  ["oci:dir:Bad/Tag", "IMAGE_REF_INVALID", "[D-tag] no '/' in a tag"],
  ["oci:dir:v1,latest", "IMAGE_REF_INVALID", "[D-tag] and [OCI-ref]: ',' is in neither"],
  [`oci:dir:${T129}`, "IMAGE_REF_INVALID", "[D-tag] at most 128 characters"],
  ["oci:dir:-bad", "IMAGE_REF_INVALID", "[D-tag] first character is [\\w]"],
  ["oci:dir:v1-", "IMAGE_REF_INVALID", "[OCI-ref] a component ends with alphanum"],
  ["oci:dir:_x", "IMAGE_REF_INVALID", "[OCI-ref] a component starts with alphanum"],
  ["oci:dir:a..b", "IMAGE_REF_INVALID", "[OCI-ref] one separator between alphanums"],
  [
    "oci:/srv/a:b/img",
    "IMAGE_REF_INVALID",
    "[D-tag] 'b/img' after the last ':' is no tag (write oci:/srv/a:b/img:)",
  ],
  ["oci:", "IMAGE_REF_INVALID", "empty path"],
  ["oci::v1", "IMAGE_REF_INVALID", "empty path"],
  ["oci::", "IMAGE_REF_INVALID", "empty path"],
  ["oci-archive:", "IMAGE_REF_INVALID", "empty path"],
  ["oci-archive::", "IMAGE_REF_INVALID", "empty path"],
  ["oci-archive:img.tar:-bad", "IMAGE_REF_INVALID", "[D-tag]"],
  ["oci-archive:img.tar:Bad/Tag", "IMAGE_REF_INVALID", "[D-tag]"],
  ["docker-archive:", "IMAGE_REF_INVALID", "empty path"],
  ["docker-archive::", "IMAGE_REF_INVALID", "empty path"],
  ["docker-archive::app:v1", "IMAGE_REF_INVALID", "empty path"],
  ["docker-archive:img.tar:app:Bad/Tag", "IMAGE_REF_INVALID", "[D-tag] / [D-name]"],
  [
    "docker-archive:/srv/backup:2024.tar",
    "IMAGE_REF_INVALID",
    "no REPO:TAG after the ':' (write /srv/backup:2024.tar:)",
  ],
  ["docker-archive:img.tar:MyApp:v1", "REPO_TAG_INVALID", "[D-name] repository path is lower case"],
  ["Alpine", "REFERENCE_INVALID", "[D-name] lower case"],
  ["docker://", "REFERENCE_INVALID", "[D-name] empty"],
  ["x/y:v1,latest", "REFERENCE_INVALID", "[D-tag]"],
  [`x/y:${T129}`, "REFERENCE_INVALID", "[D-tag] at most 128 characters"],
  ["x/y@sha256:abc", "REFERENCE_INVALID", "[digest] 64 hex"],
  [`x/y@sha256:${HEX.toUpperCase()}`, "REFERENCE_INVALID", "[digest] lower-case hex"],
  [`x/y@md5:${HEX}`, "REFERENCE_INVALID", "[digest] sha256 only"],
];

describe("parseImageRef", () => {
  test("valid references: the value and its canonical form, which parses back to the same value", () => {
    for (const [input, want, canonical] of VALID) {
      const got = parseImageRef(input);
      assert.deepEqual(got, want, input);
      assert.ok(Object.isFrozen(got), `${input}: the value is immutable`);
      assert.equal(formatImageRef(got), canonical, input);
      assert.deepEqual(parseImageRef(canonical), want, `${input}: ${canonical} parses back`);
    }
  });

  test("invalid references: one-line UsageError with a stable code", () => {
    for (const [input, code, rule] of INVALID) {
      assert.throws(
        () => parseImageRef(input),
        (e: unknown) => {
          assert.ok(e instanceof UsageError, `${input}: UsageError`);
          assert.equal(e.code, code, `${input} (${rule}): ${e.message}`);
          assert.ok(!e.message.includes("\n"), `${input}: one line`);
          return true;
        },
        `${input} should be refused (${rule})`,
      );
    }
  });

  test("an IMAGE argument that is no registry name lists every form (openImage's message)", () => {
    assert.throws(
      () => parseImageArg("Alpine"),
      (e: UsageError) =>
        e.code === "IMAGE_REF_INVALID" &&
        e.message.startsWith('"Alpine": expected oci:DIR[:TAG], oci-archive:FILE[:TAG]') &&
        e.message.includes("lower-case"),
    );
  });
});

describe("the oci: tag rule agrees with skopeo (containers/image ValidateImageName)", () => {
  const skip = needs({ tools: ["skopeo"] });
  const work = join(tmpdir(), `zd-ref-${process.pid}-${Date.now().toString(36)}`);
  after(() => rmSync(work, { recursive: true, force: true }));

  /** skopeo's verdict on the tag syntax: an empty layout makes an accepted name fail later, differently. */
  function skopeoAccepts(dir: string, tag: string): boolean {
    const r = run("skopeo", ["inspect", "--raw", `oci:${dir}:${tag}`], { allowFail: true });
    assert.notEqual(r.status, 0);
    if (r.stderr.includes("Invalid image")) return false;
    assert.match(r.stderr, /no descriptor found for reference/, r.stderr);
    return true;
  }

  test("accepted and refused alike, except where Docker's tag grammar is stricter", {
    skip,
    timeout: 60_000,
  }, () => {
    const dir = join(work, "empty");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
    writeFileSync(join(dir, "index.json"), '{"schemaVersion":2,"manifests":[]}');
    const zerodepAccepts = (tag: string) => {
      try {
        parseImageRef(`oci:${dir}:${tag}`);
        return true;
      } catch (e) {
        if (e instanceof UsageError) return false;
        throw e;
      }
    };
    for (const tag of [
      "v1",
      "1.0.3-rc_1",
      "a--b",
      "V1.Latest",
      T128,
      "v1,latest",
      "v1-",
      "_x",
      "a..b",
      "-bad",
    ]) {
      assert.equal(zerodepAccepts(tag), skopeoAccepts(dir, tag), `tag "${tag.slice(0, 20)}"`);
    }
    // Where the anchors differ: [OCI-ref] allows '/' and any length, [D-tag] neither. zerodep keeps the
    // intersection so that a layout tag can also be pushed as a registry tag.
    for (const tag of ["Bad/Tag", T129]) {
      assert.equal(skopeoAccepts(dir, tag), true, tag.slice(0, 20));
      assert.equal(zerodepAccepts(tag), false, tag.slice(0, 20));
    }
  });

  test("registry and docker-archive names skopeo refuses are refused too (no network: parsing fails first)", {
    skip,
    timeout: 60_000,
  }, () => {
    const specs = [
      "docker://x/y:v1,latest",
      "docker://x/y@sha256:abc",
      "docker://Alpine",
      `docker://x/y:${T129}`,
      "docker-archive:f.tar:MyApp:v1",
    ];
    for (const spec of specs) {
      const r = run("skopeo", ["inspect", "--raw", spec], { allowFail: true });
      assert.notEqual(r.status, 0, spec);
      assert.match(r.stderr, /invalid reference format/, `${spec}: ${r.stderr}`);
      assert.throws(() => parseImageRef(spec), UsageError, spec);
    }
  });
});
