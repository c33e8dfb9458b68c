/** One authentication challenge from a WWW-Authenticate header (RFC 7235). */
export interface Challenge {
  /** Lower-cased scheme: "bearer", "basic", … */
  scheme: string;
  /** Parameters with lower-cased names: realm, service, scope, error … */
  params: Record<string, string>;
}

const TOKEN_CHARS = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/**
 * Parses a WWW-Authenticate header value into its challenges. Quoted strings may hold commas and
 * backslash escapes (scope="repository:a:pull,push"); several challenges may share one header
 * ("Basic realm=x, Bearer realm=y,service=z"). Malformed tails are dropped, never thrown on: the
 * header comes from the network.
 */
export function parseChallenges(header: string): Challenge[] {
  const out: Challenge[] = [];
  let i = 0;
  const n = header.length;
  const skipWs = () => {
    while (i < n && (header[i] === " " || header[i] === "\t")) i++;
  };
  const token = (): string => {
    const s = i;
    while (i < n && TOKEN_CHARS.test(header[i]!)) i++;
    return header.slice(s, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (header[i] === ",") {
      i++;
      continue;
    }
    const start = i;
    const name = token();
    if (name === "") {
      i++; // junk character
      continue;
    }
    skipWs();
    if (header[i] === "=" && current) {
      i++;
      skipWs();
      let value: string;
      if (header[i] === '"') {
        i++;
        let v = "";
        while (i < n && header[i] !== '"') {
          if (header[i] === "\\" && i + 1 < n) i++;
          v += header[i];
          i++;
        }
        i++; // closing quote
        value = v;
      } else {
        // Unquoted: up to the next comma or blank (lenient: a realm URL's ":" and "/" are not token chars).
        const s = i;
        while (i < n && header[i] !== "," && header[i] !== " " && header[i] !== "\t") i++;
        value = header.slice(s, i);
      }
      current.params[name.toLowerCase()] = value;
      continue;
    }
    if (header[i] === "=" && !current) {
      i = start + name.length + 1;
      continue;
    }
    // A new scheme (a token not followed by "=").
    current = { scheme: name.toLowerCase(), params: {} };
    out.push(current);
    // token68 form ("Negotiate abc==") is not used by registries; its value is skipped as junk above.
  }
  return out;
}
