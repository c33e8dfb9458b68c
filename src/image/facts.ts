import type { IndexNode } from "./file-index.js";

/**
 * Typed per-file facts attached to the merged tree by content visitors (ELF facts, a content hash, the
 * captured bytes of /etc files), instead of untyped string slots. A hard link shares its target's facts.
 */
export interface FactKey<T> {
  readonly name: string;
  /** Phantom: carries T for the accessors. */
  readonly _type?: T;
}

export function factKey<T>(name: string): FactKey<T> {
  return { name };
}

export function getFact<T>(n: IndexNode, key: FactKey<T>): T | undefined {
  return n.facts?.get(key as FactKey<unknown>) as T | undefined;
}

export function setFact<T>(n: IndexNode, key: FactKey<T>, value: T): void {
  if (!n.facts) n.facts = new Map();
  n.facts.set(key as FactKey<unknown>, value);
}

/** The bytes of small /etc files, kept during the indexing pass (passwd, group, ld.so.cache …). */
export const CAPTURED_BYTES = factKey<Uint8Array>("bytes");
/** sha256 (hex) of a regular file's content, when the Sha256Visitor ran. */
export const CONTENT_SHA256 = factKey<string>("sha256");
