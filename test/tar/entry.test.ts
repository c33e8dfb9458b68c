import assert from "node:assert/strict";
import { test } from "node:test";
import { ZerodepError } from "../../src/errors.js";
import { normalizeArchivePath } from "../../src/tar/entry.js";

test("normalizeArchivePath: strips leading '/', './', doubled and trailing slashes", () => {
  assert.equal(normalizeArchivePath("/etc/passwd"), "etc/passwd");
  assert.equal(normalizeArchivePath("./a//b/"), "a/b");
  assert.equal(normalizeArchivePath("a/./b/."), "a/b");
  assert.equal(normalizeArchivePath("données/café"), "données/café");
  assert.equal(normalizeArchivePath("..a/b..c"), "..a/b..c");
});

test("normalizeArchivePath: BAD_PATH for '..', empty and NUL", () => {
  for (const p of ["..", "a/../b", "../etc/passwd", "", "/", ".", "./", "a\0b"]) {
    assert.throws(
      () => normalizeArchivePath(p),
      (e: unknown) => e instanceof ZerodepError && e.code === "BAD_PATH",
      JSON.stringify(p),
    );
  }
});
