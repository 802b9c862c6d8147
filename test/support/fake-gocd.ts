import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One schedule request the fake received. */
export interface ScheduleCall {
  pipeline: string;
  headers: IncomingMessage['headers'];
  body: { environment_variables?: { name: string; value: string; secure?: boolean }[]; [k: string]: unknown };
  /** The request's variables as a name → value map. */
  env: Record<string, string>;
  status: number;
  at: number;
}

/** A scripted answer: a status and GoCD's JSON message. */
export interface FakeAnswer {
  status: number;
  message?: string;
}

/**
 * A loopback GoCD speaking the pipeline-scheduling API as GoCD does: `POST /go/api/pipelines/:name/schedule`, 404 for
 * an unsupported Accept, 400 without `X-GoCD-Confirm` on an empty body, 415 for a non-JSON body, 401 for a wrong
 * bearer token, 404 for an unknown pipeline, 422 naming the first variable a pipeline does not declare, 202 on success.
 * Answers can be scripted per pipeline (409 then 202, 503 then 202 …).
 */
export class FakeGocd {
  readonly calls: ScheduleCall[] = [];
  private readonly scripts = new Map<string, FakeAnswer[]>();
  private readonly declared = new Map<string, Set<string> | 'any'>();
  private server: Server | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(private readonly token = 'gocd-api-token-0123456789') {}

  /** Base URL with GoCD's `/go` context path, as `gocd.apiUrl` expects. */
  url = '';

  /** Declares a pipeline; `variables` = the environment variables it declares (default: any). */
  pipeline(name: string, variables?: readonly string[]): this {
    this.declared.set(name, variables ? new Set(variables) : 'any');
    return this;
  }

  /** The next answers for `pipeline`, in order; afterwards the real rules apply. */
  script(pipeline: string, ...answers: FakeAnswer[]): this {
    this.scripts.set(pipeline, [...(this.scripts.get(pipeline) ?? []), ...answers]);
    return this;
  }

  /** Drops the scripted answers not yet given (for `pipeline`, or every pipeline): GoCD is well again. */
  clearScripts(pipeline?: string): this {
    if (pipeline === undefined) this.scripts.clear();
    else this.scripts.delete(pipeline);
    return this;
  }

  get apiToken(): string {
    return this.token;
  }

  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const { status, message } = this.answer(req, Buffer.concat(chunks).toString('utf8'));
        res.writeHead(status, { 'content-type': 'application/vnd.go.cd.v1+json; charset=utf-8' });
        res.end(JSON.stringify({ message }));
      });
    });
    this.server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/go`;
    return this;
  }

  /** Resolves once at least `n` schedule calls arrived (bounded by `timeoutMs`). */
  waitForCalls(n: number, timeoutMs = 10_000): Promise<void> {
    if (this.calls.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fake GoCD: ${this.calls.length} of ${n} calls after ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** Calls for one pipeline. */
  callsFor(pipeline: string): ScheduleCall[] {
    return this.calls.filter((c) => c.pipeline === pipeline);
  }

  async close(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private answer(req: IncomingMessage, text: string): { status: number; message: string } {
    const m = /^\/go\/api\/pipelines\/([^/]+)\/schedule$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m)
      return { status: 404, message: 'The url you are trying to reach appears to be incorrect.' };
    const pipeline = decodeURIComponent(m[1]!);
    if (req.headers.accept !== 'application/vnd.go.cd.v1+json') {
      return { status: 404, message: 'The url you are trying to reach appears to be incorrect.' };
    }
    if (req.headers.authorization !== `bearer ${this.token}`)
      return { status: 401, message: 'You are not authenticated!' };
    if (text === '' && !req.headers['x-gocd-confirm']) {
      return { status: 400, message: "Missing required header 'X-GoCD-Confirm' with value 'true'" };
    }
    if (text !== '' && !/^application\/json/.test(req.headers['content-type'] ?? '')) {
      return { status: 415, message: "You must specify a 'Content-Type' of 'application/json'" };
    }
    let body: ScheduleCall['body'] = {};
    try {
      body = text === '' ? {} : (JSON.parse(text) as ScheduleCall['body']);
    } catch {
      return { status: 400, message: 'Json body is malformed' };
    }
    const env = Object.fromEntries((body.environment_variables ?? []).map((v) => [v.name, v.value]));
    const record = (status: number, message: string) => {
      this.calls.push({ pipeline, headers: req.headers, body, env, status, at: Date.now() });
      for (const w of this.waiters.filter((x) => this.calls.length >= x.n)) w.resolve();
      this.waiters = this.waiters.filter((x) => this.calls.length < x.n);
      return { status, message };
    };
    const scripted = this.scripts.get(pipeline)?.shift();
    if (scripted) return record(scripted.status, scripted.message ?? `scripted ${scripted.status}`);
    const declared = this.declared.get(pipeline);
    if (!declared) return record(404, `Pipeline '${pipeline}' not found.`);
    if (declared !== 'any') {
      const missing = (body.environment_variables ?? []).find((v) => !declared.has(v.name));
      if (missing) {
        return record(
          422,
          `Request to schedule pipeline rejected { Variable '${missing.name}' has not been configured for pipeline '${pipeline}' }`,
        );
      }
    }
    return record(202, `Request to schedule pipeline ${pipeline} accepted`);
  }
}
