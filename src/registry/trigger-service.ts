import { randomUUID } from 'node:crypto';
import type { ScheduleOutcome, ScheduleRequestOptions, ScheduleVariable } from '../gocd-api/gocd-schedule-client.js';
import type { Logger } from '../logger.js';
import { dedupeKeys } from './dedupe-keys.js';
import { type ImagePushed, imageName } from './image-pushed.js';
import { materialEnv } from './material-env.js';
import type { KeyValueStore } from './store.port.js';
import type { SubscriptionTable } from './subscriptions.js';
import type { TagSource } from './tag-source.port.js';
import { NO_TRIGGER_METRICS, type TriggerMetrics } from './trigger-metrics.js';

/** Schedules one pipeline (the GoCD client, or a fake in tests). */
export interface PipelineScheduler {
  schedule(
    pipeline: string,
    variables: readonly ScheduleVariable[],
    options: ScheduleRequestOptions,
  ): Promise<ScheduleOutcome>;
}

/**
 * How a trigger may wait for a busy GoCD inside the work that runs it, passed with the work (a process answering a
 * webhook, a Lambda invocation of one kind or another), and what happens when GoCD is still busy at its end.
 */
export interface TriggerBudget {
  /** Epoch ms until which GoCD 409/5xx may be retried inside this work; absent: the scheduler's own window. */
  retryUntil?: number;
  /** The longest single schedule attempt; default the scheduler's own. */
  attemptTimeoutMs?: number;
  /** Epoch ms of the trigger's first attempt (a retried message keeps it, so the overall window holds). */
  firstAttemptAt: number;
  /** Deferrals so far (0 for fresh work). */
  attempt: number;
  /**
   * GoCD still busy at `retryUntil`: `defer` the trigger to the retry queue (reported failed when there is none, or
   * its overall window is over), or `release` its claim so whoever brought it runs it again (Lambda's retry of an
   * EventBridge event, the next backstop poll).
   */
  whenBusy: 'defer' | 'release';
}

/** Where a push came from. */
export type TriggerSource = 'webhook' | 'poll';

/** How one (push, pipeline) trigger ended; kept for the status report. */
export interface TriggerRecord {
  at: string;
  source: TriggerSource;
  registry: string;
  image: string;
  tag: string;
  digest?: string;
  pipeline: string;
  /**
   * `scheduled` (GoCD 202), `failed` (reported, final), `released` (not done; a redelivery may retry), `duplicate`,
   * `deferred` (GoCD was busy; a durable retry queue holds the trigger and will run it through `retry`), `test` (a
   * registry's test notification: shown, never scheduled).
   */
  outcome: 'scheduled' | 'failed' | 'released' | 'duplicate' | 'deferred' | 'test';
  status?: number;
  attempts?: number;
  message?: string;
  missingVariable?: string;
}

/** The answer to one submitted push. */
export interface SubmitResult {
  /** `accepted`: processing (scheduling may continue in the background); `duplicate`: this delivery was seen. */
  status: 'accepted' | 'duplicate' | 'unsubscribed' | 'not-found';
  /** Why a push was not accepted (for the webhook's answer and the log). */
  reason?: string;
  /** Settles when every trigger of this push has ended (never rejects). */
  done: Promise<TriggerRecord[]>;
}

/**
 * Holds a trigger GoCD could not take yet (409/5xx once the scheduler's own window ran out) for a later `retry`,
 * e.g. on an SQS queue, when the process cannot wait (a Lambda invocation ends with its answer).
 */
export interface TriggerDeferrer {
  /**
   * True when the trigger was stored durably and will be retried; false when it must not be deferred any more (its
   * overall retry window is over: it is then reported failed). Rejects when it could not be stored (the claim is
   * then released, so the sender's redelivery retries it).
   */
  defer(push: ImagePushed, pipeline: string, outcome: ScheduleOutcome, budget: TriggerBudget): Promise<boolean>;
}

export interface TriggerServiceOptions {
  store: KeyValueStore;
  scheduler: PipelineScheduler;
  subscriptions: SubscriptionTable;
  logger: Logger;
  /** `gocd.scheduleRetryWindowSeconds`: a pending claim must outlive the retries it guards. */
  retryWindowSeconds: number;
  /** `store.ttlDays`: how long done keys and last-seen digests are remembered. */
  ttlDays: number;
  /**
   * How long a push whose digest cannot be known (a sender without digest or id, and no registry API to ask) stays
   * deduplicated on (image, tag) alone (default 300 s): one multi-arch push's calls collapse, a later push of the tag
   * triggers again.
   */
  undigestedWindowSeconds?: number;
  /** Tag → digest lookups per registry entry name, for events that carry no digest. */
  tagSources?: (registry: string) => TagSource | undefined;
  /** Records kept for `recentTriggers()` (default 200). */
  recentLimit?: number;
  metrics?: TriggerMetrics;
  /** Where busy-GoCD triggers wait when this process cannot (Lambda); without one they are reported failed. */
  deferrer?: TriggerDeferrer;
  /** Told every trigger's end before it settles (the shared server-health problems, trigger-health.ts). */
  outcomes?: { recorded(record: TriggerRecord): Promise<void> };
  now?: () => Date;
}

const DONE = 'done';
const FAILED = 'failed';
const PENDING_MARGIN_SECONDS = 120;
const UNDIGESTED = 'undigested';

/**
 * Registry push → GoCD schedule, once per (pipeline, image, tag, digest).
 *
 * Identity of a push (the delivery key, `<registry>|dlv|<identity>`): the sender's own id when it guarantees one
 * (distribution and ECR event ids, Harbor CloudEvents ids, the hash of GitHub's signed body); otherwise what was pushed,
 * `<image>:<tag>@<digest>`, with the digest resolved through the registry API first when the event has none (Docker
 * Hub, Quay), so a later push of the same tag with a new digest is a new push while a redelivery is not; and where no
 * digest can be known, `<image>:<tag>@undigested` for a short window only. Trigger keys
 * (`<registry>|trg|<pipeline>|<image>:<tag>@<digest>`) make the once-per-digest rule hold across deliveries.
 *
 * Dedupe state machine, per key:
 *
 *   absent  --putIfAbsent("pending:<owner>", ttl = retry window + 2 min)-->  pending   (the claim; loser = duplicate)
 *   pending --GoCD 202-->                                                     done      (ttl = store.ttlDays)
 *   pending --404/403/422, or 409/5xx past the retry window (reported)-->     failed    (ttl = store.ttlDays)
 *   pending --aborted (shutdown) or a store error-->                          absent    (deleted if still ours)
 *   pending --process died-->                                                 absent    (the pending ttl runs out)
 *
 * (Keys of undigested pushes settle with the short window as their ttl.) So a key counts as used only once its
 * trigger was accepted or finally reported, and a redelivery of a trigger that has not gone through still gets
 * through; concurrent duplicates (one multi-arch push's events arriving together) lose the putIfAbsent race and
 * schedule nothing. A delivery key becomes `done` when all its triggers ended, and is deleted when any was released,
 * so the sender's redelivery re-runs only the released ones.
 */
export class TriggerService {
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly recent: TriggerRecord[] = [];
  private readonly abort = new AbortController();
  private readonly pendingTtl: number;
  private readonly doneTtl: number;
  private readonly windowTtl: number;
  private readonly now: () => Date;

  constructor(private readonly options: TriggerServiceOptions) {
    this.pendingTtl = options.retryWindowSeconds + PENDING_MARGIN_SECONDS;
    this.doneTtl = options.ttlDays * 86_400;
    this.windowTtl = options.undigestedWindowSeconds ?? 300;
    this.now = options.now ?? (() => new Date());
  }

  /**
   * Claims the delivery and starts its triggers; resolves as soon as the claim is stored, so a webhook can answer
   * at once (a distribution registry's queue waits on us). A push without an id of its own and without a digest is
   * first resolved through the registry API (when the entry has one), because the digest is then its identity.
   * Rejects only when the store is unavailable or full (the caller answers 503 and the sender redelivers). `budget`:
   * how its triggers may wait for a busy GoCD (default: the configured retry window, then deferred or reported).
   */
  async submit(
    received: ImagePushed,
    source: TriggerSource = 'webhook',
    budget: TriggerBudget = this.defaultBudget(),
  ): Promise<SubmitResult> {
    const pipelines = this.options.subscriptions.pipelinesFor(received);
    if (pipelines.length === 0) return { status: 'unsubscribed', done: Promise.resolve([]) };
    let push = received;
    if (!push.deliveryId && !push.digest) {
      const resolved = await this.resolve(push);
      if (resolved === 'not-found') {
        return {
          status: 'not-found',
          reason: `${imageName(push)}:${push.tag} not found in the registry`,
          done: Promise.resolve([]),
        };
      }
      if (resolved) push = { ...push, digest: resolved.digest, mediaType: push.mediaType ?? resolved.mediaType };
    }
    const owner = `pending:${randomUUID()}`;
    const deliveryKey = dedupeKeys.delivery(push.registry, this.identity(push));
    if (!(await this.options.store.putIfAbsent(deliveryKey, owner, this.pendingTtl))) {
      const where = { registry: push.registry, image: imageName(push), tag: push.tag, deliveryId: push.deliveryId };
      if (push.deliveryId || push.digest)
        this.options.logger.debug({ ...where, digest: push.digest }, 'duplicate delivery ignored');
      else {
        // The one case where a genuine push may be taken for a duplicate: say so where operators look.
        this.options.logger.info(
          where,
          `push ignored: the same tag without a digest within ${this.windowTtl} s (give the registry entry an apiUrl to tell pushes apart)`,
        );
      }
      return { status: 'duplicate', reason: 'already delivered', done: Promise.resolve([]) };
    }
    const done = this.track(this.process(push, pipelines, source, deliveryKey, owner, budget));
    return { status: 'accepted', done };
  }

  /** A process's own budget: the scheduler's configured window, then deferred (when a deferrer exists) or reported. */
  private defaultBudget(): TriggerBudget {
    return { firstAttemptAt: this.now().getTime(), attempt: 0, whenBusy: 'defer' };
  }

  /**
   * Records a registry's test notification in the trigger report, once per subscribed pipeline (or once for the image
   * when none is subscribed); nothing is claimed or scheduled.
   */
  recordTest(push: ImagePushed, source: TriggerSource = 'webhook'): TriggerRecord[] {
    const pipelines = this.options.subscriptions.pipelinesFor(push);
    const message = 'test notification from the registry: nothing scheduled';
    this.options.logger.info({ registry: push.registry, image: imageName(push), tag: push.tag, pipelines }, message);
    return (pipelines.length ? pipelines : ['']).map((p) => this.record(push, p, source, { outcome: 'test', message }));
  }

  /** The delivery identity of a push (see the class comment). */
  private identity(push: ImagePushed): string {
    if (push.deliveryId) return push.deliveryId;
    return `${imageName(push)}:${push.tag}@${push.digest ?? UNDIGESTED}`;
  }

  /** How long a settled key of this push is kept: the short window when nothing identifies what was pushed. */
  private settledTtl(push: ImagePushed): number {
    return push.digest || push.deliveryId ? this.doneTtl : this.windowTtl;
  }

  /**
   * Runs one deferred trigger again (a retry-queue message): the same claim, schedule and record as `submit`, for
   * this pipeline only and without the delivery key (the delivery was settled when the trigger was deferred).
   */
  retry(push: ImagePushed, pipeline: string, source: TriggerSource, budget: TriggerBudget): Promise<TriggerRecord> {
    return this.track(this.trigger(push, pipeline, source, budget));
  }

  /** Resolves once no trigger is running (tests, graceful shutdown). */
  async idle(): Promise<void> {
    for (let i = 0; i < 10_000 && this.inflight.size > 0; i++) await Promise.allSettled([...this.inflight]);
  }

  /** The latest trigger outcomes, newest last (for the status report). */
  recentTriggers(): readonly TriggerRecord[] {
    return [...this.recent];
  }

  /** Stops retries: unfinished triggers release their claims (logged), so a redelivery or the poll can redo them. */
  async close(): Promise<void> {
    this.abort.abort();
    await this.idle();
  }

  private track<T>(work: Promise<T>): Promise<T> {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
    return work;
  }

  private async process(
    received: ImagePushed,
    pipelines: string[],
    source: TriggerSource,
    deliveryKey: string,
    owner: string,
    budget: TriggerBudget,
  ): Promise<TriggerRecord[]> {
    const { store, logger } = this.options;
    let push = received;
    let records: TriggerRecord[];
    try {
      // Pushes with an id of their own are resolved here, behind the answer; the others were resolved by `submit`.
      if (!push.digest && push.deliveryId) {
        const resolved = await this.resolve(push);
        if (resolved === 'not-found') {
          await store.put(deliveryKey, DONE, this.settledTtl(push));
          return [];
        }
        if (resolved) push = { ...push, digest: resolved.digest, mediaType: push.mediaType ?? resolved.mediaType };
      }
      records = await Promise.all(pipelines.map((p) => this.trigger(push, p, source, budget)));
      // The poll's baseline moves only when nothing was released, so the next poll still sees a released change.
      if (push.digest && !records.some((r) => r.outcome === 'released')) {
        const seen = dedupeKeys.seen(push.registry, imageName(push), push.tag);
        // After the triggers ran: a failure here must not report them released (their keys already hold).
        await store.put(seen, push.digest, this.doneTtl).catch((err: unknown) => {
          logger.warn(
            { err, registry: push.registry, image: imageName(push), tag: push.tag },
            'could not record the digest as seen for the backstop poll',
          );
        });
      }
    } catch (err) {
      // The store failed before any trigger claimed: nothing was scheduled, let a redelivery redo it all.
      logger.error(
        { err, registry: push.registry, image: imageName(push), tag: push.tag, digest: push.digest },
        'registry push not processed; a redelivery or the backstop poll will retry it',
      );
      records = pipelines.map((pipeline) =>
        this.record(push, pipeline, source, { outcome: 'released', message: (err as Error).message }),
      );
    }
    try {
      if (records.some((r) => r.outcome === 'released')) await store.delete(deliveryKey, owner);
      else await store.put(deliveryKey, DONE, this.settledTtl(push));
    } catch (err) {
      logger.warn({ err, registry: push.registry }, 'could not settle the delivery key; its pending ttl will expire');
    }
    return records;
  }

  /** Digest of a hint event: undefined when it cannot be resolved (then the trigger goes on without one). */
  private async resolve(push: ImagePushed): Promise<{ digest: string; mediaType?: string } | 'not-found' | undefined> {
    const source = this.options.tagSources?.(push.registry);
    const where = { registry: push.registry, image: imageName(push), tag: push.tag };
    if (!source) return undefined;
    try {
      const resolved = await source.resolve(push.repository, push.tag);
      if (resolved) return resolved;
      // The sender is unsigned (Docker Hub, Quay) or the tag moved again: the registry is the truth.
      this.options.logger.warn(where, 'pushed tag not found in the registry; ignored');
      return 'not-found';
    } catch (err) {
      this.options.logger.warn({ ...where, err }, 'could not resolve the tag digest; triggering without it');
      return undefined;
    }
  }

  private async trigger(
    push: ImagePushed,
    pipeline: string,
    source: TriggerSource,
    budget: TriggerBudget,
  ): Promise<TriggerRecord> {
    const record = await this.scheduleOnce(push, pipeline, source, budget);
    await this.options.outcomes?.recorded(record);
    return record;
  }

  private async scheduleOnce(
    push: ImagePushed,
    pipeline: string,
    source: TriggerSource,
    budget: TriggerBudget,
  ): Promise<TriggerRecord> {
    const { store, scheduler, logger } = this.options;
    const image = imageName(push);
    // Without a digest the sender's id is the only identity the push has, or, without one, the short window.
    const ref = push.digest ?? (push.deliveryId ? `delivery:${push.deliveryId}` : UNDIGESTED);
    const key = dedupeKeys.trigger(push.registry, pipeline, image, push.tag, ref);
    const settledTtl = this.settledTtl(push);
    const owner = `pending:${randomUUID()}`;
    const where = { registry: push.registry, image, tag: push.tag, digest: push.digest, pipeline, source };
    let claimed: boolean;
    try {
      claimed = await store.putIfAbsent(key, owner, this.pendingTtl);
    } catch (err) {
      logger.error(
        { ...where, err },
        'pipeline not scheduled: the dedupe store is unavailable; a redelivery can retry',
      );
      return this.record(push, pipeline, source, { outcome: 'released', message: (err as Error).message });
    }
    if (!claimed) {
      logger.debug(where, 'already triggered for this digest; not scheduled again');
      return this.record(push, pipeline, source, { outcome: 'duplicate' });
    }
    let outcome: ScheduleOutcome;
    try {
      outcome = await scheduler.schedule(pipeline, materialEnv(push), {
        signal: this.abort.signal,
        ...(budget.retryUntil !== undefined ? { retryUntil: budget.retryUntil } : {}),
        ...(budget.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: budget.attemptTimeoutMs } : {}),
      });
    } catch (err) {
      outcome = { kind: 'aborted', attempts: 0, message: `scheduler error: ${(err as Error).message}` };
    }
    if (outcome.kind === 'failed' && outcome.windowExhausted && budget.whenBusy === 'release') {
      // Whoever brought the trigger runs it again (Lambda's retry of the event, the next poll): release the claim.
      outcome = { kind: 'aborted', attempts: outcome.attempts, message: `GoCD still busy: ${outcome.message}` };
    }
    if (outcome.kind === 'failed' && outcome.windowExhausted && this.options.deferrer) {
      try {
        if (await this.options.deferrer.defer(push, pipeline, outcome, budget)) {
          // Released, not done: the queued retry claims the key again, and until then a redelivery may go first.
          await store.delete(key, owner);
          logger.info({ ...where, status: outcome.status, attempts: outcome.attempts }, 'GoCD busy; trigger deferred');
          return this.record(push, pipeline, source, {
            outcome: 'deferred',
            status: outcome.status,
            attempts: outcome.attempts,
            message: outcome.message,
          });
        }
      } catch (err) {
        outcome = {
          kind: 'aborted',
          attempts: outcome.attempts,
          message: `could not defer: ${(err as Error).message}`,
        };
      }
    }
    try {
      if (outcome.kind === 'scheduled') {
        await store.put(key, DONE, settledTtl);
        logger.info({ ...where, status: outcome.status, attempts: outcome.attempts }, 'pipeline scheduled');
        return this.record(push, pipeline, source, {
          outcome: 'scheduled',
          status: outcome.status,
          attempts: outcome.attempts,
        });
      }
      if (outcome.kind === 'failed') {
        await store.put(key, FAILED, settledTtl);
        logger.error(
          {
            ...where,
            status: outcome.status,
            attempts: outcome.attempts,
            gocdMessage: outcome.message,
            missingVariable: outcome.missingVariable,
            windowExhausted: outcome.windowExhausted,
          },
          outcome.missingVariable
            ? `pipeline not scheduled: it does not declare the environment variable ${outcome.missingVariable}`
            : 'pipeline not scheduled',
        );
        return this.record(push, pipeline, source, {
          outcome: 'failed',
          status: outcome.status,
          attempts: outcome.attempts,
          message: outcome.message,
          missingVariable: outcome.missingVariable,
        });
      }
      await store.delete(key, owner);
    } catch (err) {
      logger.warn({ ...where, err }, 'could not record the trigger outcome');
      if (outcome.kind !== 'aborted') {
        return this.record(push, pipeline, source, {
          outcome: outcome.kind === 'scheduled' ? 'scheduled' : 'failed',
          attempts: outcome.attempts,
          message: outcome.message,
        });
      }
    }
    logger.error(
      { ...where, attempts: outcome.attempts, reason: outcome.message },
      'pipeline not scheduled (stopped); released so a redelivery or the backstop poll can trigger it',
    );
    return this.record(push, pipeline, source, {
      outcome: 'released',
      attempts: outcome.attempts,
      message: outcome.message,
    });
  }

  private record(
    push: ImagePushed,
    pipeline: string,
    source: TriggerSource,
    fields: Pick<TriggerRecord, 'outcome'> & Partial<TriggerRecord>,
  ): TriggerRecord {
    const record: TriggerRecord = {
      at: this.now().toISOString(),
      source,
      registry: push.registry,
      image: imageName(push),
      tag: push.tag,
      ...(push.digest ? { digest: push.digest } : {}),
      pipeline,
      ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    } as TriggerRecord;
    if (record.outcome !== 'duplicate' && record.outcome !== 'deferred' && record.outcome !== 'test') {
      (this.options.metrics ?? NO_TRIGGER_METRICS).trigger(record.outcome);
    }
    this.recent.push(record);
    const limit = this.options.recentLimit ?? 200;
    if (this.recent.length > limit) this.recent.splice(0, this.recent.length - limit);
    return record;
  }
}
