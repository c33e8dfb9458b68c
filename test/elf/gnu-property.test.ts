/**
 * src/elf/gnu-property.ts on descriptors built by the x86-64 psABI's rules ("Program Property":
 * pr_type, pr_datasz, data padded to 8 bytes in ELFCLASS64). Whole files are compared with
 * readelf -n in test/inspect/fixtures.test.ts (the platform variant of c-x86-64-v3, go-cgo-amd64-v3).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseGnuProperties, x86IsaLevelNeeded } from "../../src/elf/gnu-property.js";

const u32 = (v: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return [...b];
};

describe("GNU property: x86 ISA needed", () => {
  const prop = (type: number, data: number[]) => {
    const pad = (8 - (data.length % 8)) % 8;
    return [...u32(type), ...u32(data.length), ...data, ...new Array(pad).fill(0)];
  };
  it("the highest level bit wins; other properties are skipped", () => {
    // GNU_PROPERTY_X86_FEATURE_1_AND (IBT|SHSTK), then ISA_1_NEEDED = baseline | v3.
    const desc = new Uint8Array([...prop(0xc0000002, u32(3)), ...prop(0xc0008002, u32(1 | 4))]);
    const props = parseGnuProperties(desc, true, true);
    assert.equal(props.length, 2);
    assert.equal(x86IsaLevelNeeded(props, true), 3);
    assert.equal(
      x86IsaLevelNeeded(parseGnuProperties(new Uint8Array(prop(0xc0008002, u32(1))), true, true), true),
      1,
    );
    assert.equal(x86IsaLevelNeeded([], true), null);
  });
  it("hostile: truncations and oversized pr_datasz parse without throwing", () => {
    const desc = new Uint8Array([...prop(0xc0008002, u32(8)), ...prop(0xc0000002, u32(3))]);
    for (let n = 0; n <= desc.byteLength; n++) parseGnuProperties(desc.subarray(0, n), true, true);
    const big = desc.slice();
    big[4] = 0xff;
    big[7] = 0xff;
    assert.deepEqual(parseGnuProperties(big, true, true), []);
  });
});
