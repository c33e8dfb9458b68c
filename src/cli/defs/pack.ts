import { UsageError } from "../../errors.js";
import { defineCommand } from "../command.js";
import { OUTPUT, REGISTRY, TRANSFER, UPLOAD } from "../flag-groups.js";
import { bool, envEntry, keyValue, nonEmpty, oneOf, str } from "../flags.js";
import { argvValue, imagePathValue, portValue, signalValue } from "../pack-values.js";

export const PACK_FLAGS = {
  out: str({
    short: "o",
    multiple: true,
    value: "DEST",
    help: "oci:DIR[:TAG] (other images in DIR are kept), oci-archive:FILE[:TAG] (the layout as one tar), docker-archive:FILE[:REPO:TAG] (docker/podman load); repeatable",
    parse: nonEmpty,
  }),
  push: str({
    multiple: true,
    value: "REF",
    help: "push the image to a registry too (after writing every --out, or alone without --out); repeatable: several tags or registries",
    parse: nonEmpty,
  }),
  base: str({
    value: "IMAGE",
    help: "build on an existing image: oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG] or a registry HOST/REPO[:TAG] (layers kept, config merged, media types kept)",
    parse: nonEmpty,
  }),
  path: str({
    value: "/IN/IMAGE",
    help: "the binary's path in the image",
    default: "/app/NAME",
    parse: imagePathValue,
  }),
  "ca-certs": str({
    value: "auto|none|FILE",
    help: "CA bundle (auto: the host's, when the binary loads system roots)",
    default: "auto",
    parse: nonEmpty,
  }),
  tzdata: str({
    value: "auto|all|none",
    help: "/usr/share/zoneinfo (auto: when the binary loads named zones)",
    default: "auto",
    parse: oneOf("auto", "all", "none"),
  }),
  user: str({ value: "U", help: "runtime user", default: "65532:65532", parse: nonEmpty }),
  entrypoint: str({
    multiple: true,
    value: "ARG|JSON",
    help: `entrypoint (default: the binary): one argument per --entrypoint, or a JSON array '["/app/x","-v"]'`,
    parse: argvValue,
  }),
  cmd: str({
    multiple: true,
    value: "ARG|JSON",
    help: `arguments: one per --cmd, or a JSON array '["-addr",":1,2"]' (commas are never split)`,
    parse: argvValue,
  }),
  env: str({ multiple: true, value: "K=V", help: "environment (repeatable)", parse: envEntry }),
  workdir: str({ value: "DIR", help: "working directory", parse: nonEmpty }),
  label: str({ multiple: true, value: "K=V", help: "config label (repeatable)", parse: keyValue }),
  annotation: str({
    multiple: true,
    value: "K=V",
    help: "manifest annotation (repeatable)",
    parse: keyValue,
  }),
  port: str({
    multiple: true,
    value: "PORT[/tcp|udp|sctp]",
    help: "exposed port (repeatable)",
    parse: portValue,
  }),
  "stop-signal": str({ value: "SIG", help: "stop signal: SIGTERM, TERM or 15", parse: signalValue }),
  "bundle-libs": bool({ help: "copy the interpreter and the library closure (zerodep deps) into the image" }),
  "libs-root": str({ value: "DIR", help: "where those libraries come from", default: "/" }),
  force: bool({ help: "write the image even if check says it will not run" }),
  json: { ...OUTPUT.json, help: "what was written (digests, sizes) as JSON" },
  "no-color": OUTPUT["no-color"],
  ...REGISTRY,
  ...TRANSFER,
  ...UPLOAD,
};

export const packCommand = defineCommand({
  name: "pack",
  summary: "a minimal, reproducible OCI image from binaries, no daemon (ko, crane append)",
  usage: [
    "BINARY... --out oci:DIR[:TAG] | oci-archive:FILE[:TAG] | docker-archive:FILE[:REPO:TAG] [options]",
  ],
  description: `A minimal, reproducible OCI image from binaries, without a daemon: the binary at /app/NAME on an empty
(scratch) base, distroless-compatible /etc/passwd and /etc/group (nonroot 65532), /tmp 1777, and the CA
bundle and zoneinfo when the binary needs them. Several binaries for different platforms make a
multi-arch index. The image is checked (zerodep check) before it is written: an entrypoint that cannot
run is refused, with the problem and its fix.`,
  flags: PACK_FLAGS,
  positionals: { min: 1, message: "pack: no BINARY given (see zerodep pack --help)" },
  check: (values, _positionals, env) => {
    if (!values.out && !values.push)
      throw new UsageError(
        "USAGE",
        "pack: --out oci:DIR[:TAG] (or oci-archive:/docker-archive:) or --push REF is required",
      );
    const sde = env.SOURCE_DATE_EPOCH;
    if (sde !== undefined && !/^\d+$/.test(sde))
      throw new UsageError("USAGE", `SOURCE_DATE_EPOCH must be whole seconds (got "${sde}")`);
  },
  notes: "SOURCE_DATE_EPOCH sets every timestamp (default 0): same inputs, same digests.",
  exit: "0 written, 1 refused by check, 3 bad input or I/O error, 2 usage error.",
  load: async () => (await import("../commands/pack.js")).runPack,
});
