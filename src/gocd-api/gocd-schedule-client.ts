import { setTimeout as sleep } from 'node:timers/promises';
import { fullJitterDelay } from '../backoff.js';

/** One entry of the schedule body's `environment_variables`. */
export interface ScheduleVariable {
  name: string;
  value: string;
  secure: boolean;
}

/** How one schedule request ended, after any retries. */
export type ScheduleOutcome =
  | { kind: 'scheduled'; status: number; attempts: number; message: string }
  | {
      kind: 'failed';
      /** GoCD's status, or undefined when it never answered (network errors until the window closed). */
      status?: number;
      attempts: number;
      /** GoCD's own message (e.g. `Request to schedule pipeline rejected { Variable 'X' has not been configured … }`). */
      message: string;
      /** From a 422: the variable the pipeline does not declare. */
      missingVariable?: string;
      /** True when the answer was retryable (409/5xx) but the retry window ran out. */
      windowExhausted: boolean;
    }
  | { kind: 'aborted'; attempts: number; message: string };

/** How one schedule request may go on. */
export interface ScheduleRequestOptions {
  signal?: AbortSignal;
  /**
   * Epoch ms until which 409/5xx and network failures are retried; at or before now: exactly one attempt. Absent: the
   * client's `retryWindowMs` from now.
   */
  retryUntil?: number;
  /** The longest single attempt; default the client's `attemptTimeoutMs`. */
  attemptTimeoutMs?: number;
}

export interface GocdScheduleClientOptions {
  /** GoCD base URL including `/go`, e.g. `https://gocd.example.com/go`. */
  apiUrl: string;
  apiToken?: string;
  /** How long 409/5xx/network failures are retried (unless a request says otherwise) before it is reported failed. */
  retryWindowMs: number;
  /** Backoff base (default 1 s); waits grow exponentially with full jitter up to `maxDelayMs` (30 s). */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Per-attempt timeout (default 10 s). */
  attemptTimeoutMs?: number;
  /** Upper bound on attempts whatever the window (default 1,000). */
  maxAttempts?: number;
  fetch?: typeof fetch;
  now?: () => number;
  /** Waits `ms` between attempts, rejecting when `signal` aborts (tests give a virtual clock's). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<unknown>;
}

const MISSING_VARIABLE = /Variable '([^']+)' has not been configured for pipeline/;

/** True for answers worth retrying: 409 (pipeline busy, locked, already being triggered), 429, and 5xx. */
export function isRetryableStatus(status: number): boolean {
  return status === 409 || status === 429 || status >= 500;
}

/**
 * GoCD's pipeline scheduling API (`POST /go/api/pipelines/:name/schedule`, pipeline_operations v1). Knows nothing of
 * registries or the plugin protocol. 202 is success; 409/5xx and network errors are retried with exponential backoff
 * and jitter inside a bounded window; 404/403/422 and other 4xx are final and carry GoCD's message.
 */
export class GocdScheduleClient {
  private readonly base: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<unknown>;

  constructor(private readonly options: GocdScheduleClientOptions) {
    this.base = options.apiUrl.replace(/\/+$/, '');
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms, signal) => sleep(ms, undefined, signal ? { signal } : undefined));
  }

  /** The URL a pipeline is scheduled at. */
  scheduleUrl(pipeline: string): string {
    return `${this.base}/api/pipelines/${encodeURIComponent(pipeline)}/schedule`;
  }

  /** Schedules `pipeline` with `variables`; resolves with the final outcome (never rejects). */
  async schedule(
    pipeline: string,
    variables: readonly ScheduleVariable[],
    options: ScheduleRequestOptions = {},
  ): Promise<ScheduleOutcome> {
    const { signal } = options;
    const start = this.now();
    const deadline = options.retryUntil ?? start + this.options.retryWindowMs;
    // No window: exactly one attempt (a jittered first backoff can be ~0 ms and would squeeze in another).
    const maxAttempts = deadline <= start ? 1 : (this.options.maxAttempts ?? 1000);
    const backoff = { baseMs: this.options.initialDelayMs ?? 1000, capMs: this.options.maxDelayMs ?? 30_000 };
    const attemptTimeoutMs = options.attemptTimeoutMs ?? this.options.attemptTimeoutMs ?? 10_000;
    const body = JSON.stringify({ environment_variables: variables, update_materials_before_scheduling: true });
    let attempts = 0;
    let last: { status?: number; message: string } = { message: 'not attempted' };
    while (attempts < maxAttempts) {
      if (signal?.aborted) return { kind: 'aborted', attempts, message: 'aborted before it went through' };
      attempts++;
      const answer = await this.attempt(pipeline, body, signal, attemptTimeoutMs);
      if (answer.status !== undefined && answer.status >= 200 && answer.status < 300) {
        return { kind: 'scheduled', status: answer.status, attempts, message: answer.message };
      }
      last = answer;
      // Shut down mid-request: report it as aborted (released for a redelivery), not as GoCD's failure.
      if (signal?.aborted) return { kind: 'aborted', attempts, message: 'aborted during the request' };
      if (answer.status !== undefined && !isRetryableStatus(answer.status)) {
        const missing = answer.status === 422 ? MISSING_VARIABLE.exec(answer.message)?.[1] : undefined;
        return {
          kind: 'failed',
          status: answer.status,
          attempts,
          message: answer.message,
          windowExhausted: false,
          ...(missing ? { missingVariable: missing } : {}),
        };
      }
      const delay = fullJitterDelay(backoff, attempts);
      // Give up when the next attempt would start after the window: the trigger is then reported, not dropped.
      if (this.now() + delay > deadline) break;
      try {
        await this.sleep(delay, signal);
      } catch {
        return { kind: 'aborted', attempts, message: 'aborted while waiting to retry' };
      }
    }
    return { kind: 'failed', status: last.status, attempts, message: last.message, windowExhausted: true };
  }

  private async attempt(
    pipeline: string,
    body: string,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<{ status?: number; message: string }> {
    // One controller per attempt, aborted by its timeout or by the caller's signal; the listener is removed in
    // `finally`, so the service-lifetime signal never accumulates per-call state.
    const attempt = new AbortController();
    const timer = setTimeout(() => attempt.abort(new Error('attempt timed out')), timeoutMs);
    const onAbort = () => attempt.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const res = await this.fetchImpl(this.scheduleUrl(pipeline), {
        method: 'POST',
        headers: {
          accept: 'application/vnd.go.cd.v1+json',
          'content-type': 'application/json',
          'x-gocd-confirm': 'true',
          ...(this.options.apiToken ? { authorization: `bearer ${this.options.apiToken}` } : {}),
        },
        body,
        signal: attempt.signal,
      });
      const text = await res.text();
      return { status: res.status, message: gocdMessage(text, res.status) };
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      return { message: `request failed: ${e.cause?.code ?? e.name}: ${e.message}` };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

/** GoCD's `{"message": …}` error body, or the (clipped) text when it is not JSON. */
function gocdMessage(text: string, status: number): string {
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // not JSON (a proxy's HTML page, an empty body)
  }
  const clipped = text.trim().slice(0, 300);
  return clipped === '' ? `HTTP ${status}` : clipped;
}
