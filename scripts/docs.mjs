// npm run docs: rewrites the README's generated blocks (the command table and each command's options,
// between <!-- flags:NAME --> markers) from the command definitions in src/cli/defs/. Run after
// `npm run build`; test/cli/docs.test.ts fails when the README and the definitions differ.
import { readFileSync, writeFileSync } from "node:fs";

const { updateReadme } = await import("../dist/src/cli/docs.js");
const { COMMANDS } = await import("../dist/src/cli/table.js");
const path = new URL("../README.md", import.meta.url);
const before = readFileSync(path, "utf8");
const { text, missing } = updateReadme(before, COMMANDS);
if (missing.length > 0) {
  console.error(`README.md lacks the generated block(s): ${missing.map((m) => `<!-- ${m} -->`).join(", ")}`);
  process.exitCode = 1;
}
if (text !== before) {
  writeFileSync(path, text);
  console.log("README.md: generated blocks rewritten");
} else console.log("README.md: generated blocks up to date");
