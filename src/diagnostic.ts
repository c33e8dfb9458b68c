/**
 * One shape for everything zerodep reports that is not a fatal error: inspect's warnings, check's and
 * deps' problems, analyze's findings, tar's warnings. Each module exports its codes as a closed list
 * (`*_CODES`) and type, so that consumers branch on codes, never on wording, and the README's code tables
 * can be checked against the lists (test/architecture/codes.test.ts).
 */
export type Severity = "error" | "warning" | "info";

export interface Diagnostic<Code extends string = string> {
  /** Stable code (README tables). */
  code: Code;
  /** error: the verdict fails (it will not run). warning: a feature fails, or the input is odd. info: may degrade. */
  severity: Severity;
  /** One line, with the real error the program would hit in quotes where there is one. */
  message: string;
  /** How to fix it, one line. */
  fix?: string;
  /** Where in the input: a path (in-root or in-archive), a file offset, a layer index. */
  where?: { path?: string; offset?: number; layer?: number };
}
