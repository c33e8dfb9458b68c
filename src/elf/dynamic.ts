import { Bytes } from "../binary/bytes.js";
import { DT } from "./constants.js";

export interface DynamicEntry {
  tag: number;
  val: number;
}

/** Parses the dynamic array up to and excluding DT_NULL (gABI "Dynamic Section"). */
export function parseDynamic(b: Uint8Array, cls: 32 | 64, little: boolean): DynamicEntry[] {
  const r = new Bytes(b, little);
  const size = cls === 64 ? 16 : 8;
  const out: DynamicEntry[] = [];
  for (let o = 0; o + size <= b.byteLength; o += size) {
    const tag = cls === 64 ? r.i64(o) : r.i32(o); // d_tag
    const val = cls === 64 ? r.u64(o + 8) : r.u32(o + 4); // d_un
    if (tag === DT.NULL) break;
    out.push({ tag, val });
  }
  return out;
}
