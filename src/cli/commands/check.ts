import { parseArgs } from "node:util";
import { type CheckResult, check } from "../../check/check.js";
import { type CheckImageResult, checkImage } from "../../check/check-image.js";
import { UsageError } from "../../errors.js";
import { LibraryCache } from "../../resolve/resolve.js";
import { formatProblems } from "../format-deps.js";
import { isImageArg } from "../image-arg.js";
import { type CliIO, EXIT, forEachFile, LineBuffer } from "../io.js";
import { REGISTRY_FLAGS, REGISTRY_FLAGS_HELP, registryOptions } from "../registry-flags.js";
import { colorWanted, makeStyle, type Style } from "../style.js";
import { envOption, rootOption } from "./deps.js";

export const checkHelp = `Usage: zerodep check FILE... [--root DIR | --target scratch] [--strict] [--json]
       zerodep check IMAGE... [--platform OS/ARCH] [--env K=V] [--strict] [--json]

Will this binary run there? A verdict with every problem found, each with a stable code, the error the
program would hit, and the fix: missing interpreter (the scratch/Alpine "no such file or directory"),
glibc binary on a musl root and the reverse, missing library, missing symbol version, wrong
architecture or OS, and the runtime files a static binary looks for (CA certificates, zoneinfo,
/etc/passwd and /etc/group, resolver files, NSS modules, a writable /tmp).

An IMAGE (oci:DIR[:TAG], oci-archive:FILE[:TAG], docker-archive:FILE[:REPO:TAG], or a registry
reference HOST/REPO[:TAG|@DIGEST], docker://NAME for Docker Hub) is judged by its
entrypoint (Entrypoint, else Cmd, found along the image's PATH) against the image's own file tree and
Env, streamed from its layers without extracting anything.

Options:
  --root DIR          the root file system (default /)
  --target scratch    an empty root (what FROM scratch gives you)
  --as PATH           where the binary sits inside the root (default: its path there, else /app/NAME)
  --env K=V           the target's environment (LD_LIBRARY_PATH, SSL_CERT_FILE, ZONEINFO, TMPDIR …)
  --platform OS/ARCH  the target platform (default: this machine's, e.g. linux/amd64)
  --strict            runtime-file needs (warnings) fail the check too
  --json              one JSON object per FILE (schema: README "check --json")
With a registry IMAGE:
${REGISTRY_FLAGS_HELP}

Exit: 0 it will run, 1 it will not (or a warning with --strict), 3 a FILE cannot be read, 2 usage error.`;

export async function runCheck(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      root: { type: "string" },
      target: { type: "string" },
      as: { type: "string" },
      env: { type: "string", multiple: true },
      platform: { type: "string" },
      strict: { type: "boolean" },
      ...REGISTRY_FLAGS,
      json: { type: "boolean" },
      "no-color": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    io.stdout.write(checkHelp + "\n");
    return EXIT.OK;
  }
  if (positionals.length === 0)
    throw new UsageError("USAGE", "check: no FILE given (see zerodep check --help)");
  if (values.as !== undefined && positionals.length > 1)
    throw new UsageError("USAGE", "check: --as takes one FILE");
  if (values.platform !== undefined && !/^[a-z0-9]+\/[a-z0-9]+(\/[a-z0-9]+)?$/.test(values.platform)) {
    throw new UsageError("USAGE", `--platform wants OS/ARCH, e.g. linux/arm64 (got "${values.platform}")`);
  }
  const root = rootOption(values.root, values.target);
  const env = envOption(values.env);
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const out = new LineBuffer(io.stdout);
  const cache = new LibraryCache();
  return forEachFile(
    positionals,
    out,
    {
      json: values.json === true,
      keyName: "path",
      errorLine: (f, msg) => `${st.bold(f)}  ${st.red("error:")} ${msg}\n`,
    },
    async (f) => {
      if (isImageArg(f)) {
        if (values.root !== undefined || values.target !== undefined || values.as !== undefined)
          throw new UsageError("USAGE", `check: ${f} is an image: --root, --target and --as apply to files`);
        const r = await checkImage(f, {
          platform: values.platform,
          env,
          strict: values.strict === true,
          image: { registry: registryOptions(values, io) },
        });
        return { ok: r.runnable, text: values.json ? JSON.stringify(r) + "\n" : formatCheck(r, st) };
      }
      const r = await check(f, {
        root,
        location: values.as,
        env,
        platform: values.platform,
        strict: values.strict === true,
        cache,
      });
      return { ok: r.runnable, text: values.json ? JSON.stringify(r) + "\n" : formatCheck(r, st) };
    },
  );
}

/** Verdict line, then problems with fixes, then the runtime needs that are met. */
function formatCheck(r: CheckResult, st: Style): string {
  const counts = (sev: string) => r.problems.filter((p) => p.severity === sev).length;
  const verdict = r.runnable ? st.green("will run") : st.red("will NOT run");
  const extra = [
    counts("error") ? `${counts("error")} error(s)` : "",
    counts("warning") ? `${counts("warning")} warning(s)` : "",
    counts("info") ? `${counts("info")} note(s)` : "",
  ].filter(Boolean);
  const tail = `${verdict}${extra.length ? ` — ${extra.join(", ")}` : ""}`;
  const img = "image" in r ? (r as CheckImageResult) : null;
  // An image: its name, the program the runtime starts, and the platforms when they differ.
  const head = img
    ? `${st.bold(img.image)}${img.location ? ` → ${img.location}` : ""}${img.imagePlatform && img.imagePlatform.split("/")[1] !== img.target.arch ? ` (${img.imagePlatform} image on a ${img.target.os}/${img.target.arch} target)` : ""}`
    : `${st.bold(r.path)} in ${r.root} (as ${r.location})`;
  const lines = [`${head}: ${tail}`];
  lines.push(...formatProblems(r.problems, st));
  for (const n of r.needs)
    if (n.satisfied) lines.push(`  ${st.green("✓")} ${n.kind}: ${n.foundAt ?? "satisfied"}`);
  return lines.join("\n") + "\n";
}
