// String-table searches used by inspect's hardening facts, on hand-built tables whose answers follow
// from the gABI string-table rules (NUL-terminated strings, names may share tails).
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { stringEndsWith, stringsContaining, stringTableHas } from "../../src/elf/symbols.js";

const table = (...names: string[]) => new Uint8Array(Buffer.from(`\0${names.join("\0")}\0`, "latin1"));

describe("string table searches", () => {
  const t = table("libc.so.6", "__stack_chk_fail", "__printf_chk", "x_chk_y_chk", "GLIBC_2.34", "_chk");

  it("stringsContaining returns each whole string containing the needle once, in table order", () => {
    assert.deepEqual(stringsContaining(t, "_chk"), [
      "__stack_chk_fail",
      "__printf_chk",
      "x_chk_y_chk",
      "_chk",
    ]);
    assert.deepEqual(stringsContaining(t, "nothing"), []);
    assert.deepEqual(stringsContaining(t, "_chk", 2), ["__stack_chk_fail", "__printf_chk"]);
  });

  it("a last string without its NUL is not a string", () => {
    const cut = t.subarray(0, t.byteLength - 1); // "..._chk" loses its terminator
    assert.deepEqual(stringsContaining(cut, "_chk").at(-1), "x_chk_y_chk");
    assert.equal(stringTableHas(cut, "_chk"), false);
  });

  it("stringTableHas matches whole strings only, not shared tails", () => {
    assert.equal(stringTableHas(t, "__stack_chk_fail"), true);
    assert.equal(stringTableHas(t, "stack_chk_fail"), false);
    assert.equal(stringTableHas(t, "_chk"), true);
  });

  it("stringEndsWith reads the string at an offset, tails included", () => {
    const at = Buffer.from(t).indexOf("__printf_chk");
    assert.equal(stringEndsWith(t, at, "_chk"), true);
    assert.equal(stringEndsWith(t, at + 8, "_chk"), true); // "_chk" as a shared tail
    assert.equal(stringEndsWith(t, 1, "_chk"), false); // "libc.so.6"
    assert.equal(stringEndsWith(t, t.byteLength + 5, "_chk"), false);
    assert.equal(stringEndsWith(t.subarray(0, at + 5), at, "_chk"), false); // no NUL
  });
});
