import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { FileSource } from "../../src/io/reader.js";
import { SpillWriter } from "../../src/io/spill.js";

const chunks = (total: number, size: number, at: (o: number) => number) => {
  const out: Uint8Array[] = [];
  for (let o = 0; o < total; o += size) {
    const c = new Uint8Array(Math.min(size, total - o));
    for (let i = 0; i < c.length; i += 4096) c[i] = at(o + i);
    out.push(c);
  }
  return out;
};

test("SpillWriter: small files stay in memory, larger ones go to a sparse, unnamed temporary file that dispose frees", async () => {
  const dir = mkdtempSync(join(tmpdir(), "zd-spill-test-"));
  try {
    // 1 MiB, under the limit: memory, the same bytes back.
    const small = new SpillWriter(1 << 20, { memoryLimit: 2 << 20, tmpDir: dir });
    for (const c of chunks(1 << 20, 65536, (o) => (o >> 12) & 0xff)) small.write(c);
    assert.equal(small.spilled, false);
    const s = small.source("small");
    assert.equal(s.size, 1 << 20);
    assert.equal((await s.read(4096 * 7, 1))[0], 7);
    small.dispose();
    assert.deepEqual(readdirSync(dir), []);

    // 64 MiB over a 2 MiB limit: a file. Only the first and last MiB hold non-zero bytes.
    const size = 64 << 20;
    const big = new SpillWriter(size, { memoryLimit: 2 << 20, tmpDir: dir });
    const mark = (o: number) => (o < 1 << 20 || o >= size - (1 << 20) ? 1 + ((o >> 12) % 250) : 0);
    for (const c of chunks(size, 1 << 20, mark)) big.write(c);
    assert.equal(big.spilled, true);
    const src = big.source("big");
    assert.ok(src instanceof FileSource);
    assert.equal(src.size, size);
    for (const o of [0, 4096, (1 << 20) - 4096, 1 << 20, 32 << 20, size - 4096]) {
      assert.equal((await src.read(o, 1))[0], mark(o), `byte at ${o}`);
    }
    // The file has no name while in use: nothing to leave behind, even on SIGKILL.
    assert.deepEqual(readdirSync(dir), []);
    // Zero chunks were skipped: the file has holes (2 MiB of data, not 64).
    const disk = big.diskBytes();
    assert.ok(disk >= 2 << 20 && disk < 8 << 20, `${disk} bytes allocated`);
    big.dispose();
    assert.equal(big.diskBytes(), 0);
    await assert.rejects(src.read(32 << 20, 1), /read after close/); // past the cached head
    big.dispose(); // idempotent
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
