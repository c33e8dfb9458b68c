// Foreign-architecture programs run here through binfmt_misc + qemu-user-static (.ci/run installs it).
// The kernel hands an ELF whose header matches a registered magic/mask to the registered interpreter;
// with flag F ("fix binary") the kernel opens the interpreter at registration time, so it also works
// inside containers (podman) whose root file system has no qemu. Debian's qemu-user-static ships the
// registrations in /usr/lib/binfmt.d/qemu-ARCH.conf (flags OPF); systemd-binfmt writes them at boot,
// but a CI container has no systemd, so tests register them here when root.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const BINFMT = "/proc/sys/fs/binfmt_misc";

export type QemuArch = "aarch64" | "arm";

export interface BinfmtState {
  ok: boolean;
  /** Why it is usable (what was found or done), or why not (what is missing): one line for a skip. */
  why: string;
}

/** The registration's fields as /proc/sys/fs/binfmt_misc/NAME prints them. */
function readEntry(file: string): { enabled: boolean; interpreter: string; flags: string } {
  const text = readFileSync(file, "utf8");
  return {
    enabled: /^enabled$/m.test(text),
    interpreter: /^interpreter (.*)$/m.exec(text)?.[1] ?? "",
    flags: /^flags: ?(.*)$/m.exec(text)?.[1] ?? "",
  };
}

/** Whether an existing entry is usable in a container: enabled, and F so the interpreter is pinned. */
function judgeEntry(arch: QemuArch, file: string, action: string): BinfmtState {
  const e = readEntry(file);
  if (!e.enabled) return { ok: false, why: `${file} is registered but disabled` };
  if (!e.flags.includes("F")) {
    // Without F the kernel looks the interpreter up in the container's root: podman runs would fail
    // with "no such file or directory" although the host runs the program.
    return {
      ok: false,
      why: `${file} has flags "${e.flags}" without F: qemu-${arch} not usable inside containers`,
    };
  }
  return { ok: true, why: `${action} qemu-${arch} (interpreter ${e.interpreter}, flags ${e.flags})` };
}

/**
 * Makes sure the kernel runs `arch` ELF programs through qemu-user-static, in containers too: registers
 * /usr/lib/binfmt.d/qemu-ARCH.conf when it is not registered (root only; mounts binfmt_misc first when
 * it is not mounted). Idempotent, and never throws: a failure is returned with the reason, for a loud
 * skip.
 */
export function ensureBinfmt(arch: QemuArch): BinfmtState {
  try {
    const entry = join(BINFMT, `qemu-${arch}`);
    if (existsSync(entry)) return judgeEntry(arch, entry, "already registered:");
    const isRoot = process.getuid?.() === 0;
    const register = join(BINFMT, "register");
    if (!existsSync(register)) {
      if (!isRoot) return { ok: false, why: `${BINFMT} is not mounted and this is not root` };
      const m = spawnSync("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT], { encoding: "utf8" });
      if (m.error || m.status !== 0 || !existsSync(register)) {
        return {
          ok: false,
          why: `mount -t binfmt_misc ${BINFMT} failed: ${(m.error?.message ?? m.stderr).trim()}`,
        };
      }
      // A fresh mount may show a registration made by another mount of the same namespace.
      if (existsSync(entry))
        return judgeEntry(arch, entry, "already registered (after mounting binfmt_misc):");
    }
    if (!isRoot)
      return { ok: false, why: `qemu-${arch} is not registered in ${BINFMT} and this is not root` };
    const conf = `/usr/lib/binfmt.d/qemu-${arch}.conf`;
    if (!existsSync(conf)) return { ok: false, why: `${conf} is missing (package qemu-user-static)` };
    const line = readFileSync(conf, "utf8")
      .split("\n")
      .find((l) => l.startsWith(":"));
    if (!line) return { ok: false, why: `${conf} has no registration line` };
    const interpreter = line.split(":")[6] ?? "";
    if (!existsSync(interpreter)) return { ok: false, why: `${conf} names ${interpreter}, which is missing` };
    try {
      writeFileSync(register, line);
    } catch (e) {
      // EEXIST: another process registered it between the check and the write; judge what is there.
      if (!existsSync(entry))
        return { ok: false, why: `registering ${conf} failed: ${(e as Error).message}` };
    }
    if (!existsSync(entry)) return { ok: false, why: `registered ${conf} but ${entry} did not appear` };
    return judgeEntry(arch, entry, `registered ${conf}:`);
  } catch (e) {
    return { ok: false, why: `binfmt_misc for qemu-${arch}: ${(e as Error).message}` };
  }
}
