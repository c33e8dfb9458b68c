// npm's `prepare`: compiles the TypeScript sources to dist/.
//
// npm runs prepare on `npm install` in a clone (dev dependencies present), and for
// `npm install -g <git url>` (npm installs the dev dependencies in its temporary clone first). But
// `npm install -g .` (or `npm install -g <folder>`) links the folder and runs prepare there WITHOUT
// installing dev dependencies, so plain `tsc` is "not found" and the global install fails. Then we
// install them ourselves from the committed lock file (`npm ci`, nothing outside this folder) and
// compile. Users of a registry tarball never get here: it ships dist/ and npm does not run prepare.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env });
  if (r.error) throw r.error;
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (!existsSync(tsc)) {
  console.error("prepare: typescript is not installed here (a global install of a folder?): npm ci first");
  // The child must act on this folder, not on the global prefix this npm was started for.
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (/^npm_config_(global|location|prefix)$/i.test(k)) delete env[k];
  }
  const npm = process.env.npm_execpath;
  const npmCmd = npm ? [process.execPath, [npm]] : ["npm", []];
  run(npmCmd[0], [...npmCmd[1], "ci", "--include=dev", "--ignore-scripts", "--no-audit", "--no-fund"], env);
}
run(process.execPath, [tsc, "-p", "tsconfig.json"]);
