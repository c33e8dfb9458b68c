import { type CheckImageResult, checkImage } from "../../analyze/check-image.js";
import { type CheckResult, check } from "../../check/check.js";
import { UsageError } from "../../errors.js";
import { LibraryCache } from "../../resolve/resolve.js";
import type { Invocation } from "../command.js";
import type { CHECK_FLAGS } from "../defs/check.js";
import { formatProblems } from "../format-deps.js";
import { isImageArg } from "../image-arg.js";
import { forEachFile, LineBuffer } from "../io.js";
import { registryOptions } from "../registry-flags.js";
import { envMap, rootOption } from "../root-option.js";
import { colorWanted, makeStyle, type Style } from "../style.js";

export async function runCheck({ values, positionals, io }: Invocation<typeof CHECK_FLAGS>): Promise<number> {
  if (values.as !== undefined && positionals.length > 1)
    throw new UsageError("USAGE", "check: --as takes one FILE");
  const root = rootOption(values.root, values.target);
  const env = envMap(values.env);
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
      // An image that cannot be read is an error like analyze's or inspect's: on stderr, stdout empty.
      errorsTo: (f) => (isImageArg(f) ? io.stderr : undefined),
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
