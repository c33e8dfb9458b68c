/**
 * src/elf/arm-attributes.ts against readelf -A on objects the LLVM assembler wrote (every
 * Tag_CPU_arch value binutils names, with string, ULEB and Tag_compatibility attributes around it),
 * the section bytes taken from `readelf -x` (not from our ELF reader); plus bytes built by the ABI
 * addenda's rules where an assembler will not put them (unknown tags before Tag_CPU_arch, other
 * vendors, big-endian lengths), and hostile truncations and mutations.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { ARM_CPU_ARCH_NAMES, armVariantOfCpuArch, parseArmAttributes } from "../../src/elf/arm-attributes.js";
import { needs, run } from "../helpers/env.js";
import { splitByFile } from "../helpers/readelf-text.js";

/** The bytes of a section from `readelf -x NAME` (hex words, then the ASCII column). */
function hexDump(text: string): Uint8Array {
  const hex = text
    .split("\n")
    .map((l) => /^\s+0x[0-9a-f]+ ((?:[0-9a-f]{2,8} ){1,4})/.exec(l)?.[1] ?? "")
    .join("")
    .replace(/ /g, "");
  return new Uint8Array(Buffer.from(hex, "hex"));
}

const uleb = (v: number): number[] => {
  const out: number[] = [];
  do {
    const c = v & 0x7f;
    v = Math.floor(v / 128);
    out.push(v ? c | 0x80 : c);
  } while (v);
  return out;
};
const ntbs = (s: string) => [...Buffer.from(s, "latin1"), 0];
const u32 = (v: number, little: boolean) => {
  const b = Buffer.alloc(4);
  little ? b.writeUInt32LE(v) : b.writeUInt32BE(v);
  return [...b];
};
/** A whole attributes section: 'A', then one subsection per [vendor, Tag_File attribute bytes]. */
function section(subs: [string, number[]][], little = true): Uint8Array {
  const out = [0x41];
  for (const [vendor, attrs] of subs) {
    const file = [1, ...u32(5 + attrs.length, little), ...attrs];
    const v = ntbs(vendor);
    out.push(...u32(4 + v.length + file.length, little), ...v, ...file);
  }
  return new Uint8Array(out);
}

describe("ARM build attributes vs readelf -A", { skip: needs({ tools: ["clang", "readelf"] }) }, () => {
  let dir = "";
  const objects: { value: number; path: string }[] = [];
  let said = new Map<string, string>();
  let dumps = new Map<string, string>();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), "zerodep-arm-attrs-"));
    for (let value = 1; value < ARM_CPU_ARCH_NAMES.length; value++) {
      const s = join(dir, `a${value}.s`);
      // Tag_conformance (67, a string) comes first by the ABI's rule; Tag_CPU_name (5, string),
      // Tag_compatibility (32: flag and vendor) and unknown tags 70 (even: ULEB) and 71 (odd: string).
      writeFileSync(
        s,
        `\t.syntax unified\n\t.eabi_attribute 67, "2.09"\n\t.eabi_attribute 5, "zd-${value}"\n\t.eabi_attribute 6, ${value}\n\t.eabi_attribute 7, 'A'\n\t.eabi_attribute 32, 1, "gnu"\n\t.eabi_attribute 70, 300\n\t.eabi_attribute 71, "odd"\n\t.text\n\tnop\n`,
      );
      const o = join(dir, `a${value}.o`);
      run("clang", ["--target=arm-linux-gnueabihf", "-march=armv4", "-c", s, "-o", o]);
      objects.push({ value, path: o });
    }
    const paths = objects.map((o) => o.path);
    said = splitByFile(run("readelf", ["-A", ...paths]).stdout, paths);
    dumps = splitByFile(run("readelf", ["-x", ".ARM.attributes", ...paths]).stdout, paths);
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("Tag_CPU_arch, its name, Tag_CPU_name and the profile as readelf prints them", () => {
    assert.equal(objects.length, 22);
    for (const { value, path } of objects) {
      const a = parseArmAttributes(hexDump(dumps.get(path)!), true);
      const text = said.get(path)!;
      assert.ok(a, `${path}: nothing parsed`);
      assert.equal(a.cpuArch, value);
      assert.equal(`Tag_CPU_arch: ${ARM_CPU_ARCH_NAMES[a.cpuArch!]}`, /Tag_CPU_arch: .*/.exec(text)?.[0]);
      assert.equal(`Tag_CPU_name: "${a.cpuName}"`, /Tag_CPU_name: .*/.exec(text)?.[0]);
      assert.match(text, /Tag_CPU_arch_profile: Application/);
      assert.equal(a.cpuArchProfile, "A");
      // Variant: the major version in readelf's name, never below v5.
      const major = Number(/Tag_CPU_arch: v(\d)/.exec(text)![1]);
      assert.equal(armVariantOfCpuArch(value), `v${Math.max(5, major)}`, text);
    }
  });

  it("hostile: every truncation and single-byte change of a real section parses without throwing", () => {
    const real = hexDump(dumps.get(objects[9]!.path)!); // Tag_CPU_arch v7
    assert.equal(parseArmAttributes(real, true)?.cpuArch, 10);
    for (let n = 0; n <= real.byteLength; n++) parseArmAttributes(real.subarray(0, n), true);
    for (let i = 0; i < real.byteLength; i++)
      for (const v of [0, 1, 0x7f, 0x80, 0xff]) {
        const m = real.slice();
        m[i] = v;
        parseArmAttributes(m, true);
        parseArmAttributes(m, false);
      }
  });
});

describe("ARM build attributes built by the ABI addenda's rules", () => {
  it("skips unknown string and ULEB tags, Tag_compatibility and other vendors before Tag_CPU_arch", () => {
    const attrs = [
      ...[...uleb(67), ...ntbs("2.09")],
      ...[...uleb(32), ...uleb(1), ...ntbs("gnu")],
      ...[...uleb(71), ...ntbs("x")],
      ...[...uleb(70), ...uleb(1 << 20)],
      ...[...uleb(6), ...uleb(10)],
    ];
    const s = section([
      ["gnu", [0xff, 0xff, 0xff]],
      ["aeabi", attrs],
    ]);
    assert.deepEqual(parseArmAttributes(s, true), { cpuArch: 10, cpuArchProfile: null, cpuName: null });
    const be = section([["aeabi", [...uleb(6), ...uleb(6)]]], false);
    assert.equal(parseArmAttributes(be, false)?.cpuArch, 6);
    assert.equal(parseArmAttributes(be, true), null, "lengths in the wrong byte order leave the section");
  });

  it("not a version 'A' section, or no aeabi subsection: null", () => {
    assert.equal(parseArmAttributes(new Uint8Array([]), true), null);
    assert.equal(parseArmAttributes(new Uint8Array([0x42, 5, 0, 0, 0, 0]), true), null);
    assert.equal(parseArmAttributes(section([["gnu", [...uleb(6), ...uleb(10)]]]), true), null);
  });

  it("variants: v4/v4T run on v5; Pre-v4 and unknown values say nothing", () => {
    assert.equal(armVariantOfCpuArch(0), null);
    assert.equal(armVariantOfCpuArch(1), "v5");
    assert.equal(armVariantOfCpuArch(10), "v7");
    assert.equal(armVariantOfCpuArch(13), "v7");
    assert.equal(armVariantOfCpuArch(14), "v8");
    assert.equal(armVariantOfCpuArch(99), null);
  });
});
