/**
 * Broken copies of real binaries, made byte by byte from a built probe: truncated (the first 3000
 * bytes, half the file) and corrupted headers. Each mutation says in a comment which ELF field it
 * breaks (offsets from the ELF-64 header, System V gABI).
 */
import { readFileSync } from "node:fs";

export type Mutation =
  | "trunc3000"
  | "trunc-half"
  | "bad-magic"
  | "bad-machine"
  | "interp-outside"
  | "dynamic-outside";

export const MUTATIONS: Mutation[] = [
  "trunc3000",
  "trunc-half",
  "bad-magic",
  "bad-machine",
  "interp-outside",
  "dynamic-outside",
];

const PT_INTERP = 3;
const PT_DYNAMIC = 2;

/** Sets p_offset (and p_filesz kept) of every program header of `type` to beyond the end of the file. */
function pointOutside(b: Buffer, type: number): boolean {
  const phoff = Number(b.readBigUInt64LE(0x20)); // e_phoff
  const phentsize = b.readUInt16LE(0x36); // e_phentsize
  const phnum = b.readUInt16LE(0x38); // e_phnum
  let hit = false;
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (b.readUInt32LE(at) !== type) continue; // p_type
    b.writeBigUInt64LE(BigInt(b.length + 0x100000), at + 8); // p_offset
    hit = true;
  }
  return hit;
}

/** The mutated bytes, or null when the mutation does not apply (e.g. no PT_INTERP in a static binary). */
export function mutate(file: string, m: Mutation): Buffer | null {
  const b = Buffer.from(readFileSync(file));
  switch (m) {
    case "trunc3000":
      return b.subarray(0, 3000);
    case "trunc-half":
      return b.subarray(0, Math.floor(b.length / 2));
    case "bad-magic":
      b[1] = 0x45 ^ 0xff; // e_ident[EI_MAG1] 'E' flipped: no longer ELF
      return b;
    case "bad-machine":
      // e_machine: x86-64 (62) → IA-64 (50), a machine no qemu-user handler emulates: once
      // qemu-user-static's handlers are registered in binfmt_misc (the build tests run arm64 images),
      // an AArch64 claim would be handed to qemu instead of failing with "exec format error".
      b.writeUInt16LE(50, 0x12);
      return b;
    case "interp-outside":
      return pointOutside(b, PT_INTERP) ? b : null;
    case "dynamic-outside":
      return pointOutside(b, PT_DYNAMIC) ? b : null;
  }
}
