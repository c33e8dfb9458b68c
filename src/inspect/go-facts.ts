import type { BinaryLayout } from "../binary/layout.js";
import type { ByteSource } from "../io/reader.js";
import type { GoInfo } from "./types.js";

export async function readGoInfo(_src: ByteSource, _layout: BinaryLayout): Promise<GoInfo | null> {
  return null;
}
