// Runtime truth for k8s gen: the generated Pod runs under `podman kube play` (podman 4.3) with its
// read-only root, because the emptyDir zerodep put at /tmp is where the program writes; the same
// manifest without that emptyDir fails with EROFS — what a YAML-only tool that adds
// readOnlyRootFilesystem: true without reading the binary produces.
//
// What podman needs here: the image in its own storage under the name and digest the manifest pins
// (`podman pull oci:DIR:TAG` keeps the manifest bytes, so the digest is the layout's; a tag adds the
// name, and podman resolves NAME@DIGEST locally without a registry), catatonit for the pod's pause
// image, and a nofile ulimit the sandbox allows (containers.conf default_ulimits, as podmanRun's
// --ulimit does for podman run).
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { type GenResult, generateManifests, toYamlDocuments } from "../../src/k8s/gen.js";
import { zerodep } from "../helpers/cli.js";
import { needs } from "../helpers/env.js";
import { podman } from "../helpers/podman.js";
import { buildGoProgram, CACHE_WRITER, LOW_PORT_LISTENER, TMP_WRITER } from "./gen-tools-for-tests.js";

const work = join(tmpdir(), `zd-k8s-play-${process.pid}-${Date.now().toString(36)}`);
mkdirSync(work, { recursive: true });
const state = join(work, "podman");
after(() => {
  podman(state, ["pod", "rm", "--all", "--force"], 60_000);
  rmSync(work, { recursive: true, force: true });
});

const conf = join(work, "containers.conf");
writeFileSync(conf, '[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]\n');
const pm = (args: string[]) => podman(state, args, 180_000, { CONTAINERS_CONF: conf });

/** Plays a Pod manifest to completion (restartPolicy Never); the container's exit code and output. */
function play(r: GenResult, file: string): { code: string; logs: string; inspect: string } {
  // biome-ignore lint/suspicious/noExplicitAny: the generated Pod, walked by its known shape
  const pod = structuredClone(r.documents[0]) as Record<string, any>;
  // podman restarts an Always pod's container; the test wants one run to read its exit code.
  pod.spec.restartPolicy = "Never";
  const path = join(work, file);
  writeFileSync(path, toYamlDocuments([pod]));
  // --build=false: podman would otherwise build the image from a directory named like it in the cwd.
  const p = pm(["kube", "play", "--replace", "--build=false", "--network", "none", path]);
  assert.equal(p.code, 0, `kube play: ${p.stderr}`);
  const name = `${pod.metadata.name}-${pod.spec.containers[0].name}`;
  const w = pm(["wait", name]);
  assert.equal(w.code, 0, w.stderr);
  const logs = pm(["logs", name]);
  const inspect = pm([
    "inspect",
    name,
    "--format",
    "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.ImageName}}",
  ]).stdout.trim();
  pm(["kube", "down", path]);
  return { code: w.stdout.trim(), logs: `${logs.stdout}${logs.stderr}`, inspect };
}

describe("podman kube play runs the generated Pod with its read-only root", () => {
  const skip = needs({ tools: ["go", "podman", "runc", "catatonit"] });

  test("with zerodep's /tmp emptyDir the program writes its temp file; without it, EROFS", {
    skip,
    timeout: 600_000,
  }, async () => {
    const bin = buildGoProgram(join(work, "src"), "tmpwriter", TMP_WRITER, "1.25");
    const layout = join(work, "layout");
    const p = zerodep(["pack", bin, "--out", `oci:${layout}:t`]);
    assert.equal(p.code, 0, p.stderr);
    const r = await generateManifests(`oci:${layout}:t`, { kind: "Pod", name: "tw" });
    const c = (r.documents[0] as { spec: { containers: { image: string; volumeMounts?: unknown[] }[] } }).spec
      .containers[0]!;
    assert.equal(c.image, `localhost/tw@${r.facts.digest}`);
    assert.deepEqual(
      r.facts.writablePaths.map((w) => w.path),
      ["/tmp"],
    );

    // Into podman's storage, under the name the manifest uses; podman keeps the layout's digest.
    const pulled = pm(["pull", "-q", `oci:${layout}:t`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const id = pulled.stdout.trim().split("\n").pop()!;
    assert.equal(pm(["tag", id, "localhost/tw:latest"]).code, 0);
    assert.equal(pm(["image", "inspect", "--format", "{{.Digest}}", id]).stdout.trim(), r.facts.digest);

    const good = play(r, "pod.yaml");
    assert.equal(good.code, "0", good.logs);
    assert.match(good.logs, /^ok \/tmp\/zd-\d+$/m);
    // podman really ran it read-only, as the image's user, from the pinned digest.
    assert.equal(good.inspect, `true ${r.facts.user.uid}:${r.facts.user.gid} localhost/tw@${r.facts.digest}`);

    const stripped = structuredClone(r);
    const pod = stripped.documents[0] as {
      spec: { volumes?: unknown; containers: { volumeMounts?: unknown }[] };
    };
    delete pod.spec.volumes;
    delete pod.spec.containers[0]!.volumeMounts;
    const bad = play(stripped, "pod-no-emptydir.yaml");
    assert.equal(bad.code, "1", bad.logs);
    assert.match(bad.logs, /tmp write failed: open \/tmp\/zd-\d+: read-only file system/);
  });

  test("the cache directory emptyDir is where os.UserCacheDir writes under the read-only root", {
    skip,
    timeout: 600_000,
  }, async () => {
    const bin = buildGoProgram(join(work, "src-cache"), "cachewriter", CACHE_WRITER, "1.25");
    const layout = join(work, "layout-cache");
    const p = zerodep(["pack", bin, "--out", `oci:${layout}:t`]);
    assert.equal(p.code, 0, p.stderr);
    const r = await generateManifests(`oci:${layout}:t`, { kind: "Pod", name: "cw" });
    const pulled = pm(["pull", "-q", `oci:${layout}:t`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal(pm(["tag", pulled.stdout.trim().split("\n").pop()!, "localhost/cw:latest"]).code, 0);
    const cache = r.facts.writablePaths[0]!.path;
    const good = play(r, "cache.yaml");
    assert.equal(good.code, "0", good.logs);
    assert.equal(good.logs.trim(), `ok ${cache}/zd-cache`);
    const stripped = structuredClone(r);
    const pod = stripped.documents[0] as {
      spec: { volumes?: unknown; containers: { volumeMounts?: unknown }[] };
    };
    delete pod.spec.volumes;
    delete pod.spec.containers[0]!.volumeMounts;
    const bad = play(stripped, "cache-no-emptydir.yaml");
    assert.equal(bad.code, "1", bad.logs);
    assert.match(bad.logs, /cache write failed: .*(read-only file system|no such file or directory)/);
  });

  test("port 80: the generated Pod binds it as uid 65532; without NET_BIND_SERVICE and the sysctl it cannot", {
    skip,
    timeout: 600_000,
  }, async () => {
    const bin = buildGoProgram(join(work, "src-port"), "lowport", LOW_PORT_LISTENER, "1.25");
    const layout = join(work, "layout-port");
    const p = zerodep(["pack", bin, "--port", "80", "--out", `oci:${layout}:t`]);
    assert.equal(p.code, 0, p.stderr);
    const r = await generateManifests(`oci:${layout}:t`, { kind: "Pod", name: "lp" });
    const pulled = pm(["pull", "-q", `oci:${layout}:t`]);
    assert.equal(pulled.code, 0, pulled.stderr);
    const id = pulled.stdout.trim().split("\n").pop()!;
    assert.equal(pm(["tag", id, "localhost/lp:latest"]).code, 0);
    // kube play publishes containerPorts, which needs a network (and creates podman's kube network
    // outside the test's state); the bind happens in the pod's own network namespace either way, so
    // the test plays the Pod without its ports list, on --network none.
    // biome-ignore lint/suspicious/noExplicitAny: the generated Pod, walked by its known shape
    const played = structuredClone(r) as GenResult & { documents: Record<string, any>[] };
    delete played.documents[0]!.spec.containers[0].ports;
    const good = play(played, "port.yaml");
    assert.equal(good.code, "0", good.logs);
    assert.match(good.logs, /^listening \[::\]:80$/m);
    const stripped = structuredClone(played);
    delete stripped.documents[0]!.spec.securityContext.sysctls;
    delete stripped.documents[0]!.spec.containers[0].securityContext.capabilities.add;
    const bad = play(stripped, "port-bare.yaml");
    assert.equal(bad.code, "1", bad.logs);
    assert.match(bad.logs, /listen failed: listen tcp :80: bind: permission denied/);
    // podman gives an added capability to a non-root process (as ambient); containerd and CRI-O do not,
    // so the manifest also sets the sysctl — which alone is enough (podman run applies it; podman 4.3's
    // kube play does not apply pod sysctls, so it is shown with podman run).
    const lim = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];
    const sysctl = pm([
      "run",
      "--rm",
      ...lim,
      "--user",
      "65532:65532",
      "--cap-drop",
      "ALL",
      "--sysctl",
      "net.ipv4.ip_unprivileged_port_start=80",
      id,
    ]);
    assert.equal(sysctl.code, 0, sysctl.stderr);
    assert.match(sysctl.stdout, /^listening \[::\]:80$/m);
  });
});
