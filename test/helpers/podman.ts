import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

/**
 * podman as it works on this machine kind (DEVELOPERS.md): vfs storage, runc, cgroupfs, file events,
 * with its whole state under `stateDir` so tests never touch the user's images. Bounded in time.
 */
export function podman(stateDir: string, args: string[], timeoutMs = 180_000, env?: NodeJS.ProcessEnv) {
  for (const d of ["root", "runroot", "tmp"]) mkdirSync(join(stateDir, d), { recursive: true });
  const global = [
    ["--root", join(stateDir, "root")],
    ["--runroot", join(stateDir, "runroot")],
    ["--storage-driver", "vfs"],
    ["--runtime", "runc"],
    ["--cgroup-manager", "cgroupfs"],
    ["--events-backend", "file"],
    ["--tmpdir", join(stateDir, "tmp")],
  ].flat();
  const r = spawnSync("podman", [...global, ...args], {
    encoding: "utf8",
    timeout: timeoutMs,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `podman run --rm` of an image (any transport: oci:DIR:TAG, docker-archive:FILE …), no network. */
export function podmanRun(stateDir: string, image: string, extra: string[] = []) {
  const limits = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"];
  return podman(stateDir, ["run", "--rm", "--network", "none", ...limits, ...extra, image]);
}
