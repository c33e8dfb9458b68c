import { resolve } from "node:path";
import { ZerodepError } from "../../errors.js";
import { writeFileAtomic } from "../../io/write.js";
import { generateManifests, type ResourceAmounts } from "../../k8s/gen.js";
import { LEVEL_RANK, type LintResult, lintManifests } from "../../k8s/lint.js";
import { gatekeeperConstraints, kyvernoPolicy } from "../../k8s/policy.js";
import { toSarif } from "../../k8s/sarif.js";
import type { FindingLevel } from "../../k8s/types.js";
import type { Invocation } from "../command.js";
import type { K8S_GEN_FLAGS, K8S_LINT_FLAGS, K8S_POLICY_FLAGS } from "../defs/k8s.js";
import { EXIT } from "../io.js";
import { registryOptions } from "../registry-flags.js";
import { colorWanted, makeStyle } from "../style.js";
import { zerodepVersion } from "../version.js";

const MAX_STDIN = 16 << 20;

async function readStdin(io: Invocation<typeof K8S_LINT_FLAGS>["io"]): Promise<string> {
  if (!io.stdin) throw new ZerodepError("MANIFEST_INVALID", "-: no standard input");
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of io.stdin) {
    const b = typeof c === "string" ? Buffer.from(c) : Buffer.from(c);
    n += b.length;
    if (n > MAX_STDIN)
      throw new ZerodepError("MANIFEST_INVALID", `-: more than ${MAX_STDIN} bytes on standard input`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export async function runK8sLint({
  values,
  positionals,
  io,
}: Invocation<typeof K8S_LINT_FLAGS>): Promise<number> {
  const st = makeStyle(!values["no-color"] && colorWanted(io.stdout.isTTY, io.env));
  const say = io.stderr.isTTY ? (m: string) => io.stderr.write(st.dim(`${m}\n`)) : undefined;
  const inputs: { file: string; text?: string }[] = [];
  for (const p of positionals)
    inputs.push(p === "-" ? { file: "-", text: await readStdin(io) } : { file: p });
  const r: LintResult = await lintManifests(inputs, {
    level: values.level ?? "restricted",
    version: values["psa-version"] ?? "latest",
    images: !values["no-images"],
    ...(values.image ? { imageMap: Object.fromEntries(values.image) } : {}),
    registry: registryOptions(values, io, say),
    ...(say ? { log: say } : {}),
  });
  const failOn = values["fail-on"] ?? "error";
  const failed =
    failOn !== "none" && r.findings.some((f) => LEVEL_RANK[f.level] >= LEVEL_RANK[failOn as FindingLevel]);
  if (values.sarif) {
    const text = `${JSON.stringify(toSarif(r.findings, { version: zerodepVersion() }), null, 2)}\n`;
    if (values.sarif === "-") {
      io.stdout.write(text);
      return failed ? EXIT.VERDICT_FAILED : EXIT.OK;
    }
    await writeFileAtomic(resolve(io.cwd, values.sarif), text);
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify(r)}\n`);
    return failed ? EXIT.VERDICT_FAILED : EXIT.OK;
  }
  const color: Record<FindingLevel, (s: string) => string> = {
    error: st.red,
    warning: st.yellow,
    note: st.dim,
  };
  const where = (f: LintResult["findings"][number]) =>
    `${f.file}:${f.position ? `${f.position.line}:${f.position.column}` : "?"}`;
  const w = Math.max(0, ...r.findings.map((f) => where(f).length));
  for (const f of r.findings) {
    io.stdout.write(
      `${where(f).padEnd(w)}  ${color[f.level](f.level.padEnd(7))} ${f.rule}  ${f.document.kind}/${f.document.name || "?"}: ${f.message}\n`,
    );
    if (f.fix) io.stdout.write(`${"".padEnd(w)}  ${st.dim(`fix: ${f.fix}`)}\n`);
  }
  for (const n of r.notes) io.stderr.write(`${st.dim(`note: ${n}`)}\n`);
  const s = r.summary;
  io.stderr.write(
    `${r.workloads} workload(s) in ${r.documents} document(s), ${r.level}: ${s.error} error(s), ${s.warning} warning(s), ${s.note} note(s)\n`,
  );
  return failed ? EXIT.VERDICT_FAILED : EXIT.OK;
}

export async function runK8sGen({
  values,
  positionals,
  io,
}: Invocation<typeof K8S_GEN_FLAGS>): Promise<number> {
  const st = makeStyle(!values["no-color"] && colorWanted(io.stderr.isTTY, io.env));
  const say = io.stderr.isTTY ? (m: string) => io.stderr.write(st.dim(`${m}\n`)) : undefined;
  const limits: ResourceAmounts = {};
  const requests: ResourceAmounts = {};
  if (values.cpu) limits.cpu = values.cpu;
  if (values.memory) limits.memory = requests.memory = values.memory;
  const r = await generateManifests(positionals[0]!, {
    kind: values.kind ?? "Deployment",
    ...(values.name ? { name: values.name } : {}),
    ...(values.namespace ? { namespace: values.namespace } : {}),
    ...(values.port ? { ports: values.port } : {}),
    service: values.service === true,
    replicas: values.replicas ?? 1,
    ...(values.schedule ? { schedule: values.schedule } : {}),
    ...(values.platform ? { platform: values.platform } : {}),
    ...(values.repository ? { repository: values.repository } : {}),
    ...(values["run-as-user"] !== undefined ? { runAsUser: values["run-as-user"] } : {}),
    resources: { limits, requests },
    registry: registryOptions(values, io, say),
  });
  for (const w of r.warnings) io.stderr.write(`${st.yellow("!")} ${w.code} ${w.message}\n  fix: ${w.fix}\n`);
  if (values.json) {
    io.stdout.write(
      `${JSON.stringify({ schemaVersion: 1, documents: r.documents, warnings: r.warnings, facts: r.facts })}\n`,
    );
    return EXIT.OK;
  }
  if (values.out) await writeFileAtomic(resolve(io.cwd, values.out), r.yaml);
  else io.stdout.write(r.yaml);
  return EXIT.OK;
}

export async function runK8sPolicy({ values, io }: Invocation<typeof K8S_POLICY_FLAGS>): Promise<number> {
  const opts = {
    name: values.name ?? "zerodep-restricted",
    action: values.action ?? "Audit",
    ...(values["exclude-namespace"] ? { excludeNamespaces: values["exclude-namespace"] } : {}),
    podSecurityVersion: values["psa-version"] ?? "latest",
  };
  const r = values.engine === "gatekeeper" ? gatekeeperConstraints(opts) : kyvernoPolicy(opts);
  if (values.explain) {
    io.stdout.write(`${r.explanation.trimEnd()}\n`);
    return EXIT.OK;
  }
  if (values.out) await writeFileAtomic(resolve(io.cwd, values.out), r.yaml);
  else io.stdout.write(r.yaml);
  return EXIT.OK;
}
