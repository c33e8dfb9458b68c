import { UsageError } from "../errors.js";
import type { BuildCode } from "./codes.js";
import type { GitInfo } from "./git.js";

/** The values an -ldflags or tag template can name (README "zerodep build", templates). */
export interface TemplateData {
  version: string | null;
  git: GitInfo | null;
  /** RFC 3339 time of the build's `created` (SOURCE_DATE_EPOCH, else the commit time). */
  date: string;
  env: Record<string, string | undefined>;
}

/**
 * Fills `{{.Version}}`, `{{.Git.Tag}}`, `{{.Git.ShortCommit}}`, `{{.Git.FullCommit}}`,
 * `{{.Git.CommitTimestamp}}`, `{{.Date}}` and `{{.Env.NAME}}` (ko's and goreleaser's names). A field
 * that has no value (no git, no tag) is an error naming it, not an empty string baked into a binary.
 */
export function renderTemplate(text: string, data: TemplateData, what: string): string {
  const bad = (msg: string): never => {
    throw new UsageError("BAD_TEMPLATE" satisfies BuildCode, `${what}: ${msg} in "${text}"`);
  };
  const out = text.replace(/\{\{\s*([^}]*?)\s*\}\}/g, (_m, field: string) => {
    const env = /^\.Env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(field);
    if (env) {
      const v = data.env[env[1]!];
      return v ?? bad(`{{${field}}}: ${env[1]} is not set`);
    }
    const needGit = () => data.git ?? bad(`{{${field}}}: not a git work tree`);
    switch (field) {
      case ".Version":
        return data.version ?? bad("{{.Version}}: no version (tag the commit, or pass --version)");
      case ".Date":
        return data.date;
      case ".Git.Tag":
        return needGit().tag ?? bad("{{.Git.Tag}}: no tag points at HEAD");
      case ".Git.ShortCommit":
        return needGit().shortCommit;
      case ".Git.FullCommit":
        return needGit().commit;
      case ".Git.CommitTimestamp":
        return String(needGit().commitTime);
      default:
        return bad(
          `unknown field {{${field}}} (known: .Version, .Date, .Git.Tag, .Git.ShortCommit, .Git.FullCommit, .Git.CommitTimestamp, .Env.NAME)`,
        );
    }
  });
  if (out.includes("{{") || out.includes("}}")) bad("unbalanced {{ }}");
  return out;
}
