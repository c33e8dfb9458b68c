import { ZerodepError } from "../errors.js";

const MAX_DEPTH = 256;
const encoder = new TextEncoder();

/**
 * Deterministic JSON bytes: object keys sorted by code point at every level, no whitespace, UTF-8.
 * Used for every blob we digest.
 *
 * Code point order equals UTF-8 byte order, which is how Go's encoding/json sorts map keys, so a Go
 * program marshalling the same map[string]any prints the same bytes (except that Go escapes <, >, & and
 * U+2028/U+2029 by default; we do not, like JSON.stringify). Plain JavaScript `sort()` compares UTF-16
 * code units and gets astral characters wrong. Properties whose value is `undefined` are left out, as
 * JSON.stringify does; anything else without a JSON form (NaN, Infinity, bigint, functions, Map, typed
 * arrays, cycles) is refused rather than silently turned into `null` or `{}`.
 */
export function canonicalJson(value: unknown): Uint8Array {
  return encoder.encode(serialise(value, [], "$"));
}

function fail(path: string, what: string): never {
  throw new ZerodepError("JSON_UNSERIALIZABLE", `cannot serialise ${path} as canonical JSON: ${what}`);
}

function serialise(value: unknown, ancestors: object[], path: string): string {
  switch (typeof value) {
    case "string":
      // JSON.stringify escapes lone surrogates (well-formed JSON.stringify), so the output is valid UTF-8.
      return JSON.stringify(value);
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isFinite(value)) fail(path, String(value));
      return JSON.stringify(value);
    case "object": {
      if (value === null) return "null";
      if (ancestors.includes(value)) fail(path, "cycle");
      if (ancestors.length >= MAX_DEPTH) fail(path, `nested deeper than ${MAX_DEPTH}`);
      const toJSON = (value as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === "function") return serialise(toJSON.call(value), ancestors, path);
      ancestors.push(value);
      try {
        if (Array.isArray(value)) {
          const parts = value.map((v, i) => {
            if (v === undefined) fail(`${path}[${i}]`, "undefined in an array");
            return serialise(v, ancestors, `${path}[${i}]`);
          });
          return `[${parts.join(",")}]`;
        }
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          fail(path, `a ${value.constructor?.name ?? "non-plain"} object`);
        }
        const record = value as Record<string, unknown>;
        const keys = Object.keys(record)
          .filter((k) => record[k] !== undefined)
          .sort(compareCodePoints);
        const parts = keys.map(
          (k) => `${JSON.stringify(k)}:${serialise(record[k], ancestors, `${path}.${k}`)}`,
        );
        return `{${parts.join(",")}}`;
      } finally {
        ancestors.pop();
      }
    }
    default:
      return fail(path, typeof value);
  }
}

/** Orders strings by Unicode code point (= UTF-8 byte order), not by UTF-16 code unit. */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(i)!;
    if (ca !== cb) return ca < cb ? -1 : 1;
    // Equal code points occupy the same number of code units in both strings.
    i += ca > 0xffff ? 2 : 1;
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}
