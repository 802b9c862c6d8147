import type { HealthMessage } from '../agents/notices.js';
import type { Logger } from '../logger.js';
import { clip } from '../text.js';
import type { KeyValueStore } from './store.port.js';
import type { TriggerRecord } from './trigger-service.js';

/** Longest request-derived value (image, tag, GoCD's message) quoted in a message. */
const VALUE_MAX = 100;
/** How long a pipeline's trigger problem is kept without a later trigger of it. */
const PROBLEM_TTL_SECONDS = 30 * 24 * 3600;
/** Pipelines whose problems are read at once at server-ping (each one store read). */
const READ_BATCH = 25;
/** The most trigger messages put on GoCD's panel at once. */
export const MAX_TRIGGER_MESSAGES = 20;

/**
 * The server-health message of a trigger that failed for good (GoCD's API unreachable, refusing the token, not knowing
 * the pipeline, or refusing its variables): what an administrator must fix.
 */
export function triggerProblemMessage(r: TriggerRecord): HealthMessage {
  const why = r.missingVariable
    ? `the pipeline does not declare the environment variable ${clip(r.missingVariable, VALUE_MAX)}`
    : r.status === undefined
      ? `the GoCD API did not answer (${clip(r.message ?? 'no answer', VALUE_MAX * 3)}); check gocd.apiUrl`
      : r.status === 401 || r.status === 403
        ? `the GoCD API answered ${r.status}; check gocd.apiToken and its permission to operate the pipeline`
        : `the GoCD API answered ${r.status}${r.message ? `: ${clip(r.message, VALUE_MAX * 3)}` : ''}`;
  return {
    type: 'error',
    message: `gocd-agent-scaler: the push of ${clip(r.image, VALUE_MAX)}:${clip(r.tag, VALUE_MAX)} (registry ${clip(r.registry, VALUE_MAX)}) did not schedule pipeline ${clip(r.pipeline, VALUE_MAX)}: ${why}.`,
  };
}

/**
 * Registry-trigger problems for GoCD's server-health panel, kept in the shared store (`~notices|trigger:<pipeline>`),
 * so every process and Lambda container reports the same ones: a pipeline's failed trigger sets its problem, a later
 * scheduled trigger of that pipeline (from any registry) clears it, and server-ping reads the problems of every
 * subscribed pipeline. The causes (GoCD's API, its token, the pipeline, its variables) belong to the pipeline and to
 * GoCD, never to the registry the push came from.
 */
export class TriggerProblems {
  constructor(
    private readonly store: KeyValueStore,
    /** The pipelines subscriptions name (config), whose problems server-ping reads. */
    private readonly pipelines: readonly string[],
    private readonly logger: Logger,
  ) {}

  private key(pipeline: string): string {
    // The notices' namespace (see store.port.ts): no registry name starts with `~`.
    return `~notices|trigger:${pipeline}`;
  }

  /** A trigger ended: `failed` stores its problem, `scheduled` clears the pipeline's; the store failing is logged. */
  async recorded(record: TriggerRecord): Promise<void> {
    try {
      if (record.outcome === 'failed') {
        const message = triggerProblemMessage(record);
        await this.store.put(this.key(record.pipeline), JSON.stringify(message), PROBLEM_TTL_SECONDS);
      } else if (record.outcome === 'scheduled') {
        await this.store.delete(this.key(record.pipeline));
      }
    } catch (err) {
      this.logger.warn({ err, pipeline: record.pipeline }, 'could not record the trigger problem for GoCD');
    }
  }

  /** The current problems by topic (`trigger:<pipeline>`), at most MAX_TRIGGER_MESSAGES; a failed read is skipped. */
  async current(): Promise<Record<string, HealthMessage>> {
    const out: Record<string, HealthMessage> = {};
    for (let i = 0; i < this.pipelines.length && Object.keys(out).length < MAX_TRIGGER_MESSAGES; i += READ_BATCH) {
      const batch = this.pipelines.slice(i, i + READ_BATCH);
      const found = await Promise.all(
        batch.map((p) =>
          this.store.get(this.key(p)).catch((err: unknown) => {
            this.logger.warn({ err, pipeline: p }, 'could not read the trigger problem');
            return undefined;
          }),
        ),
      );
      found.forEach((raw, j) => {
        const message = raw === undefined ? undefined : parseMessage(raw);
        if (message && Object.keys(out).length < MAX_TRIGGER_MESSAGES) out[`trigger:${batch[j]}`] = message;
      });
    }
    return out;
  }
}

function parseMessage(raw: string): HealthMessage | undefined {
  try {
    const m = JSON.parse(raw) as Partial<HealthMessage>;
    return (m.type === 'error' || m.type === 'warning') && typeof m.message === 'string'
      ? { type: m.type, message: m.message }
      : undefined;
  } catch {
    return undefined;
  }
}
