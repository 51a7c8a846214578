// The protected resource of the lock workload: a tiny HTTP server that
// keeps, per lock, the largest fencing token it has seen and refuses any
// smaller one (Kleppmann's fenced storage; docs/safety.md #11). Every
// write, accepted or refused, is logged for the fencing checker.
import http from 'node:http';
import type { RegisterWrite } from '../history.js';

export const REGISTER_BODY_BYTES_MAX = 4096;

export class FencedRegister {
  private server: http.Server | null = null;
  private readonly maxToken = new Map<string, number>();
  readonly log: RegisterWrite[] = [];

  constructor(
    readonly port: number,
    /** The run's clock (ms since the run started). */
    private readonly nowMs: () => number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** The register's rule, callable without HTTP. */
  write(lock: string, token: number, process: string): RegisterWrite {
    if (!Number.isInteger(token) || token <= 0) throw new Error(`FencedRegister: bad token ${token}`);
    const max = this.maxToken.get(lock) ?? 0;
    const accepted = token >= max;
    if (accepted) this.maxToken.set(lock, token);
    const entry: RegisterWrite = { atMs: this.nowMs(), lock, token, process, accepted, maxBeforeToken: max };
    this.log.push(entry);
    return entry;
  }

  async start(): Promise<void> {
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
        if (body.length > REGISTER_BODY_BYTES_MAX) req.destroy();
      });
      req.on('end', () => {
        try {
          const { lock, token, process } = JSON.parse(body) as { lock: string; token: number; process: string };
          const entry = this.write(lock, token, process);
          res.writeHead(entry.accepted ? 200 : 409, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ accepted: entry.accepted, maxToken: Math.max(entry.maxBeforeToken, token) }));
        } catch (err) {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(err) }));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }
}
