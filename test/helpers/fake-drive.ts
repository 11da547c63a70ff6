/**
 * A local HTTP server that speaks exactly the Google Drive v3 subset GDriveBackupMethod uses — the
 * multipart upload into appDataFolder, the name query (`spaces`, `q`, `fields`), alt=media and delete —
 * and nothing else: a request the method should not make is a 400. Every request's bearer token is checked
 * against `valid` (401 otherwise), and every request is recorded. `fail()` makes it fail the way Google
 * does — 401 (an expired token), 403, 429, 5xx, a hang, a hang mid-body, a dropped connection, or garbage —
 * on one kind of request or all, a given number of times. Its error bodies repeat the Authorization header,
 * as a careless proxy might, so tests can check that the method never copies a token into an error.
 *
 * Shared by the GDRIVE unit tests and the end-to-end backup-method tests; it holds the stored key files,
 * so one instance is one user's Drive.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type DriveOp = 'list' | 'media' | 'upload' | 'delete';
export type FaultKind = { status: number; reason?: string } | 'hang' | 'hang-body' | 'drop' | 'garbage';
export interface Fault {
  readonly kind: FaultKind;
  readonly on?: DriveOp;
  times: number;
}
export interface DriveFile {
  readonly id: string;
  readonly name: string;
  readonly parents: readonly string[];
  readonly content: Buffer;
}

/** The Drive v3 subset, strict about what it accepts: a request the method should not make is a 400. */
export class FakeDrive {
  readonly files = new Map<string, DriveFile>();
  readonly requests: { op: DriveOp | 'other'; method: string; url: string; authorization: string | undefined }[] = [];
  /** The access tokens Drive accepts now; change it to expire one. */
  valid: Set<string>;
  /** Pending faults, first match wins; clear the array to make Drive healthy again. */
  faults: Fault[] = [];
  /** The 200 body a `'garbage'` fault answers with. */
  garbage: Buffer = Buffer.from('<html>captive portal</html>');
  private server: Server | undefined;
  /** `http://127.0.0.1:<port>` once started: the method's `baseUrl`. */
  baseUrl = '';

  constructor(validTokens: Iterable<string> = []) {
    this.valid = new Set(validTokens);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.baseUrl = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  /** Fails the next `times` requests (default: all) of kind `on` (default: any) with `kind`, before the token check. */
  fail(kind: FaultKind, options: { on?: DriveOp; times?: number } = {}): void {
    this.faults.push({ kind, ...(options.on ? { on: options.on } : {}), times: options.times ?? Infinity });
  }

  seed(name: string, content: Uint8Array): string {
    const id = `seed${this.files.size}${randomBytes(6).toString('hex')}`;
    this.files.set(id, { id, name, parents: ['appDataFolder'], content: Buffer.from(content) });
    return id;
  }

  filesNamed(name: string): DriveFile[] {
    return [...this.files.values()].filter((f) => f.name === name);
  }

  countOf(op: DriveOp): number {
    return this.requests.filter((r) => r.op === op).length;
  }

  private handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://drive.test');
    const fileMatch = /^\/drive\/v3\/files\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    const op: DriveOp | 'other' =
      req.method === 'POST' && url.pathname === '/upload/drive/v3/files'
        ? 'upload'
        : req.method === 'GET' && url.pathname === '/drive/v3/files'
          ? 'list'
          : req.method === 'GET' && fileMatch
            ? 'media'
            : req.method === 'DELETE' && fileMatch
              ? 'delete'
              : 'other';
    this.requests.push({ op, method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });

    const fault = this.faults.find((f) => f.times > 0 && (f.on === undefined || f.on === op));
    if (fault) {
      fault.times--;
      const kind = fault.kind;
      if (kind === 'hang') return;
      if (kind === 'hang-body') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"files": [');
        return;
      }
      if (kind === 'drop') {
        req.socket.destroy();
        return;
      }
      if (kind === 'garbage') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(this.garbage);
        return;
      }
      return this.error(res, kind.status, kind.reason ?? 'backendError', req.headers.authorization);
    }

    // Google's 401 names no token, but a proxy might echo it: the method must not copy it either way.
    const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '');
    if (!auth || !this.valid.has(auth[1]!)) return this.error(res, 401, 'authError', req.headers.authorization);

    const query = Object.fromEntries(url.searchParams);
    switch (op) {
      case 'upload': {
        if (JSON.stringify(query) !== JSON.stringify({ uploadType: 'multipart' })) return this.error(res, 400, 'badRequest');
        const boundary = /^multipart\/related; boundary=([A-Za-z0-9_-]+)$/.exec(req.headers['content-type'] ?? '')?.[1];
        const parts = boundary ? parseMultipart(body, boundary) : undefined;
        if (!parts || parts.length !== 2) return this.error(res, 400, 'badMultipart');
        const [meta, media] = parts as [Part, Part];
        if (meta.headers['content-type'] !== 'application/json; charset=UTF-8' || media.headers['content-type'] !== 'application/octet-stream') {
          return this.error(res, 400, 'badContentType');
        }
        const metadata = JSON.parse(meta.body.toString('utf8')) as { name?: unknown; parents?: unknown };
        if (typeof metadata.name !== 'string' || JSON.stringify(metadata.parents) !== '["appDataFolder"]' || Object.keys(metadata).length !== 2) {
          return this.error(res, 400, 'badMetadata');
        }
        const id = `f${randomBytes(9).toString('base64url')}`;
        this.files.set(id, { id, name: metadata.name, parents: ['appDataFolder'], content: media.body });
        return this.json(res, 200, { kind: 'drive#file', id, name: metadata.name, mimeType: 'application/octet-stream' });
      }
      case 'list': {
        const name = /^name='([^'\\]+)'$/.exec(query['q'] ?? '')?.[1];
        if (query['spaces'] !== 'appDataFolder' || query['fields'] !== 'files(id,name)' || !name || Object.keys(query).length !== 3) {
          return this.error(res, 400, 'invalidQuery');
        }
        const files = this.filesNamed(name).filter((f) => f.parents.includes('appDataFolder'));
        return this.json(res, 200, { files: files.map((f) => ({ id: f.id, name: f.name })) });
      }
      case 'media': {
        const file = this.files.get(fileMatch![1]!);
        if (JSON.stringify(query) !== JSON.stringify({ alt: 'media' })) return this.error(res, 400, 'badRequest');
        if (!file) return this.error(res, 404, 'notFound');
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(file.content);
        return;
      }
      case 'delete': {
        if (url.search !== '') return this.error(res, 400, 'badRequest');
        if (!this.files.delete(fileMatch![1]!)) return this.error(res, 404, 'notFound');
        res.writeHead(204).end();
        return;
      }
      default:
        return this.error(res, 404, 'notFound');
    }
  }

  private json(res: ServerResponse, status: number, value: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8' }).end(JSON.stringify(value));
  }

  /** Google's error shape; the message repeats the Authorization header, as a careless proxy might. */
  private error(res: ServerResponse, code: number, reason: string, authorization?: string): void {
    this.json(res, code, { error: { code, message: `${reason} (request had ${authorization ?? 'no credentials'})`, errors: [{ domain: 'global', reason, message: String(authorization) }] } });
  }
}

interface Part {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** RFC 2046 multipart, binary-safe: `--b CRLF headers CRLF CRLF body CRLF --b … --b--`. */
function parseMultipart(body: Buffer, boundary: string): Part[] | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const next = Buffer.from(`\r\n--${boundary}`);
  if (body.indexOf(delimiter) !== 0) return undefined;
  const parts: Part[] = [];
  let pos = delimiter.length;
  for (;;) {
    if (body.subarray(pos, pos + 2).toString() === '--') return parts;
    if (body.subarray(pos, pos + 2).toString() !== '\r\n') return undefined;
    const headerEnd = body.indexOf('\r\n\r\n', pos + 2);
    if (headerEnd < 0) return undefined;
    const headers = Object.fromEntries(
      body
        .subarray(pos + 2, headerEnd)
        .toString('latin1')
        .split('\r\n')
        .map((line) => {
          const i = line.indexOf(':');
          return [line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim()];
        }),
    );
    const end = body.indexOf(next, headerEnd + 4);
    if (end < 0) return undefined;
    parts.push({ headers, body: Buffer.from(body.subarray(headerEnd + 4, end)) });
    pos = end + next.length;
  }
}
