import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ParseError } from "../../src/errors.js";
import { BufferSource, FileSource } from "../../src/io/reader.js";
import { isPe, readPeLayout } from "../../src/pe/pe.js";
import { buildGoTestBinaries } from "../go/go-binaries-for-tests.js";
import { objdumpSections } from "../go/objdump-for-tests.js";
import { needs } from "../helpers/env.js";

const skip = needs({ tools: ["go", "llvm-objdump"] });

describe("readPeLayout on Go-built PE files", { skip }, () => {
  for (const [name, arch, ptrSize] of [
    ["go-windows.exe", "amd64", 8],
    ["go-windows-386.exe", "386", 4],
    ["go-windows-arm64-stripped.exe", "arm64", 8],
  ] as const) {
    test(`${name}: headers, and sections as llvm-objdump lists them`, async () => {
      const path = join(buildGoTestBinaries(), name);
      const src = FileSource.open(path);
      const pe = await readPeLayout(src);
      await src.close();
      assert.equal(pe.arch, arch);
      assert.equal(pe.os, "windows");
      assert.equal(pe.isDll, false);
      assert.equal(pe.subsystemName, "windows-cui");
      assert.equal(pe.layout.ptrSize, ptrSize);
      assert.equal(pe.layout.format, "pe");
      assert.deepEqual(pe.warnings, []);
      const want = objdumpSections(path).map((s) => `${s.name}@${s.vma.toString(16)}`);
      assert.deepEqual(
        pe.layout.sections.map((s) => `${s.name}@${s.addr.toString(16)}`),
        want,
      );
      const data = pe.layout.sections.find((s) => s.name === ".data")!;
      assert.equal(data.writable && !data.executable, true);
      assert.equal(pe.layout.sections.find((s) => s.name === ".text")!.executable, true);
    });
  }
});

describe("readPeLayout hostile input", () => {
  const codeOf = async (b: Uint8Array): Promise<string> => {
    try {
      await readPeLayout(new BufferSource(b));
      return "ok";
    } catch (err) {
      assert.ok(err instanceof ParseError, String(err));
      return err.code;
    }
  };

  test("isPe", () => {
    assert.equal(isPe(Buffer.from("MZ\x90\x00")), true);
    assert.equal(isPe(Buffer.from("\x7fELF")), false);
  });

  test("short file, bad e_lfanew, missing signature, bad optional header", async () => {
    assert.equal(await codeOf(Buffer.from("MZ")), "PE_TRUNCATED");
    const dos = Buffer.alloc(0x80);
    dos.write("MZ");
    dos.writeUInt32LE(0xffff_fff0, 0x3c);
    assert.equal(await codeOf(dos), "PE_TRUNCATED");
    dos.writeUInt32LE(0x40, 0x3c);
    assert.equal(await codeOf(dos), "PE_BAD_SIGNATURE");
    dos.write("PE\0\0", 0x40, "latin1");
    dos.writeUInt16LE(0xe0, 0x40 + 20); // SizeOfOptionalHeader past EOF
    assert.equal(await codeOf(dos), "PE_BAD_OPTIONAL_HEADER");
  });

  test("every truncation and random corruption of a real header: PeInfo or ParseError", {
    skip: needs({ tools: ["go"] }),
  }, async () => {
    const bytes = new Uint8Array(readFileSync(join(buildGoTestBinaries(), "go-windows.exe")));
    const head = bytes.subarray(0, 0x400);
    for (let cut = 0; cut < head.length; cut += 7) await codeOf(head.subarray(0, cut));
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 300; i++) {
      const copy = bytes.slice(0, 0x2000);
      for (let k = 0; k < 1 + rand(6); k++) copy[rand(0x300)] = rand(256);
      await codeOf(copy);
    }
  });
});
