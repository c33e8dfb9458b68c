// A misbehaving registry for the tests: a small Node server on 127.0.0.1 (free port) whose every reply
// is scripted by the test. It records each request it sees (method, path, Authorization header, body,
// and whether it came over TLS or plain HTTP), so a test can assert what a credential-holding client
// sent where. Three flavours: plain HTTP, TLS (certificate from makeTlsMaterial), or both on one port
// (the first byte of a connection tells a TLS handshake from plain HTTP), which lets a test redirect
// from https://H:P/ to http://H:P/ — the same host and port, downgraded.
//
// Helpers script the usual hostility: a body sent one byte every few seconds, a body that never ends,
// a Content-Length that lies. `tinyImage` gives a real (small) OCI image to serve, so a client that
// behaves can finish.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createServer as createNetServer, type Socket } from "node:net";
import { Duplex } from "node:stream";

export interface SeenRequest {
  method: string;
  /** Path and query. */
  url: string;
  protocol: "http" | "https";
  authorization: string | undefined;
  /** The request body as text (first 1 MiB). */
  body: string;
}

export type Handler = (req: SeenRequest, res: ServerResponse, raw: IncomingMessage) => void | Promise<void>;

export interface HostileServer {
  /** 127.0.0.1:PORT */
  host: string;
  port: number;
  /** Every request seen, in order. */
  seen: SeenRequest[];
  /** Replaces the script; the default answers 404. */
  handle: Handler;
  close(): Promise<void>;
}

export async function startHostileServer(
  opts: { tls?: { certFile: string; keyFile: string }; plainToo?: boolean } = {},
): Promise<HostileServer> {
  const seen: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const out: HostileServer = {
    host: "",
    port: 0,
    seen,
    handle: (_q, res) => {
      res.writeHead(404).end();
    },
    close: async () => {},
  };
  const onRequest = (protocol: "http" | "https") => (raw: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    let n = 0;
    raw.on("data", (c: Buffer) => {
      n += c.length;
      if (n <= 1 << 20) parts.push(c);
    });
    raw.on("end", () => {
      const q: SeenRequest = {
        method: raw.method ?? "",
        url: raw.url ?? "/",
        protocol,
        authorization: raw.headers.authorization,
        body: Buffer.concat(parts).toString("utf8"),
      };
      seen.push(q);
      Promise.resolve(out.handle(q, res, raw)).catch(() => res.destroy());
    });
  };
  const http = createHttpServer(onRequest("http"));
  const https = opts.tls
    ? createHttpsServer(
        { cert: readFileSync(opts.tls.certFile), key: readFileSync(opts.tls.keyFile) },
        onRequest("https"),
      )
    : undefined;
  // One listening socket; each connection goes to the TLS or the plain server by its first byte.
  const front = createNetServer((sock) => {
    sockets.add(sock);
    sock.on("close", () => sockets.delete(sock));
    sock.on("error", () => {});
    sock.once("data", (first: Buffer) => {
      const tlsHello = first[0] === 0x16;
      if (tlsHello && https) {
        // TLSSocket reads a net.Socket's handle directly, past anything already read in JS; a plain
        // Duplex over the socket makes it read through JS, starting with the byte we peeked at.
        https.emit("connection", jsStream(sock, first));
      } else if (!tlsHello && (!https || opts.plainToo)) {
        sock.pause();
        sock.unshift(first);
        http.emit("connection", sock);
        sock.resume();
      } else sock.destroy();
    });
  });
  await new Promise<void>((resolve) => front.listen(0, "127.0.0.1", resolve));
  out.port = (front.address() as { port: number }).port;
  out.host = `127.0.0.1:${out.port}`;
  out.close = () =>
    new Promise<void>((resolve) => {
      // Destroying the sockets closes every response, which stops their trickle/endless writers.
      for (const s of sockets) s.destroy();
      front.close(() => resolve());
    });
  return out;
}

/** `sock` as a JS-only Duplex whose readable side starts with `first`. */
function jsStream(sock: Socket, first: Buffer): Duplex {
  const d = new Duplex({
    read() {
      sock.resume();
    },
    write(chunk, enc, cb) {
      sock.write(chunk, enc, cb);
    },
    final(cb) {
      sock.end();
      cb();
    },
    destroy(err, cb) {
      sock.destroy(err ?? undefined);
      cb(err);
    },
  });
  d.push(first);
  sock.on("data", (c: Buffer) => {
    if (!d.push(c)) sock.pause();
  });
  sock.on("end", () => d.push(null));
  sock.on("close", () => d.destroy());
  return d;
}

/** Sends `head` and then `body` one byte every `everyMs` (never tripping a per-read idle timeout). */
export function trickle(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  body: Uint8Array,
  everyMs: number,
): void {
  res.writeHead(status, headers);
  res.flushHeaders();
  let i = 0;
  const t = setInterval(() => {
    if (res.destroyed || i >= body.length) {
      clearInterval(t);
      if (!res.destroyed) res.end();
      return;
    }
    res.write(body.subarray(i, i + 1));
    i++;
  }, everyMs);
  res.on("close", () => clearInterval(t));
}

/** A body that never ends: 64 KiB chunks as fast as the client takes them, until it hangs up. */
export function endless(
  res: ServerResponse,
  status: number,
  headers: Record<string, string>,
  fill = 0x7b,
): void {
  res.writeHead(status, headers);
  const chunk = Buffer.alloc(64 * 1024, fill);
  const pump = () => {
    while (!res.destroyed && res.write(chunk));
  };
  res.on("drain", pump);
  pump();
}

const sha = (b: Uint8Array) => `sha256:${createHash("sha256").update(b).digest("hex")}`;

export interface TinyImage {
  manifest: Buffer;
  manifestDigest: string;
  config: Buffer;
  configDigest: string;
  layer: Buffer;
  layerDigest: string;
  /** Bytes of a blob or manifest by digest, or undefined. */
  get(digest: string): Buffer | undefined;
}

/** A valid single-layer OCI image (the layer is an empty tar: 1024 zero bytes). */
export function tinyImage(): TinyImage {
  const layer = Buffer.alloc(1024);
  const config = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      config: {},
      rootfs: { type: "layers", diff_ids: [sha(layer)] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: sha(config),
        size: config.length,
      },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: sha(layer), size: layer.length },
      ],
    }),
  );
  const byDigest = new Map([
    [sha(layer), layer],
    [sha(config), config],
    [sha(manifest), manifest],
  ]);
  return {
    manifest,
    manifestDigest: sha(manifest),
    config,
    configDigest: sha(config),
    layer,
    layerDigest: sha(layer),
    get: (d) => byDigest.get(d),
  };
}

/**
 * The usual distribution answers for `img` under any repository and tag: GET /v2/ (200), manifests
 * by tag or digest, blobs by digest. Returns true when it answered.
 */
export function serveImage(img: TinyImage, q: SeenRequest, res: ServerResponse): boolean {
  const path = q.url.split("?")[0]!;
  if (path === "/v2/") {
    res.writeHead(200, { "Content-Type": "application/json" }).end("{}");
    return true;
  }
  const m = /^\/v2\/.+\/(manifests|blobs)\/([^/]+)$/.exec(path);
  if (!m) return false;
  const body = m[1] === "manifests" && !m[2]!.startsWith("sha256:") ? img.manifest : img.get(m[2]!);
  if (!body) {
    res.writeHead(404, { "Content-Type": "application/json" });
    res.end(
      JSON.stringify({
        errors: [{ code: m[1] === "blobs" ? "BLOB_UNKNOWN" : "MANIFEST_UNKNOWN", message: "unknown" }],
      }),
    );
    return true;
  }
  const type =
    body === img.manifest ? "application/vnd.oci.image.manifest.v1+json" : "application/octet-stream";
  res.writeHead(200, {
    "Content-Type": type,
    "Content-Length": String(body.length),
    "Docker-Content-Digest": sha(body),
  });
  res.end(q.method === "HEAD" ? undefined : body);
  return true;
}
