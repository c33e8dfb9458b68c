import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { inspectSource } from "../../src/inspect/inspect.js";
import { BufferSource } from "../../src/io/reader.js";
import { fixture, hasFixture, needs } from "../helpers/env.js";

/**
 * Hostile input is normal input: thousands of truncated and mutated copies of real binaries go
 * through inspect. Each must come back as a result (possibly with error/errorCode), never as a thrown
 * exception, never as an INTERNAL error (a bug of ours), and within a bounded time (no hang).
 * Mutations are seeded, so a failure names a reproducible case.
 */
const SEEDS = [
  "go-static",
  "go-pie-internal",
  "c-hardened",
  "c-debug-compressed",
  "c-static-pie",
  "c-32",
  "libzd.so.1",
  "musl-dynamic",
  "go-mips",
  "go-windows.exe",
  "go-darwin-arm64",
  "go-darwin-fat",
];
const PER_SEED = 320;
/**
 * Generous bound for one input, 2 s per MiB (at least 2 s): a hang or a quadratic spot shows up as
 * seconds to minutes (issue #12), a healthy parse takes milliseconds. A detector, not a benchmark.
 */
const boundMs = (bytes: number) => 2000 * Math.max(1, bytes / (1 << 20));

function rng(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

type Mutation = { what: string; apply(b: Uint8Array): Uint8Array };

function mutations(orig: Uint8Array, seed: number): Mutation[] {
  const rand = rng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const out: Mutation[] = [];
  // Metadata is where parsers trust lengths: the headers and the section header table at the end.
  const hot = () =>
    rand() < 0.5
      ? int(Math.min(orig.length, 4096))
      : Math.max(0, orig.length - 1 - int(Math.min(orig.length, 8192)));
  const extremes = [0, 1, 0x7f, 0x80, 0xff, 0xfe];
  for (let i = 0; i < PER_SEED; i++) {
    const kind = i % 4;
    if (kind === 0) {
      const len = rand() < 0.5 ? int(Math.min(orig.length, 8192)) : int(orig.length);
      out.push({ what: `truncate to ${len}`, apply: (b) => b.subarray(0, len) });
    } else if (kind === 1) {
      const n = 1 + int(8);
      const edits = Array.from({ length: n }, () => [hot(), int(256)] as const);
      out.push({
        what: `flip ${edits.map(([o, v]) => `${o}=${v}`).join(",")}`,
        apply: (b) => setBytes(b, edits),
      });
    } else if (kind === 2) {
      // A run of extreme bytes over a 2/4/8-byte field: counts of 65535, offsets of 2^32-1, zeroes.
      const at = hot();
      const width = [2, 4, 8][int(3)]!;
      const v = extremes[int(extremes.length)]!;
      const edits = Array.from({ length: width }, (_, k) => [at + k, v] as const);
      out.push({ what: `field ${at}+${width}=${v}`, apply: (b) => setBytes(b, edits) });
    } else {
      // Random bytes anywhere (string tables without NUL, broken chains in version tables...).
      const edits = Array.from({ length: 1 + int(32) }, () => [int(orig.length), int(256)] as const);
      out.push({ what: `scatter ${edits.length}@${seed}/${i}`, apply: (b) => setBytes(b, edits) });
    }
  }
  return out;
}

function setBytes(b: Uint8Array, edits: readonly (readonly [number, number])[]): Uint8Array {
  const c = new Uint8Array(b);
  for (const [o, v] of edits) if (o < c.length) c[o] = v;
  return c;
}

describe("inspect on mutated real binaries", () => {
  const present = SEEDS.filter(hasFixture);
  test("seed binaries are there", {
    skip: needs({ fixtures: SEEDS }),
  }, () => {
    assert.equal(
      present.length,
      SEEDS.length,
      `missing: ${SEEDS.filter((s) => !present.includes(s)).join(", ")}`,
    );
  });
  for (const [si, name] of present.entries()) {
    test(`${name}: ${PER_SEED} mutations, no exception, no internal error, bounded time`, async () => {
      const orig = new Uint8Array(readFileSync(fixture(name)));
      let errors = 0;
      let changed = 0;
      let slowest = 0;
      const facts = (x: object) => JSON.stringify({ ...x, path: "", size: 0 });
      const baseline = facts(await inspectSource(new BufferSource(orig, name)));
      for (const m of mutations(orig, 0x5eed + si)) {
        const bytes = m.apply(orig);
        const t0 = performance.now();
        const r = await inspectSource(new BufferSource(bytes, `${name}[${m.what}]`));
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        assert.ok(ms < boundMs(bytes.byteLength), `${name} ${m.what}: took ${ms.toFixed(0)} ms`);
        assert.notEqual(r.errorCode, "INTERNAL", `${name} ${m.what}: ${r.error}`);
        if (facts(r) !== baseline) changed++;
        if (r.error) {
          errors++;
          assert.ok(r.error.startsWith(`${name}[`), `error names the file: ${r.error}`);
          assert.doesNotMatch(r.error, /\n/, "one line");
        }
      }
      // Sanity: the mutations reach the parsers (a fuzzer whose inputs all read the same tests nothing).
      assert.ok(
        changed > PER_SEED / 8,
        `${name}: only ${changed} of ${PER_SEED} mutations changed the result`,
      );
      assert.ok(errors > 0, `${name}: no mutation was rejected`);
    });
  }
});

describe("named hostile cases", () => {
  const elf64 = (patch: (v: DataView, b: Uint8Array) => void) => {
    const b = new Uint8Array(readFileSync(fixture("c-hardened")));
    patch(new DataView(b.buffer), b);
    return b;
  };
  const skip = needs({ fixtures: ["c-hardened"] });
  test("e_shnum = 65535 in a program: the section table is noted as damaged, the program still parses (and runs)", {
    skip,
  }, async () => {
    const bytes = elf64((v) => v.setUint16(60, 0xffff, true));
    const r = await inspectSource(new BufferSource(bytes, "x"));
    assert.equal(r.error, undefined, r.error);
    assert.equal(r.linkage, "dynamic");
    assert.ok(
      r.warnings.some(
        (w) => w.code === "CORRUPT_METADATA" && /section header table \(65535 entries/.test(w.message),
      ),
      JSON.stringify(r.warnings),
    );
    // The oracle: the kernel and the loader never read sections, so the damaged copy runs.
    const dir = mkdtempSync(join(tmpdir(), "zd-shnum-"));
    writeFileSync(join(dir, "x"), bytes, { mode: 0o755 });
    const real = spawnSync(join(dir, "x"), [], { encoding: "utf8", timeout: 10_000 });
    rmSync(dir, { recursive: true, force: true });
    assert.equal(real.status, 0, real.stderr);
  });
  test("e_phoff past the end is a clear truncation error", { skip }, async () => {
    const r = await inspectSource(
      new BufferSource(
        elf64((v) => v.setBigUint64(32, 0xffff_ffffn, true)),
        "x",
      ),
    );
    assert.equal(r.errorCode, "TRUNCATED");
    assert.match(r.error!, /program header table/);
  });
  test("a section name table without NUL leaves names empty, no crash", { skip }, async () => {
    const b = elf64(() => {});
    const v = new DataView(b.buffer);
    const shoff = Number(v.getBigUint64(40, true));
    const shstrndx = v.getUint16(62, true);
    const sh = shoff + shstrndx * 64;
    const off = Number(v.getBigUint64(sh + 24, true));
    const size = Number(v.getBigUint64(sh + 32, true));
    b.fill(0x41, off, off + size);
    const r = await inspectSource(new BufferSource(b, "x"));
    assert.equal(r.error, undefined);
    assert.ok(r.sections.every((s) => s.name === ""));
    assert.equal(r.linkage, "dynamic");
  });
  test("a verneed chain that points at itself terminates", { skip }, async () => {
    const b = elf64(() => {});
    const v = new DataView(b.buffer);
    const shoff = Number(v.getBigUint64(40, true));
    const shnum = v.getUint16(60, true);
    for (let i = 0; i < shnum; i++) {
      const sh = shoff + i * 64;
      if (v.getUint32(sh + 4, true) === 0x6ffffffe) {
        const off = Number(v.getBigUint64(sh + 24, true));
        v.setUint32(off + 12, 0, true); // vn_next = 0 is the end; make the aux chain loop instead
        const aux = off + v.getUint32(off + 8, true);
        v.setUint16(off + 2, 0xffff, true); // vn_cnt = 65535
        v.setUint32(aux + 12, 0, true);
        v.setUint32(aux + 12, 0xffff_fff0 >>> 0, true); // vna_next jumps backwards (wraps past the table)
      }
    }
    const t0 = performance.now();
    const r = await inspectSource(new BufferSource(b, "x"));
    assert.ok(performance.now() - t0 < boundMs(b.byteLength));
    assert.notEqual(r.errorCode, "INTERNAL");
  });
});
