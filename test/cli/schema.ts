import assert from "node:assert/strict";

/**
 * Checks one `inspect --json` record against the documented schema (README "inspect --json",
 * schemaVersion 1): every field present with its documented type. Used on every fixture, so a field
 * that disappears or changes type fails a test.
 */
export function assertInspectRecord(o: Record<string, unknown>): void {
  const isStr = (v: unknown) => typeof v === "string";
  const strOrNull = (v: unknown) => v === null || typeof v === "string";
  const boolOrNull = (v: unknown) => v === null || typeof v === "boolean";
  const strArr = (v: unknown) => Array.isArray(v) && v.every(isStr);
  assert.equal(o.schemaVersion, 1);
  assert.ok(isStr(o.path), "path");
  assert.ok(["elf", "pe", "macho", "unknown"].includes(o.format as string), "format");
  if ("error" in o) assert.ok(isStr(o.error) && isStr(o.errorCode), "error + errorCode");
  for (const k of ["arch", "variant", "os", "interpreter", "soname", "glibcMin"])
    assert.ok(strOrNull(o[k]), k);
  assert.ok(o.size === null || Number.isInteger(o.size), "size");
  for (const k of ["needed", "rpath", "runpath", "glibcMinSymbols", "toolchain"]) assert.ok(strArr(o[k]), k);
  assert.ok(
    o.linkage === null ||
      ["static", "static-pie", "dynamic", "shared-library", "relocatable", "core"].includes(
        o.linkage as string,
      ),
    "linkage",
  );
  assert.ok(o.libc === null || ["glibc", "musl", "none", "unknown"].includes(o.libc as string), "libc");
  if (o.glibcMin !== null) assert.match(o.glibcMin as string, /^\d+\.\d+(\.\d+)?$/);
  if (o.elf !== null) {
    const e = o.elf as Record<string, unknown>;
    assert.ok(e.class === 32 || e.class === 64, "elf.class");
    assert.ok(e.endian === "little" || e.endian === "big", "elf.endian");
    assert.ok(isStr(e.type) && Number.isInteger(e.machine) && Number.isInteger(e.osabi), "elf.type/machine");
  }
  if (o.hardening !== null) {
    const h = o.hardening as Record<string, unknown>;
    assert.ok(boolOrNull(h.pie) && typeof h.nx === "boolean" && typeof h.bindNow === "boolean", "hardening");
    assert.ok(["none", "partial", "full"].includes(h.relro as string), "relro");
    assert.ok(boolOrNull(h.canary) && boolOrNull(h.fortify), "canary/fortify");
  }
  assert.ok(boolOrNull(o.stripped), "stripped");
  if (o.debug !== null) {
    const d = o.debug as Record<string, unknown>;
    assert.ok(typeof d.present === "boolean" && typeof d.compressed === "boolean", "debug");
    assert.ok(Number.isInteger(d.fileBytes) && Number.isInteger(d.uncompressedBytes), "debug bytes");
  }
  assert.ok(Array.isArray(o.sections), "sections");
  for (const s of o.sections as Record<string, unknown>[]) {
    assert.ok(
      isStr(s.name) && isStr(s.type) && Number.isInteger(s.fileBytes) && Number.isInteger(s.memBytes),
    );
  }
  assert.ok(o.stripSavings === null || Number.isInteger(o.stripSavings), "stripSavings");
  if (o.go !== null) {
    const g = o.go as Record<string, unknown>;
    assert.ok(strOrNull(g.version) && strOrNull(g.versionRange) && strOrNull(g.path), "go.version/path");
    assert.ok(["buildinfo", "version-string", "pclntab"].includes(g.source as string), "go.source");
    if (g.main !== null) {
      const m = g.main as Record<string, unknown>;
      assert.ok(isStr(m.path) && isStr(m.version) && isStr(m.sum), "go.main");
    }
    assert.ok(Array.isArray(g.deps), "go.deps");
    for (const d of g.deps as Record<string, unknown>[]) {
      assert.ok(isStr(d.path) && isStr(d.version) && isStr(d.sum), "go.deps[]");
      if (d.replace !== undefined) {
        const rp = d.replace as Record<string, unknown>;
        assert.ok(isStr(rp.path) && isStr(rp.version) && isStr(rp.sum), "go.deps[].replace");
      }
    }
    assert.ok(g.settings !== null && typeof g.settings === "object", "go.settings");
    for (const v of Object.values(g.settings as object)) assert.ok(isStr(v), "go.settings value");
  }
  assert.ok(Array.isArray(o.warnings), "warnings");
  for (const w of o.warnings as Record<string, unknown>[]) {
    assert.match(w.code as string, /^[A-Z][A-Z0-9_]+$/, "warning code");
    assert.ok(isStr(w.message) && isStr(w.fix), "warning message/fix");
  }
}
