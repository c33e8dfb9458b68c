import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import type { RegistryOptions } from "../../src/registry/options.js";
import { pull, push } from "../../src/transfer/copy.js";
import { zerodep } from "../helpers/cli.js";
import { fixture, needs } from "../helpers/env.js";
import { runAsync } from "./cli-async-for-tests.js";
import { startProxy, type TestProxy } from "./proxy-for-tests.js";
import { startRegistry, type TestRegistry } from "./registry-for-tests.js";

const skip = needs({ tools: ["docker-registry", "skopeo"], fixtures: ["go-static"] });

/** Fast, bounded retries so each fault costs milliseconds, and a 1 s idle timeout for stalls. */
const FAST: RegistryOptions = { retries: 3, retryBaseMs: 20, maxRetryWaitMs: 200, idleTimeoutMs: 1000 };
const isBlobUpload = (m: string, u: string) =>
  (m === "PUT" || m === "PATCH") && u.includes("/blobs/uploads/");

describe("fault injection through a loopback proxy (docker-registry behind it)", {
  skip,
  timeout: 180_000,
}, () => {
  let reg: TestRegistry;
  let proxy: TestProxy;
  let work: string;
  let one: string;
  let expected: string;
  before(async () => {
    reg = await startRegistry({ kind: "plain" });
    proxy = await startProxy(reg.port);
    work = mkdtempSync(join(tmpdir(), "zerodep-faults-"));
    one = `oci:${join(work, "one")}:v1`;
    const p = zerodep(["pack", fixture("go-static"), "--out", one, "--ca-certs", "none", "--tzdata", "none"]);
    assert.equal(p.code, 0, p.stderr);
    const raw = (await runAsync("skopeo", ["inspect", "--raw", one])).stdout;
    expected = `sha256:${createHash("sha256").update(raw).digest("hex")}`;
  });
  beforeEach(() => {
    proxy.seen.length = 0;
    proxy.fault = () => undefined;
  });
  after(async () => {
    await proxy?.close();
    await reg?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  /** What the registry itself (not through the proxy) serves for a tag, checked by skopeo; every blob read. */
  async function registryHas(repoTag: string): Promise<string> {
    const raw = (
      await runAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/${repoTag}`])
    ).stdout;
    await runAsync("skopeo", [
      "copy",
      "--src-tls-verify=false",
      `docker://${reg.host}/${repoTag}`,
      `oci:${join(work, `check-${repoTag.replace(/[/:]/g, "-")}`)}:x`,
    ]);
    return `sha256:${createHash("sha256").update(raw).digest("hex")}`;
  }

  test("500 on the first blob PUT: retried, pushed with the right digests", async () => {
    let n = 0;
    proxy.fault = ({ method, url }) =>
      isBlobUpload(method, url) && n++ === 0 ? { kind: "status", status: 500 } : undefined;
    const r = await push(one, `${proxy.host}/f/e500:v1`, FAST);
    assert.equal(r.digest, expected);
    assert.ok(proxy.seen.some((s) => s.fault === "status"));
    assert.equal(await registryHas("f/e500:v1"), expected);
  });

  test("429 with Retry-After on the first requests: waited, then pushed", async () => {
    let n = 0;
    proxy.fault = ({ method }) =>
      method === "HEAD" && n++ < 2
        ? { kind: "status", status: 429, headers: { "Retry-After": "0" } }
        : undefined;
    const r = await push(one, `${proxy.host}/f/e429:v1`, FAST);
    assert.equal(r.digest, expected);
    assert.equal(proxy.seen.filter((s) => s.status === 429).length, 2);
    assert.equal(await registryHas("f/e429:v1"), expected);
  });

  /**
   * Answers the first HEAD (a blob existence check) with 429 and `Retry-After: value()`, and records
   * when each request reached the proxy (its own clock, the same machine as the client's). Returns
   * the arrival times of that request and of its retry (the next request for the same URL).
   */
  async function pushWith429(retryAfter: () => string, repoTag: string, opts: RegistryOptions) {
    const arrivals: { method: string; url: string; t: number }[] = [];
    let faulted: string | null = null;
    let header = "";
    proxy.fault = ({ method, url }) => {
      arrivals.push({ method, url, t: Date.now() });
      if (method !== "HEAD" || faulted !== null) return undefined;
      faulted = url;
      header = retryAfter();
      return { kind: "status", status: 429, headers: { "Retry-After": header } };
    };
    const r = await push(one, `${proxy.host}/${repoTag}`, opts);
    assert.equal(r.digest, expected);
    const same = arrivals.filter((a) => a.method === "HEAD" && a.url === faulted);
    assert.ok(same.length >= 2, `the 429'd ${faulted} was not retried`);
    return { first: same[0]!.t, retry: same[1]!.t, header };
  }

  test("429 with Retry-After: 2 (delta-seconds): the retry comes no sooner than 2 s later", async () => {
    // Without Retry-After the backoff would be ~20 ms (retryBaseMs), so a 2 s gap is the header's doing.
    const { first, retry } = await pushWith429(() => "2", "f/ra-seconds:v1", {
      ...FAST,
      maxRetryWaitMs: 10_000,
    });
    assert.ok(retry - first >= 2000, `retried after ${retry - first} ms`);
    assert.ok(retry - first < 6000, `retried after ${retry - first} ms: more than the asked 2 s + slack`);
    assert.equal(await registryHas("f/ra-seconds:v1"), expected);
  });

  test("429 with an HTTP-date Retry-After: the retry comes no sooner than that date", async () => {
    // RFC 9110 §10.2.3: Retry-After = HTTP-date / delay-seconds. The date has whole seconds: 3 s
    // ahead, truncated, it is 2 to 3 s away when the proxy answers.
    const { first, retry, header } = await pushWith429(
      () => new Date(Date.now() + 3000).toUTCString(),
      "f/ra-date:v1",
      { ...FAST, maxRetryWaitMs: 10_000 },
    );
    assert.match(header, /^\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
    const until = Date.parse(header);
    assert.ok(retry >= until, `retried ${until - retry} ms before the Retry-After date`);
    assert.ok(retry - first >= 1900, `retried after only ${retry - first} ms`);
    assert.ok(retry - first < 7000, `retried after ${retry - first} ms`);
  });

  test("Retry-After longer than maxRetryWaitMs: the wait is capped", async () => {
    const { first, retry } = await pushWith429(() => "30", "f/ra-capped:v1", {
      ...FAST,
      maxRetryWaitMs: 300,
    });
    assert.ok(retry - first >= 300, `retried after ${retry - first} ms, before the cap`);
    assert.ok(retry - first < 5000, `retried after ${retry - first} ms: the 30 s were not capped`);
  });

  test("connection dropped mid-blob in a monolithic PUT: falls back to chunks, pushed", async () => {
    // Every blob PUT is cut after 300 kB: the small config passes whole, the 1.6 MB layer cannot go in one piece.
    proxy.fault = ({ method, url }) =>
      method === "PUT" && url.includes("/blobs/uploads/")
        ? { kind: "drop-request-after", bytes: 300_000 }
        : undefined;
    const r = await push(one, `${proxy.host}/f/drop:v1`, { ...FAST, chunkSize: 256 * 1024 });
    assert.equal(r.digest, expected);
    assert.ok(proxy.seen.some((s) => s.fault === "drop-request-after"));
    assert.ok(
      proxy.seen.some((s) => s.method === "PATCH"),
      "the retry went in chunks",
    );
    assert.equal(await registryHas("f/drop:v1"), expected);
  });

  test("chunked upload failing mid-way: resumed from the Range the registry reports (GET status → 204)", async () => {
    let patches = 0;
    // The proxy answers the third PATCH itself, so the registry's upload stays consistent: resumable.
    proxy.fault = ({ method, url }) =>
      method === "PATCH" && url.includes("/blobs/uploads/") && patches++ === 2
        ? { kind: "status", status: 503 }
        : undefined;
    const r = await push(one, `${proxy.host}/f/resume:v1`, { ...FAST, chunked: true, chunkSize: 256 * 1024 });
    assert.equal(r.digest, expected);
    const cut = proxy.seen.findIndex((s) => s.fault === "status");
    const after = proxy.seen.slice(cut + 1);
    const status = after.find((s) => s.method === "GET" && s.url.includes("/blobs/uploads/"));
    assert.equal(status?.status, 204, "asked the upload's status and got its Range");
    const uploadId = (u: string) => /uploads\/([^?]+)/.exec(u)?.[1];
    const cutId = uploadId(proxy.seen[cut]!.url);
    const resumedPatch = after.find(
      (s) => s.method === "PATCH" && uploadId(s.url) === cutId && s.status === 202,
    );
    assert.ok(resumedPatch, "the same upload went on after the failure");
    assert.equal(await registryHas("f/resume:v1"), expected);
  });

  test("chunked upload cut mid-body: distribution 2.8 drops such an upload; a fresh one completes", async () => {
    let patches = 0;
    proxy.fault = ({ method, url }) =>
      method === "PATCH" && url.includes("/blobs/uploads/") && patches++ === 2
        ? { kind: "drop-request-after", bytes: 100_000 }
        : undefined;
    const r = await push(one, `${proxy.host}/f/cut:v1`, { ...FAST, chunked: true, chunkSize: 256 * 1024 });
    assert.equal(r.digest, expected);
    const cut = proxy.seen.findIndex((s) => s.fault === "drop-request-after");
    assert.ok(cut >= 0);
    assert.ok(proxy.seen.slice(cut + 1).some((s) => s.method === "GET" && s.url.includes("/blobs/uploads/")));
    assert.equal(await registryHas("f/cut:v1"), expected);
  });

  test("a stalled request hits the idle timeout and is retried", async () => {
    let n = 0;
    proxy.fault = ({ method, url }) =>
      isBlobUpload(method, url) && n++ === 0 ? { kind: "stall" } : undefined;
    const t0 = Date.now();
    const r = await push(one, `${proxy.host}/f/stall:v1`, FAST);
    assert.equal(r.digest, expected);
    assert.ok(Date.now() - t0 < 30_000);
    assert.ok(proxy.seen.some((s) => s.fault === "stall"));
    assert.equal(await registryHas("f/stall:v1"), expected);
  });

  test("a registry that keeps failing: a clear error after bounded retries, and no manifest is written", async () => {
    proxy.fault = ({ method, url }) =>
      isBlobUpload(method, url) ? { kind: "status", status: 503 } : undefined;
    const t0 = Date.now();
    await assert.rejects(push(one, `${proxy.host}/f/dead:v1`, FAST), (e: Error & { code?: string }) => {
      assert.equal(e.code, "UPLOAD_FAILED");
      assert.match(e.message, /gave up after 4 attempts.*503/);
      return true;
    });
    assert.ok(Date.now() - t0 < 30_000);
    assert.ok(
      !proxy.seen.some((s) => s.method === "PUT" && s.url.includes("/manifests/")),
      "no manifest PUT",
    );
    await assert.rejects(
      runAsync("skopeo", ["inspect", "--raw", "--tls-verify=false", `docker://${reg.host}/f/dead:v1`]),
    );
  });

  test("pull: a download cut mid-blob resumes with a Range request; the layout verifies", async () => {
    await push(one, `${reg.host}/f/src:v1`, FAST);
    // Every first try of a blob is cut after 200 kB (the small config passes whole); resumed requests carry Range.
    proxy.fault = ({ method, url, range }) =>
      method === "GET" && /\/blobs\/sha256:/.test(url) && !range
        ? { kind: "drop-response-after", bytes: 200_000 }
        : undefined;
    const out = join(work, "pulled");
    const r = await pull(`${proxy.host}/f/src:v1`, `oci:${out}:v1`, FAST);
    assert.equal(r.digest, expected);
    assert.ok(proxy.seen.some((s) => s.fault === "drop-response-after"));
    assert.ok(
      proxy.seen.some((s) => s.range?.startsWith("bytes=")),
      "resumed with Range",
    );
    await runAsync("skopeo", ["copy", `oci:${out}:v1`, `oci:${join(work, "pulled-check")}:v1`]);
  });

  test("pull: a registry serving corrupt bytes is refused (DIGEST_MISMATCH) and the layout is not created", async () => {
    // Same length, one byte flipped: only the digest can tell.
    proxy.fault = ({ method, url }) =>
      method === "GET" && /\/blobs\/sha256:/.test(url) ? { kind: "corrupt-response" } : undefined;
    const out = join(work, "corrupt");
    await assert.rejects(
      pull(`${proxy.host}/f/src:v1`, `oci:${out}:v1`, FAST),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, "DIGEST_MISMATCH");
        return true;
      },
    );
    assert.ok(!existsSync(out));
  });
});
