// A loopback HTTP proxy in front of a test registry that records every request and can inject faults:
// answer with a status (500, 429 …) instead of forwarding, cut the connection after N bytes of a
// request or response body, or stall (accept and never answer). Distribution builds its Location
// headers from the Host header, which the proxy forwards unchanged, so uploads keep going through it.
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";

export type Fault =
  | { kind: "status"; status: number; headers?: Record<string, string> }
  | { kind: "drop-request-after"; bytes: number }
  | { kind: "drop-response-after"; bytes: number }
  | { kind: "corrupt-response" }
  | { kind: "stall" };

export interface Seen {
  method: string;
  url: string;
  status?: number;
  fault?: Fault["kind"];
  range?: string;
}

export interface TestProxy {
  host: string;
  seen: Seen[];
  /** Decides per request (called in order); undefined forwards it untouched. */
  fault: (req: { method: string; url: string; index: number; range?: string }) => Fault | undefined;
  close(): Promise<void>;
}

export async function startProxy(targetPort: number): Promise<TestProxy> {
  const seen: Seen[] = [];
  const proxy: TestProxy = { host: "", seen, fault: () => undefined, close: async () => {} };
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const rec: Seen = { method: req.method ?? "", url: req.url ?? "" };
    if (req.headers.range) rec.range = String(req.headers.range);
    seen.push(rec);
    const f = proxy.fault({
      method: rec.method,
      url: rec.url,
      index: seen.length - 1,
      ...(rec.range ? { range: rec.range } : {}),
    });
    if (f) rec.fault = f.kind;
    if (f?.kind === "status") {
      req.resume();
      req.on("end", () => {
        rec.status = f.status;
        res.writeHead(f.status, { "Content-Type": "application/json", ...f.headers });
        res.end(JSON.stringify({ errors: [{ code: "INJECTED", message: `injected ${f.status}` }] }));
      });
      return;
    }
    if (f?.kind === "stall") {
      req.resume();
      return; // never answered: the client's idle timeout must fire
    }
    const up = request(
      { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        rec.status = ur.statusCode;
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        if (f?.kind === "corrupt-response") {
          let first = true;
          ur.on("data", (c: Buffer) => {
            if (first && c.length > 0) {
              c[0] = c[0]! ^ 0xff;
              first = false;
            }
            res.write(c);
          });
          ur.on("end", () => res.end());
          return;
        }
        if (f?.kind === "drop-response-after") {
          let n = 0;
          ur.on("data", (c: Buffer) => {
            if (n + c.length >= f.bytes) {
              res.write(c.subarray(0, Math.max(0, f.bytes - n)));
              res.socket?.destroy();
              ur.destroy();
              return;
            }
            n += c.length;
            res.write(c);
          });
          ur.on("end", () => res.end());
          return;
        }
        ur.pipe(res);
      },
    );
    up.on("error", () => res.socket?.destroy());
    if (f?.kind === "drop-request-after") {
      let n = 0;
      req.on("data", (c: Buffer) => {
        if (n + c.length >= f.bytes) {
          up.write(c.subarray(0, Math.max(0, f.bytes - n)));
          req.socket.destroy();
          up.destroy();
          return;
        }
        n += c.length;
        up.write(c);
      });
      req.on("end", () => up.end());
      return;
    }
    req.pipe(up);
  };
  const server: Server = createServer(handle);
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  proxy.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}

/** Requests that moved blob bytes or started uploads (what a re-push must not do). */
export function uploadRequests(seen: Seen[]): Seen[] {
  return seen.filter(
    (s) =>
      (s.method === "POST" || s.method === "PATCH" || s.method === "PUT") &&
      s.url.includes("/blobs/uploads/"),
  );
}
