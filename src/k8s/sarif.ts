import type { K8sFinding } from "./types.js";

/** A rule as SARIF's tool.driver.rules lists it. */
export interface SarifRule {
  id: string;
  /** One line: what the rule checks. */
  description: string;
  /** Where the rule is documented (README anchor or the upstream standard). */
  helpUri?: string;
}

/**
 * A SARIF 2.1.0 log for lint findings: one run, the rules that fired (and any others given), one result
 * per finding with its file and, when known, the line and column of the offending field. File paths are
 * relative URIs when relative (uriBaseId %SRCROOT%), as GitHub code scanning expects. Deterministic:
 * findings keep their order, rules are sorted by id.
 */
export function toSarif(
  findings: readonly K8sFinding[],
  opts: { version: string; rules?: readonly SarifRule[]; informationUri?: string },
): object {
  const byId = new Map<string, SarifRule>();
  for (const r of opts.rules ?? []) byId.set(r.id, r);
  for (const f of findings) if (!byId.has(f.rule)) byId.set(f.rule, { id: f.rule, description: f.rule });
  const rules = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const uri = (file: string) => {
    if (file === "-") return { uri: "stdin" };
    const u = encodeURI(file.replace(/\\/g, "/"));
    return file.startsWith("/") ? { uri: `file://${u}` } : { uri: u, uriBaseId: "%SRCROOT%" };
  };
  return {
    $schema: "https://json.schemastore.org/sarif-2.1.0.json",
    version: "2.1.0",
    runs: [
      {
        tool: {
          driver: {
            name: "zerodep",
            version: opts.version,
            informationUri: opts.informationUri ?? "https://github.com/zerodep/zerodep",
            rules: rules.map((r) => ({
              id: r.id,
              shortDescription: { text: r.description },
              ...(r.helpUri ? { helpUri: r.helpUri } : {}),
            })),
          },
        },
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: index.get(f.rule)!,
          level: f.level,
          message: { text: f.fix ? `${f.message} (fix: ${f.fix})` : f.message },
          locations: [
            {
              physicalLocation: {
                artifactLocation: uri(f.file),
                ...(f.position
                  ? { region: { startLine: f.position.line, startColumn: f.position.column } }
                  : {}),
              },
              logicalLocations: [
                {
                  name: f.field,
                  fullyQualifiedName: `${f.document.kind}/${f.document.name}#${f.document.index}:${f.field}`,
                  kind: "member",
                },
              ],
            },
          ],
        })),
      },
    ],
  };
}
