import type { Logger } from '../logger.js';
import { KeyedLock } from './keyed-lock.js';
import { AGENT_STATE_RANK, type JobState } from './notice-texts.js';
import type { HealthMessage } from './notices.js';
import type { StateStore } from './state-store.port.js';

/** What was last told in a job's console. */
interface ToldState {
  state: string;
  ref?: string;
}

/**
 * One server-health message on the board; `at` (epoch ms) is when a problem that is only ever re-asserted, never
 * cleared by a later success, was last asserted (see RequestNotices: a refused elastic profile).
 */
export interface HealthEntry extends HealthMessage {
  at?: number;
}

/** The plugin's server-health messages, keyed by `<cluster id>\0<topic>`. */
export type HealthEntries = Record<string, HealthEntry>;

/** The messages as GoCD gets them: sorted by key, without the board's bookkeeping. */
function messagesOf(entries: HealthEntries): HealthMessage[] {
  return Object.keys(entries)
    .sort()
    .map((k) => ({ type: entries[k]!.type, message: entries[k]!.message }));
}

const JOB_TTL_SECONDS = 7 * 24 * 3600;
const HEALTH_TTL_SECONDS = 30 * 24 * 3600;
/**
 * Notice keys share one store namespace (see store.port.ts); registry names start with a letter or digit, so `~notices`
 * can never be a registry's namespace, and a bounded store keeps jobs' notices from crowding out dedupe keys.
 */
const NAMESPACE = '~notices';
const HEALTH_KEY = `${NAMESPACE}|health`;

/** True when `next` is worth a console line after `last` (see NoticeBoard.tellOnce). */
export function isNewState(last: ToldState | undefined, next: Pick<JobState, 'state' | 'ref'>): boolean {
  if (!last) return true;
  const nextRank = AGENT_STATE_RANK[next.state];
  const lastRank = AGENT_STATE_RANK[last.state];
  // The same agent never goes back: "already launched" after "registered" says nothing new.
  if (next.ref !== undefined && next.ref === last.ref && nextRank !== undefined && lastRank !== undefined) {
    return nextRank > lastRank;
  }
  return next.state !== last.state || next.ref !== last.ref;
}

/**
 * What GoCD users have been told, kept in the key-value store so that it survives restarts and is shared by every
 * process and Lambda container using the same store: each job's last console state (a line per state change, not per
 * create-agent GoCD re-sends every 2 minutes) and the plugin's current server-health messages.
 *
 * Within a process, one job's states and the health board are updated under a lock; across processes two
 * simultaneous updates can at worst repeat a line or lose one health change, which the next re-sent create-agent or
 * server-ping (every minute) restores. A store that fails never fails the GoCD request: lines are then told anyway
 * (a repeated line beats a silent one) and health is left as GoCD shows it.
 */
export class NoticeBoard {
  private readonly lock = new KeyedLock();

  constructor(
    private readonly store: StateStore,
    private readonly logger: Logger,
  ) {}

  /** True when `next` is a new state for this job (and records it as told). */
  async tellOnce(clusterId: string, jobId: number, next: JobState): Promise<boolean> {
    const key = `${NAMESPACE}|job:${clusterId}:${jobId}`;
    return this.lock.run(key, async () => {
      try {
        const raw = await this.store.get(key);
        const last = raw === undefined ? undefined : (JSON.parse(raw) as ToldState);
        if (!isNewState(last, next)) return false;
        const told: ToldState = next.ref === undefined ? { state: next.state } : { state: next.state, ref: next.ref };
        await this.store.put(key, JSON.stringify(told), JOB_TTL_SECONDS);
        return true;
      } catch (err) {
        this.logger.warn({ err, clusterId, jobId }, 'notices: job state unavailable; telling the console anyway');
        return true;
      }
    });
  }

  /**
   * Applies `change` to the health board. Returns the complete message list when it changed (or when `always`), for
   * GoCD to replace its set with; undefined when nothing is to be sent or the store failed.
   */
  async updateHealth(change: (entries: HealthEntries) => void, always = false): Promise<HealthMessage[] | undefined> {
    return this.lock.run(HEALTH_KEY, async () => {
      try {
        const raw = await this.store.get(HEALTH_KEY);
        const entries = raw === undefined ? {} : (JSON.parse(raw) as HealthEntries);
        const before = JSON.stringify(entries);
        const shown = JSON.stringify(messagesOf(entries));
        change(entries);
        const after = JSON.stringify(entries);
        if (after !== before) await this.store.put(HEALTH_KEY, after, HEALTH_TTL_SECONDS);
        const messages = messagesOf(entries);
        // A re-asserted problem only moves its `at`: GoCD is sent the list only when what it shows changed.
        if (JSON.stringify(messages) === shown && !always) return undefined;
        return messages;
      } catch (err) {
        this.logger.warn({ err }, 'notices: server-health board unavailable; GoCD keeps its current messages');
        return undefined;
      }
    });
  }
}
