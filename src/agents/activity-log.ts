import { clip } from '../text.js';

/** Kinds of things the status reports tell an operator about. */
export type ActivityKind =
  | 'launched'
  | 'existing'
  | 'waiting'
  | 'refused'
  | 'launch-failed'
  | 'invalid-profile'
  | 'stopped'
  | 'reaped'
  | 'error';

export interface Activity {
  at: Date;
  clusterId: string;
  kind: ActivityKind;
  message: string;
  jobId?: number;
  agentId?: string;
  pipeline?: string;
}

/** A job that asked for an agent and has none yet, with the latest reason. */
export interface WaitingJob {
  clusterId: string;
  jobId: number;
  pipeline: string;
  reason: string;
  since: Date;
  lastAt: Date;
}

/**
 * Recent activity per cluster for the status reports ("why is my job waiting?"). Bounded, process-local and
 * informational only: the truth about agents is in ECS tags / Docker labels.
 */
export class ActivityLog {
  private readonly events: Activity[] = [];
  private readonly waiting = new Map<string, WaitingJob>();

  constructor(
    private readonly capacity = 500,
    private readonly now: () => Date = () => new Date(),
  ) {}

  record(input: Omit<Activity, 'at'>): void {
    const at = this.now();
    const event: Omit<Activity, 'at'> = {
      ...input,
      clusterId: clip(input.clusterId, 64),
      message: clip(input.message),
    };
    if (input.pipeline !== undefined) event.pipeline = clip(input.pipeline);
    if (input.agentId !== undefined) event.agentId = clip(input.agentId, 128);
    this.events.push({ ...event, at });
    if (this.events.length > this.capacity) this.events.splice(0, this.events.length - this.capacity);
    if (event.jobId === undefined) return;
    const key = `${event.clusterId}\0${event.jobId}`;
    if (
      event.kind === 'waiting' ||
      event.kind === 'refused' ||
      event.kind === 'launch-failed' ||
      event.kind === 'invalid-profile'
    ) {
      const prev = this.waiting.get(key);
      this.waiting.set(key, {
        clusterId: event.clusterId,
        jobId: event.jobId,
        pipeline: event.pipeline ?? '',
        reason: event.message,
        since: prev?.since ?? at,
        lastAt: at,
      });
      if (this.waiting.size > this.capacity) this.waiting.delete(this.waiting.keys().next().value as string);
    } else if (event.kind === 'launched' || event.kind === 'existing' || event.kind === 'stopped') {
      this.waiting.delete(key);
    }
  }

  /** Newest first; optionally one cluster's, optionally only some kinds, only events newer than `sinceMs` ago. */
  recent(options: { clusterId?: string; kinds?: ActivityKind[]; sinceMs?: number; limit?: number } = {}): Activity[] {
    const cutoff = options.sinceMs === undefined ? 0 : this.now().getTime() - options.sinceMs;
    const out: Activity[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < (options.limit ?? 50); i--) {
      const e = this.events[i]!;
      if (e.at.getTime() < cutoff) break;
      if (options.clusterId !== undefined && e.clusterId !== options.clusterId) continue;
      if (options.kinds && !options.kinds.includes(e.kind)) continue;
      out.push(e);
    }
    return out;
  }

  /** Jobs still waiting (a create-agent within the last `withinMs`, default 10 minutes). */
  waitingJobs(clusterId?: string, withinMs = 10 * 60_000): WaitingJob[] {
    const cutoff = this.now().getTime() - withinMs;
    return [...this.waiting.values()].filter(
      (w) => (clusterId === undefined || w.clusterId === clusterId) && w.lastAt.getTime() >= cutoff,
    );
  }
}
