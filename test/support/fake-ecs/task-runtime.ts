import type { FakeTask } from './task-lifecycle.js';

type Json = Record<string, unknown>;

/** A RunTask failure as ECS reports it (`failures[]`: the container instance's ARN, a reason, a detail). */
export interface PlacementFailure {
  arn?: string;
  reason: string;
  detail?: string;
}

/** What the fake ECS endpoint lets a runtime do to one of its tasks. */
export interface TaskHandle {
  readonly task: FakeTask;
  /** Desired status STOPPED, with the stop code and reason ECS reports (kept when StopTask already set them). */
  stopping(stopCode: string, reason: string): void;
  /** Last status STOPPED: every container has stopped (the endpoint drops the task's tags, as StopTask says). */
  stopped(stopCode: string, reason: string): void;
}

/**
 * The narrow hook through which the fake ECS endpoint (fake-ecs-server.ts) hands tasks to something that runs them,
 * the way an ECS container agent would on a container instance (local-engine-runtime.ts: the local Docker engine).
 * Without a runtime the endpoint only keeps task records (advanced by `advanceTasks`).
 */
export interface TaskRuntime {
  /** RunTask, before any task exists: a failure when the task cannot be placed (placement constraints). */
  place?(request: Json, definition: Json, tasks: Iterable<FakeTask>): PlacementFailure | undefined;
  /** RunTask created this task from `definition`: start it (asynchronously; the task is still PROVISIONING). */
  start(handle: TaskHandle, definition: Json): void;
  /** StopTask on a task that is not stopped: `handle.stopping` was called; stop its containers and then call `stopped`. */
  stop(handle: TaskHandle): void;
}
