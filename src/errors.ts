/**
 * Typed errors with a stable `code`. The CLI maps classes to exit codes:
 * ParseError / IoError -> 3, UsageError -> 2. Anything else is a programming error and keeps its stack.
 */
export class ZerodepError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The input bytes are not what they claim to be: truncated, out of range, malformed. */
export class ParseError extends ZerodepError {
  /** File offset where the problem was found, when known. */
  readonly offset: number | undefined;
  constructor(code: string, message: string, offset?: number, options?: { cause?: unknown }) {
    super(code, offset === undefined ? message : `${message} (at offset 0x${offset.toString(16)})`, options);
    this.offset = offset;
  }
}

/** The file could not be opened or read (permissions, not a regular file, vanished). */
export class IoError extends ZerodepError {}

/** The command line or the options passed to a library function are wrong. */
export class UsageError extends ZerodepError {}

/** One-line description for the user: never a stack trace for our own error classes. */
export function describeError(err: unknown): string {
  if (err instanceof ZerodepError) return err.message;
  if (err && typeof err === "object" && "code" in err && "message" in err) {
    // Node system errors (ENOENT, EACCES, EISDIR ...)
    const e = err as { code: unknown; message: unknown; syscall?: unknown };
    return `${String(e.message)}`;
  }
  return String(err);
}

/**
 * A value from the input (a tag, a ref name, a path) as echoed in a message: at most `max` characters,
 * cut with "…". A hostile 10 MB tag must not become a 10 MB error line.
 */
export function clip(s: string, max = 200): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
