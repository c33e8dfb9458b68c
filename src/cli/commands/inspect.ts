import { inspectImage } from "../../analyze/inspect-image.js";
import { UsageError } from "../../errors.js";
import { inspectFile } from "../../inspect/inspect.js";
import type { Invocation } from "../command.js";
import type { INSPECT_FLAGS } from "../defs/inspect.js";
import { formatInspect } from "../format-inspect.js";
import { isImageArg } from "../image-arg.js";
import { EXIT, LineBuffer } from "../io.js";
import { registryOptions } from "../registry-flags.js";
import { colorWanted, makeStyle } from "../style.js";

export async function runInspect({
  values,
  positionals,
  io,
}: Invocation<typeof INSPECT_FLAGS>): Promise<number> {
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const out = new LineBuffer(io.stdout);
  let failed = false;
  for (const p of positionals) {
    const isImage = isImageArg(p);
    if (!isImage && (values.path !== undefined || values.platform !== undefined))
      throw new UsageError("USAGE", `inspect: --path and --platform apply to images; ${p} is a file`);
    const results = isImage
      ? await inspectImage(p, {
          ...(values.path ? { paths: values.path } : {}),
          ...(values.platform ? { platform: values.platform } : {}),
          image: { registry: registryOptions(values, io) },
        })
      : [await inspectFile(p)];
    for (const r of results) {
      if (r.error) failed = true;
      if (values.json) out.push(JSON.stringify(r) + "\n");
      else
        out.push(
          formatInspect(r, st, { verbose: values.verbose === true, sections: values.sections === true }),
        );
    }
  }
  out.flush();
  return failed ? EXIT.BAD_INPUT : EXIT.OK;
}
