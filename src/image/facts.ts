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

/**
 * A node's facts: keys and values alternating. A node carries one to three facts, and a Map per node
 * cost more than the node itself in an image of a million files (issue #12).
 */
export type FactList = unknown[];

export function getFact<T>(n: IndexNode, key: FactKey<T>): T | undefined {
  const f = n.facts;
  if (f) for (let i = 0; i < f.length; i += 2) if (f[i] === key) return f[i + 1] as T;
  return undefined;
}

export function setFact<T>(n: IndexNode, key: FactKey<T>, value: T): void {
  if (!n.facts) {
    n.facts = [key, value]; // exactly two slots (a push would reserve 17)
    return;
  }
  const f = n.facts;
  for (let i = 0; i < f.length; i += 2) {
    if (f[i] === key) {
      f[i + 1] = value;
      return;
    }
  }
  f.push(key, value);
}

/** The bytes of small /etc files, kept during the indexing pass (passwd, group, ld.so.cache …). */
export const CAPTURED_BYTES = factKey<Uint8Array>("bytes");
/** sha256 (hex) of a regular file's content, when the Sha256Visitor ran. */
export const CONTENT_SHA256 = factKey<string>("sha256");
