import { UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { OUTPUT, REGISTRY, TRANSFER, UPLOAD } from "../flag-groups.js";
import { bool, envEntry, nonEmpty, oneOf, platformValue, str } from "../flags.js";
import { argvValue } from "../pack-values.js";
import { PACK_FLAGS } from "./pack.js";

/** "SRC:DST" (DST absolute in the image); the last colon splits, so a Windows-free SRC may hold colons. */
function addValue(raw: string, flag: string): { src: string; dst: string } {
  const i = raw.lastIndexOf(":");
  const src = raw.slice(0, i);
  const dst = raw.slice(i + 1);
  if (i <= 0 || !dst.startsWith("/") || dst === "/")
    throw new UsageError("USAGE", `${flag} wants SRC:/PATH/IN/IMAGE (got "${raw}")`);
  if (dst.split("/").includes("..")) throw new UsageError("USAGE", `${flag}: "${dst}" must not contain ..`);
  return { src, dst };
}

/** A comma-separated list (tags, platforms), each part checked by `each`. */
function listOf(each: (raw: string, flag: string) => string) {
  return (raw: string, flag: string): string[] => raw.split(",").map((p) => each(p.trim(), flag));
}

const P = PACK_FLAGS;
export const BUILD_FLAGS = {
  out: P.out,
  push: {
    ...P.push,
    help: "push the image to a registry (REGISTRY/REPO[:TAG]); repeatable; default $ZERODEP_REPO/NAME",
  },
  tag: str({
    short: "t",
    multiple: true,
    value: "TAG[,TAG]",
    help: "tags for every destination without one (registries get each, files the first); templates allowed, e.g. {{.Version}}",
    parse: listOf(nonEmpty),
  }),
  platform: str({
    multiple: true,
    value: "OS/ARCH[,…]|all",
    help: "platforms to build (all: the base image's)",
    default: "this machine's",
    parse: (raw: string, flag: string) => (raw === "all" ? ["all"] : listOf(platformValue)(raw, flag)),
  }),
  base: P.base,
  split: bool({ help: "one image per program (REPO/NAME, or tag NAME in a layout) instead of all in one" }),
  version: str({
    value: "V",
    help: "the version: labels, annotations, {{.Version}} (default: the git tag at HEAD)",
    parse: nonEmpty,
  }),
  ldflags: str({
    multiple: true,
    value: "FLAGS",
    help: `more -ldflags, templates filled: '-X main.version={{.Version}}'`,
    parse: nonEmpty,
  }),
  "build-flag": str({
    multiple: true,
    value: "ARG",
    help: "more go build / cargo build arguments, e.g. -tags=netgo",
    parse: nonEmpty,
  }),
  "build-env": str({
    multiple: true,
    value: "K=V",
    help: "compiler environment (CC=…, GOEXPERIMENT=…)",
    parse: envEntry,
  }),
  cgo: str({
    value: "auto|off|static|bundle",
    help: "cgo: auto (static when a package needs it), off (refuse), static, bundle (dynamic + libraries)",
    default: "auto",
    parse: oneOf("auto", "off", "static", "bundle"),
  }),
  "no-strip": bool({ help: "keep symbols and DWARF (no -s -w)" }),
  "no-trimpath": bool({ help: "keep absolute source paths in the binary" }),
  add: str({
    multiple: true,
    value: "SRC:/DST",
    help: "a file or directory copied into the image (own layer)",
    parse: addValue,
  }),
  args: str({
    multiple: true,
    value: "ARG|JSON",
    help: `arguments after the entrypoint: one per --args, or a JSON array '["-addr",":8080"]'`,
    parse: argvValue,
  }),
  dir: str({ short: "C", value: "DIR", help: "the project directory", default: ".", parse: nonEmpty }),
  "bin-dir": str({
    value: "DIR",
    help: "keep the built binaries in DIR/OS-ARCH/ (default: removed after packing)",
    parse: nonEmpty,
  }),
  "ca-certs": P["ca-certs"],
  tzdata: P.tzdata,
  user: P.user,
  entrypoint: P.entrypoint,
  env: { ...P.env, help: "image environment (repeatable)" },
  workdir: P.workdir,
  label: P.label,
  annotation: P.annotation,
  port: P.port,
  "stop-signal": P["stop-signal"],
  force: P.force,
  json: { ...OUTPUT.json, help: "what was built and written (binaries, commands, digests) as JSON" },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
  ...TRANSFER,
  ...UPLOAD,
};

export const buildCommand = defineCommand({
  name: "build",
  summary: "Go or Rust source to a minimal, checked OCI image in one command (ko build)",
  usage: [
    "[TARGET...] --out oci:DIR[:TAG] | --push REGISTRY/REPO [-t TAG]... [--platform P,…|all] [options]",
  ],
  description: `Builds Go packages (import paths, directories, ./cmd/...) or Cargo binaries with your own toolchain, for
each platform in parallel, and packs them as pack does: one image with every program (or one each with
--split), runtime files and programs in separate layers, checked before it is written. Go defaults:
CGO_ENABLED=0, -trimpath, -buildvcs=auto, -ldflags "-s -w"; a package that needs cgo is linked
statically (musl-gcc) instead of refused. Rust: the musl target. The version (git tag or --version),
created time (SOURCE_DATE_EPOCH, else the commit time) and revision are the same in -X templates,
labels and annotations.`,
  flags: BUILD_FLAGS,
  positionals: { min: 0, message: "" },
  check: (_values, _positionals, env) => {
    const sde = env.SOURCE_DATE_EPOCH;
    if (sde !== undefined && !/^\d+$/.test(sde))
      throw new UsageError("USAGE", `SOURCE_DATE_EPOCH must be whole seconds (got "${sde}")`);
  },
  notes:
    "ZERODEP_REPO is the default repository (like KO_DOCKER_REPO): the image is pushed to $ZERODEP_REPO/NAME.",
  exit: "0 built and written, 1 refused by check, 3 compile error, bad input or I/O error, 2 usage error.",
  load: async () => (await import("../commands/build.js")).runBuild,
});
