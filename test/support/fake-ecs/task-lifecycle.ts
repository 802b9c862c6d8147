// The task state machine of the fake ECS endpoint, in one place (the Docker-running mode of the fake drives the same
// transitions through the `TaskRuntime` hook of task-runtime.ts). States and order from "Amazon ECS task lifecycle"
// (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-lifecycle-explanation.html):
//
//   RunTask ─▶ PROVISIONING ─▶ PENDING ─▶ ACTIVATING ─▶ RUNNING           (advance: the agent's reports)
//   StopTask (or an out-of-band stop) ─▶ desiredStatus STOPPED, lastStatus STOPPING ─▶ STOPPED
//   STOPPED ─▶ gone after the retention: DescribeTasks answers MISSING, ListTasks no longer lists it
//
// StopTask answers while the task is still STOPPING; it reaches STOPPED once the runtime says its containers are
// down (default: `stopDurationMs` after the stop). "Any tags associated with the task will be deleted" (StopTask API
// reference) happens at the stop request. Stopped tasks stay describable "for at least one hour" (ListTasks API
// reference), then expire: `stoppedRetentionMs`.

type Json = Record<string, unknown>;
export type Tag = { key: string; value: string };

/** Lifecycle states on the way up, in order. */
export const STARTING_STATES = ['PROVISIONING', 'PENDING', 'ACTIVATING', 'RUNNING'] as const;

/** A task as the fake keeps it (timestamps in epoch seconds, as on the wire). */
export interface FakeTask {
  taskArn: string;
  clusterArn: string;
  taskDefinitionArn: string;
  lastStatus: string;
  desiredStatus: string;
  startedBy?: string;
  group?: string;
  launchType?: string;
  capacityProviderName?: string;
  createdAt: number;
  startedAt?: number;
  stoppingAt?: number;
  stoppedAt?: number;
  stoppedReason?: string;
  stopCode?: string;
  version: number;
  tags: Tag[];
  overrides?: Json;
  containers: Json[];
  placementConstraints?: Json[];
  clientToken?: string;
  enableExecuteCommand?: boolean;
  /** Set by a runtime that places the task on a container instance (local-engine-runtime.ts). */
  containerInstanceArn?: string;
  healthStatus?: string;
}

/** Timings of the state machine. */
export interface LifecycleTiming {
  /** STOPPING → STOPPED without a runtime hook; default 1 s. */
  stopDurationMs: number;
  /** STOPPED → gone (MISSING); default 1 h, ECS's documented minimum. */
  stoppedRetentionMs: number;
}

const seconds = (ms: number) => ms / 1000;

/** Moves a starting task one state up; false when it is not starting (running, stopping, stopped). */
export function advance(task: FakeTask, nowMs: number): boolean {
  const i = (STARTING_STATES as readonly string[]).indexOf(task.lastStatus);
  if (i < 0 || i === STARTING_STATES.length - 1 || task.desiredStatus === 'STOPPED') return false;
  task.lastStatus = STARTING_STATES[i + 1]!;
  task.version++;
  if (task.lastStatus === 'RUNNING') {
    task.startedAt = seconds(nowMs);
    for (const c of task.containers) c.lastStatus = 'RUNNING';
  }
  return true;
}

/** The stop request: desired STOPPED, lastStatus STOPPING, tags deleted. False when the task was already stopping. */
export function requestStop(task: FakeTask, nowMs: number, stopCode: string, reason: string): boolean {
  if (task.desiredStatus === 'STOPPED') return false;
  task.desiredStatus = 'STOPPED';
  task.lastStatus = 'STOPPING';
  task.stopCode = stopCode;
  task.stoppedReason = reason;
  task.stoppingAt = seconds(nowMs);
  task.tags = [];
  task.version++;
  return true;
}

/** STOPPING → STOPPED (containers down). */
export function finishStop(task: FakeTask, nowMs: number): void {
  if (task.lastStatus === 'STOPPED') return;
  task.lastStatus = 'STOPPED';
  task.stoppedAt = seconds(nowMs);
  task.version++;
  for (const c of task.containers) c.lastStatus = 'STOPPED';
}

/** Applies the timed transition (STOPPING → STOPPED) a task is due for, when no runtime drives it. */
export function settle(task: FakeTask, nowMs: number, timing: LifecycleTiming, runtimeDriven: boolean): void {
  if (runtimeDriven || task.lastStatus !== 'STOPPING' || task.stoppingAt === undefined) return;
  const due = task.stoppingAt * 1000 + timing.stopDurationMs;
  if (nowMs >= due) finishStop(task, due);
}

/** True once a STOPPED task has outlived the retention: ECS no longer knows it. */
export function expired(task: FakeTask, nowMs: number, timing: LifecycleTiming): boolean {
  return (
    task.lastStatus === 'STOPPED' &&
    task.stoppedAt !== undefined &&
    nowMs - task.stoppedAt * 1000 >= timing.stoppedRetentionMs
  );
}
