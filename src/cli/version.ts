import { readFileSync } from "node:fs";

/** zerodep's own version, from package.json ("unknown" when it cannot be read). */
export function zerodepVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as {
      version: string;
    };
    return pkg.version;
  } catch {
    return "unknown";
  }
}
