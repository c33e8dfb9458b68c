/**
 * issue #13 item 7: a command parses a binary once. `check` asks inspect, the resolver and the run-time
 * needs detector about the same program; each used to parse the ELF again. Counted here by reads of
 * the program header table, which only a parse does.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { checkSource } from "../../src/check/check.js";
import { BufferSource, type ByteSource } from "../../src/io/reader.js";
import { EmptyRootFs } from "../../src/resolve/root-fs.js";
import { fixture, needs } from "../helpers/env.js";

test("check parses the program once (inspect, deps and run-time needs share the parse)", {
  skip: needs({ fixtures: ["go-x509", "c-hardened"] }),
}, async () => {
  for (const name of ["go-x509", "c-hardened"]) {
    const bytes = readFileSync(fixture(name));
    const phoff = Number(Buffer.from(bytes).readBigUInt64LE(32));
    const inner = new BufferSource(new Uint8Array(bytes), name);
    let phdrReads = 0;
    const counting: ByteSource = {
      name: inner.name,
      size: inner.size,
      read: (off, len) => {
        if (off === phoff) phdrReads++;
        return inner.read(off, len);
      },
      close: () => inner.close(),
    };
    const r = await checkSource(counting, name, { rootFs: new EmptyRootFs(), location: `/app/${name}` });
    assert.equal(r.schemaVersion, 1);
    assert.ok(r.needs.length > 0 || r.problems.length > 0, `${name}: check looked at the program`);
    assert.equal(phdrReads, 1, `${name}: the program header table was read ${phdrReads} times`);
  }
});
