import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { analyze } from "../../src/analyze/analyze.js";
import { fixture, needs } from "../helpers/env.js";
import { buildImage, tarListing } from "./images.js";

const PASSWD = "root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532::/home/nonroot:/sbin/nologin\n";
const GROUP = "root:x:0:\nnonroot:x:65532:\n";
const x = (n: number, c = "x") => c.repeat(n);

describe("analyze: a three-layer image with known waste (GNU tar layers)", () => {
  const skip = needs({ tools: ["tar"], fixtures: ["go-static"] });
  test("exact figures, ours and dive's", { skip }, async (t) => {
    const work = mkdtempSync(join(tmpdir(), "zerodep-analyze-"));
    t.after(() => rmSync(work, { recursive: true, force: true }));
    const hello = readFileSync(fixture("go-static"));
    const img = await buildImage(
      work,
      "waste",
      [
        {
          createdBy: "base",
          files: {
            "bin/sh": { content: x(1000), mode: 0o755 },
            "etc/passwd": PASSWD,
            "etc/group": GROUP,
            "usr/bin/passwd": { content: x(500), mode: 0o4755 },
            tmp: { dir: true, mode: 0o1777 },
            "var/cache/apt/a.bin": x(3000),
            "var/cache/apt/b.bin": x(2000),
            "opt/data/one": x(400),
            "opt/data/two": x(600),
            "app/config.json": x(100),
            "srv/secret": { content: x(50), mode: 0o600 },
            "srv/ww": { content: x(10), mode: 0o666 },
          },
        },
        {
          createdBy: "RUN apt-get clean && add data",
          emptyBefore: "ENV A=1",
          files: { "app/config.json": x(250), "app/big.dat": x(5000), "var/cache/.wh.apt": "" },
        },
        {
          createdBy: "COPY hello",
          files: {
            "app/.wh.big.dat": "",
            "opt/data/.wh..wh..opq": "",
            "opt/data/three": x(300),
            "app/hello": { content: hello, mode: 0o755 },
          },
        },
      ],
      { User: "65532:65532", Entrypoint: ["/app/hello"] },
    );
    // Independent figures: GNU tar's own listing of each layer.
    const listings = img.layers.map((l) => tarListing(l.tar));
    const content = listings.map((m) =>
      [...m.values()].filter((e) => e.type === "-").reduce((a, e) => a + e.size, 0),
    );
    const S = hello.length;
    const r = await analyze(img.ref);

    assert.deepEqual(
      r.layers.map((l) => l.contentBytes),
      content,
    );
    assert.deepEqual(
      r.layers.map((l) => l.compressedBytes),
      img.layers.map((l) => l.blob.size),
    );
    assert.deepEqual(
      r.layers.map((l) => l.tarBytes),
      img.layers.map((l) => statSync(l.tar).size),
    );
    assert.deepEqual(
      r.layers.map((l) => l.history?.createdBy),
      ["base", "RUN apt-get clean && add data", "COPY hello"],
    );
    // Ours: 100 overwritten, 5000 + 5000 deleted (a directory and a file), 1000 hidden by the opaque dir.
    assert.equal(r.waste.wastedBytes, 11100);
    assert.deepEqual(r.waste.byReason, {
      overwritten: 100,
      deleted: 10000,
      opaque: 1000,
      duplicate: 0,
      "replaced-by-directory": 0,
    });
    const total = content.reduce((a, b) => a + b, 0);
    assert.equal(r.totals.contentBytes, total);
    assert.equal(r.totals.finalBytes, total - 11100);
    assert.equal(r.waste.efficiency, (total - 11100) / total);
    assert.deepEqual(
      r.layers.map((l) => l.wastedBytes),
      [100 + 5000 + 1000, 5000, 0],
    );
    // dive, by its definition (hand-computed in the test's comment above the file).
    const cum = content[0]! + 250 + 5000 + 5000 + 300 + S;
    assert.equal(r.waste.dive.wastedBytes, 350 + 5000);
    assert.equal(r.waste.dive.efficiency, (cum - 250 - 5000) / cum);
    assert.equal(r.waste.dive.userSizeBytes, 5250 + 300 + S);
    assert.equal(r.waste.dive.wastedUserPercent, 5350 / (5550 + S));
    // Audit.
    assert.deepEqual(r.audit.shells, ["/bin/sh"]);
    assert.deepEqual(
      r.audit.setuid.map((s) => s.path),
      ["/usr/bin/passwd"],
    );
    assert.deepEqual(
      r.audit.worldWritable.map((s) => s.path),
      ["/srv/ww"],
    );
    assert.deepEqual(r.audit.stickyWorldWritableDirs, ["/tmp"]);
    assert.deepEqual(r.audit.unreadable.paths, ["/srv/secret"]);
    assert.equal(r.audit.user.root, false);
    assert.deepEqual(
      r.audit.elfFiles.map((e) => e.path),
      ["/app/hello"],
    );
    assert.equal(r.audit.goBinaries.length, 1);
    assert.equal(r.audit.entrypoint.resolved, "/app/hello");
    console.log(JSON.stringify(r.findings, null, 1), r.audit.entrypoint);
  });
});
