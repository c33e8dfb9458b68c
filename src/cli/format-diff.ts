/**
 * One changed config field of `diff`, human form: only what changed. A map (Labels, ExposedPorts,
 * Volumes) lists the keys added (+), removed (-) and changed (~); Env, a list of KEY=VALUE whose order
 * does not matter, lists the entries added and removed; anything else (Cmd, Entrypoint, where order is
 * meaning, and scalars) is shown whole, before → after.
 */
export function formatConfigChange(c: { field: string; a: unknown; b: unknown }): string {
  const j = (v: unknown) => JSON.stringify(v);
  const { a, b } = c;
  const isMap = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === "object" && !Array.isArray(v);
  if ((isMap(a) || a === null) && (isMap(b) || b === null) && (isMap(a) || isMap(b))) {
    const ma = a ?? {};
    const mb = b ?? {};
    const parts: string[] = [];
    for (const k of Object.keys(mb).sort())
      if (!(k in ma)) parts.push(`+ ${k}=${j(mb[k])}`);
      else if (j(ma[k]) !== j(mb[k])) parts.push(`~ ${k}: ${j(ma[k])} → ${j(mb[k])}`);
    for (const k of Object.keys(ma).sort()) if (!(k in mb)) parts.push(`- ${k}`);
    return `  config ${c.field}: ${parts.join(", ")}`;
  }
  if (c.field === "config.Env" && (Array.isArray(a) || a === null) && (Array.isArray(b) || b === null)) {
    const sa = new Set((a ?? []).map((x) => j(x)));
    const sb = new Set((b ?? []).map((x) => j(x)));
    const parts = [
      ...[...sb].filter((x) => !sa.has(x)).map((x) => `+ ${x}`),
      ...[...sa].filter((x) => !sb.has(x)).map((x) => `- ${x}`),
    ];
    // Same entries in another order: say so rather than print an empty change.
    if (parts.length > 0) return `  config ${c.field}: ${parts.join(", ")}`;
  }
  return `  config ${c.field}: ${j(a)} → ${j(b)}`;
}
