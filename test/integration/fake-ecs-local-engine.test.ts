import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ContainerDefinition,
  type ECSClient,
  RegisterTaskDefinitionCommand,
  type RegisterTaskDefinitionCommandInput,
  RunTaskCommand,
  type RunTaskCommandInput,
  StopTaskCommand,
  type Task,
  type Volume,
} from '@aws-sdk/client-ecs';
import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupRun, containerLogs, execIn, localDocker, RUN_LABEL, runId } from '../support/docker-engine.js';
import { dockerTestImagesReady, ensureTestImages } from '../support/docker-images.js';
import { type LocalEcs, startLocalEcs, waitForTask } from '../support/fake-ecs/local-ecs.js';
import { ECS_LABEL } from '../support/fake-ecs/local-engine-runtime.js';

const ok = dockerTestImagesReady();

const RUN = runId('fel');
/** A shell that exits 0 on SIGTERM and otherwise idles (busybox `sleep` alone ignores SIGTERM as PID 1). */
const IDLE = 'trap "exit 0" TERM; while :; do sleep 1 & wait $!; done';

describe.skipIf(!ok)(
  'the fake ECS endpoint running tasks on the local engine, as the ECS agent would',
  {
    timeout: 120_000,
  },
  () => {
    const docker: Docker = localDocker();
    let busybox: string;
    /** Tasks removed as soon as they stop (ECS removes them after ECS_ENGINE_TASK_CLEANUP_WAIT_DURATION). */
    let ecs: LocalEcs;
    /** Stopped tasks' containers kept, so their Docker timestamps can be compared. */
    let keeping: LocalEcs;
    let hostDir: string;

    beforeAll(async () => {
      ({ busybox } = await ensureTestImages());
      ecs = await startLocalEcs(docker, RUN, { defaultStopTimeoutSeconds: 5 });
      keeping = await startLocalEcs(docker, RUN, { defaultStopTimeoutSeconds: 5, cleanupAfterMs: 3_600_000 });
      hostDir = mkdtempSync(join(tmpdir(), `${RUN}-`));
    });
    afterAll(async () => {
      await ecs?.stop();
      await keeping?.stop();
      await cleanupRun(docker, RUN, []);
      if (hostDir) rmSync(hostDir, { recursive: true, force: true });
    });

    let families = 0;
    async function register(
      client: ECSClient,
      containers: ContainerDefinition[],
      extra: Partial<RegisterTaskDefinitionCommandInput> = {},
    ): Promise<string> {
      const { taskDefinition } = await client.send(
        new RegisterTaskDefinitionCommand({
          family: `${RUN}-${++families}`,
          networkMode: 'bridge',
          memory: '256',
          containerDefinitions: containers.map((c) => ({ image: busybox, ...c })),
          ...extra,
        }),
      );
      return taskDefinition!.taskDefinitionArn!;
    }

    async function runTask(client: ECSClient, taskDefinition: string, extra: Partial<RunTaskCommandInput> = {}) {
      const out = await client.send(new RunTaskCommand({ taskDefinition, launchType: 'EC2', ...extra }));
      return out;
    }

    async function running(client: ECSClient, taskDefinition: string, extra: Partial<RunTaskCommandInput> = {}) {
      const out = await runTask(client, taskDefinition, extra);
      const arn = out.tasks?.[0]?.taskArn;
      if (!arn) throw new Error(`RunTask placed nothing: ${JSON.stringify(out.failures)}`);
      return waitForTask(client, undefined, arn, 'RUNNING', (t) => t.lastStatus === 'RUNNING');
    }

    const stopped = (client: ECSClient, arn: string) =>
      waitForTask(client, undefined, arn, 'STOPPED', (t) => t.lastStatus === 'STOPPED');

    const inspect = (task: Task, name: string) =>
      docker.getContainer(task.containers!.find((c) => c.name === name)!.runtimeId!).inspect();

    it('RunTask runs the definition’s container with the ECS agent’s name and labels, its user, environment (overrides added and winning), command override, capabilities and limits', async () => {
      const td = await register(ecs.client, [
        {
          name: 'app',
          essential: true,
          memory: 64,
          user: '1000:0',
          command: ['sleep', '600'],
          workingDirectory: '/tmp',
          environment: [
            { name: 'FROM_DEF', value: 'd' },
            { name: 'OVERRIDDEN', value: 'definition' },
          ],
          dockerLabels: { 'com.example.team': 'ci', [ECS_LABEL.cluster]: 'spoofed' },
          linuxParameters: { capabilities: { add: ['NET_ADMIN'], drop: ['MKNOD'] }, initProcessEnabled: true },
        },
      ]);
      const task = await running(ecs.client, td, {
        overrides: {
          containerOverrides: [
            {
              name: 'app',
              command: ['sh', '-c', IDLE],
              environment: [
                { name: 'OVERRIDDEN', value: 'run' },
                { name: 'FROM_RUN', value: 'r' },
              ],
            },
          ],
        },
      });
      expect(task.containerInstanceArn).toBe(ecs.runtime.instanceArn);
      const info = await inspect(task, 'app');
      expect(info.Name).toMatch(new RegExp(`^/ecs-${RUN}-\\d+-1-app-[0-9a-f]{20}$`));
      expect(info.State.Running).toBe(true);
      expect(info.Config.User).toBe('1000:0');
      expect(info.Config.WorkingDir).toBe('/tmp');
      expect(info.Config.Cmd).toEqual(['sh', '-c', IDLE]);
      expect(info.Config.Env).toEqual(
        expect.arrayContaining([
          'FROM_DEF=d',
          'OVERRIDDEN=run',
          'FROM_RUN=r',
          'AWS_REGION=us-east-1',
          expect.stringMatching(/^ECS_CONTAINER_METADATA_URI_V4=http:\/\/[\d.]+:\d+\/v4\/[0-9a-f-]{36}$/),
        ]),
      );
      expect(info.Config.Env).not.toContain('OVERRIDDEN=definition');
      expect(info.Config.Labels).toMatchObject({
        'com.example.team': 'ci',
        [ECS_LABEL.taskArn]: task.taskArn,
        [ECS_LABEL.containerName]: 'app',
        [ECS_LABEL.family]: `${RUN}-${families}`,
        [ECS_LABEL.version]: '1',
        [ECS_LABEL.cluster]: 'default',
      });
      expect(info.HostConfig).toMatchObject({
        CapAdd: ['NET_ADMIN'],
        CapDrop: ['MKNOD'],
        Init: true,
        Privileged: false,
        Memory: 64 * 1024 * 1024,
        NetworkMode: 'bridge',
      });
      expect((await execIn(docker, info.Id, ['id', '-u'])).output.trim(), 'runs as the definition’s user').toBe('1000');

      const stop = await ecs.client.send(new StopTaskCommand({ task: task.taskArn, reason: 'test done' }));
      expect(stop.task).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'STOPPING', stopCode: 'UserInitiated' });
      const done = await stopped(ecs.client, task.taskArn!);
      expect(done).toMatchObject({ stopCode: 'UserInitiated', stoppedReason: 'test done' });
      expect(done.containers?.[0]).toMatchObject({ lastStatus: 'STOPPED', exitCode: 0 });
      expect(
        await docker.listContainers({ all: true, filters: { label: [`${ECS_LABEL.taskArn}=${task.taskArn}`] } }),
        'the stopped task’s containers are cleaned up',
      ).toEqual([]);
    });

    it('dependsOn orders the starts (SUCCESS, HEALTHY, START) and StopTask stops in reverse dependency order, STOPPING until the last container has stopped', async () => {
      const td = await register(keeping.client, [
        { name: 'init', essential: false, command: ['sh', '-c', 'sleep 1; echo initialised'] },
        {
          name: 'db',
          command: ['sh', '-c', `sleep 1; touch /tmp/ready; ${IDLE}`],
          healthCheck: { command: ['CMD-SHELL', 'test -f /tmp/ready'], interval: 5, timeout: 2, retries: 3 },
        },
        {
          name: 'app',
          command: ['sh', '-c', IDLE],
          dependsOn: [
            { containerName: 'init', condition: 'SUCCESS' },
            { containerName: 'db', condition: 'HEALTHY' },
          ],
        },
        {
          name: 'side',
          essential: false,
          command: ['sh', '-c', IDLE],
          dependsOn: [{ containerName: 'app', condition: 'START' }],
        },
      ]);
      const task = await running(keeping.client, td);
      const [init, db, app, side] = await Promise.all(['init', 'db', 'app', 'side'].map((n) => inspect(task, n)));
      const t = (s: string) => new Date(s).getTime();
      expect(t(app!.State.StartedAt)).toBeGreaterThan(t(init!.State.FinishedAt));
      const firstHealthy = db!.State.Health?.Log?.find((l) => l.ExitCode === 0);
      expect(firstHealthy, 'db passed its health check').toBeDefined();
      expect(t(app!.State.StartedAt)).toBeGreaterThanOrEqual(t(firstHealthy!.End));
      expect(t(side!.State.StartedAt)).toBeGreaterThanOrEqual(t(app!.State.StartedAt));
      expect(task.containers?.find((c) => c.name === 'db')?.healthStatus).toBe('HEALTHY');

      await keeping.client.send(new StopTaskCommand({ task: task.taskArn }));
      await stopped(keeping.client, task.taskArn!);
      const [db2, app2, side2] = await Promise.all(['db', 'app', 'side'].map((n) => inspect(task, n)));
      // side depends on app, app on db: each stops only after its dependents have.
      expect(t(side2!.State.FinishedAt)).toBeLessThanOrEqual(t(app2!.State.FinishedAt));
      expect(t(app2!.State.FinishedAt)).toBeLessThanOrEqual(t(db2!.State.FinishedAt));
    });

    it('a SUCCESS dependency that exits non-zero stops the task with TaskFailedToStart, and the dependent never starts', async () => {
      const td = await register(ecs.client, [
        { name: 'init', essential: false, command: ['sh', '-c', 'exit 4'] },
        { name: 'app', command: ['sh', '-c', IDLE], dependsOn: [{ containerName: 'init', condition: 'SUCCESS' }] },
      ]);
      const { tasks } = await runTask(ecs.client, td);
      const done = await stopped(ecs.client, tasks![0]!.taskArn!);
      expect(done.stopCode).toBe('TaskFailedToStart');
      expect(done.stoppedReason).toMatch(/app depends on init being SUCCESS, but it exited 4/);
      expect(done.containers?.find((c) => c.name === 'app')?.runtimeId).toBeUndefined();
    });

    it('task-scoped Docker volumes and scratch host volumes are shared through mountPoints and volumesFrom (read-only where asked) and removed with the task; a host sourcePath is bound as it is', async () => {
      const volumes: Volume[] = [
        { name: 'scratch', host: {} },
        { name: 'dv', dockerVolumeConfiguration: { scope: 'task', driver: 'local', labels: { purpose: 'test' } } },
        { name: 'hp', host: { sourcePath: hostDir } },
      ];
      const td = await register(
        ecs.client,
        [
          {
            name: 'writer',
            essential: false,
            command: ['sh', '-c', 'echo s > /scratch/f && echo d > /dv/f'],
            mountPoints: [
              { sourceVolume: 'scratch', containerPath: '/scratch' },
              { sourceVolume: 'dv', containerPath: '/dv' },
            ],
          },
          {
            name: 'reader',
            command: [
              'sh',
              '-c',
              `cat /scratch/f /dv/f > /out/result; (touch /dv/x 2>/dev/null && echo rw || echo ro) >> /out/result; ${IDLE}`,
            ],
            dependsOn: [{ containerName: 'writer', condition: 'SUCCESS' }],
            volumesFrom: [{ sourceContainer: 'writer', readOnly: true }],
            mountPoints: [{ sourceVolume: 'hp', containerPath: '/out' }],
          },
        ],
        { volumes },
      );
      const task = await running(ecs.client, td);
      const listVolumes = async () =>
        ((await docker.listVolumes({ filters: { label: [`${RUN_LABEL}=${RUN}`, 'purpose'] } })).Volumes ?? []).map(
          (v) => v.Name,
        );
      expect(await listVolumes()).toEqual([
        expect.stringMatching(new RegExp(`^ecs-${RUN}-\\d+-\\d+-dv-[0-9a-f]{20}$`)),
      ]);
      const reader = await inspect(task, 'reader');
      expect(reader.HostConfig.VolumesFrom).toEqual([expect.stringMatching(/^ecs-.*-writer-[0-9a-f]{20}:ro$/)]);
      await waitForTask(ecs.client, undefined, task.taskArn!, 'to write its result', () => {
        try {
          return readFileSync(join(hostDir, 'result'), 'utf8').includes('r');
        } catch {
          return false;
        }
      });
      expect(readFileSync(join(hostDir, 'result'), 'utf8')).toBe('s\nd\nro\n');

      await ecs.client.send(new StopTaskCommand({ task: task.taskArn }));
      await stopped(ecs.client, task.taskArn!);
      expect(await listVolumes(), 'task-scoped volumes go with the task').toEqual([]);
    });

    it('an essential container’s exit stops the task: EssentialContainerExited, the other containers stopped, exit codes reported', async () => {
      const td = await register(ecs.client, [
        { name: 'main', command: ['sh', '-c', 'sleep 1; exit 3'] },
        { name: 'helper', essential: false, command: ['sh', '-c', IDLE] },
      ]);
      const { tasks } = await runTask(ecs.client, td);
      const done = await stopped(ecs.client, tasks![0]!.taskArn!);
      expect(done).toMatchObject({
        desiredStatus: 'STOPPED',
        stopCode: 'EssentialContainerExited',
        stoppedReason: 'Essential container in task exited',
      });
      expect(Object.fromEntries(done.containers!.map((c) => [c.name, c.exitCode]))).toEqual({ main: 3, helper: 0 });
    });

    it('StopTask gives each container its stopTimeout: one ignoring SIGTERM is killed after it, and the task is STOPPING meanwhile', async () => {
      // busybox sleep as PID 1 ignores SIGTERM.
      const td = await register(ecs.client, [{ name: 'stubborn', command: ['sleep', '600'], stopTimeout: 2 }]);
      const task = await running(ecs.client, td);
      const stop = await ecs.client.send(new StopTaskCommand({ task: task.taskArn }));
      expect(stop.task?.lastStatus).toBe('STOPPING');
      const mid = await waitForTask(ecs.client, undefined, task.taskArn!, 'described', () => true);
      expect(['STOPPING', 'STOPPED']).toContain(mid.lastStatus);
      const done = await stopped(ecs.client, task.taskArn!);
      expect(done.containers?.[0]?.exitCode, 'SIGKILL after the stop timeout').toBe(137);
      expect(done.stoppedAt!.getTime() - done.stoppingAt!.getTime()).toBeGreaterThanOrEqual(1900);
    });

    it('every container reads its task ARN and its own Docker id from the task metadata endpoint v4', async () => {
      const td = await register(ecs.client, [
        {
          name: 'reader',
          command: [
            'sh',
            '-c',
            `wget -qO- "$ECS_CONTAINER_METADATA_URI_V4/task"; echo; wget -qO- "$ECS_CONTAINER_METADATA_URI_V4"; echo; ${IDLE}`,
          ],
        },
      ]);
      const task = await running(ecs.client, td);
      const id = task.containers![0]!.runtimeId!;
      const lines = await waitForTask(ecs.client, undefined, task.taskArn!, 'metadata read', () => true).then(
        async () => {
          for (let i = 0; i < 50; i++) {
            const out = (await containerLogs(id)).split('\n').filter((l) => l.startsWith('{'));
            if (out.length === 2) return out;
            await new Promise((r) => setTimeout(r, 200));
          }
          throw new Error(`no metadata in the logs: ${await containerLogs(id)}`);
        },
      );
      const [taskMeta, containerMeta] = lines.map((l) => JSON.parse(l));
      expect(taskMeta).toMatchObject({ TaskARN: task.taskArn, Cluster: 'default', Revision: '1', LaunchType: 'EC2' });
      expect(taskMeta.Containers).toEqual([expect.objectContaining({ Name: 'reader', DockerId: id })]);
      expect(containerMeta).toMatchObject({ Name: 'reader', DockerId: id });
      expect(containerMeta.Labels[ECS_LABEL.taskArn]).toBe(task.taskArn);
      await ecs.client.send(new StopTaskCommand({ task: task.taskArn }));
    });

    it('distinctInstance keeps a second task of the group off the instance while the first runs, but — as on ECS — not once the first is stopping', async () => {
      const td = await register(ecs.client, [{ name: 'slow', command: ['sleep', '600'], stopTimeout: 120 }]);
      const placement: Partial<RunTaskCommandInput> = {
        group: `${RUN}-socket`,
        placementConstraints: [{ type: 'distinctInstance' }],
      };
      const first = await running(ecs.client, td, placement);
      const refused = await runTask(ecs.client, td, placement);
      expect(refused.tasks).toEqual([]);
      expect(refused.failures).toEqual([
        { arn: ecs.runtime.instanceArn, reason: 'DistinctInstance placement constraint unsatisfied.' },
      ]);
      await ecs.client.send(new StopTaskCommand({ task: first.taskArn }));
      // The first task ignores SIGTERM and has 120 s: it is certainly still stopping now.
      const placed = await runTask(ecs.client, td, placement);
      expect(placed.tasks).toHaveLength(1);
      const stillStopping = await waitForTask(ecs.client, undefined, first.taskArn!, 'described', () => true);
      expect(stillStopping).toMatchObject({ desiredStatus: 'STOPPED', lastStatus: 'STOPPING' });
      // End both without waiting out the stop timeout: an essential container killed ends its task.
      await docker.getContainer(first.containers![0]!.runtimeId!).kill();
      await stopped(ecs.client, first.taskArn!);
      const second = await waitForTask(
        ecs.client,
        undefined,
        placed.tasks![0]!.taskArn!,
        'RUNNING',
        (t) => t.lastStatus === 'RUNNING',
      );
      await docker.getContainer(second.containers![0]!.runtimeId!).kill();
      expect(await stopped(ecs.client, second.taskArn!)).toMatchObject({ stopCode: 'EssentialContainerExited' });
    });

    it('an image that cannot be pulled stops the task with TaskFailedToStart and CannotPullContainerError', async () => {
      const td = await register(ecs.client, [{ name: 'app', image: '127.0.0.1:1/gas-missing/app:1' }]);
      const { tasks } = await runTask(ecs.client, td);
      const done = await stopped(ecs.client, tasks![0]!.taskArn!);
      expect(done.stopCode).toBe('TaskFailedToStart');
      expect(done.stoppedReason).toMatch(/^CannotPullContainerError: 127\.0\.0\.1:1\/gas-missing\/app:1/);
    });
  },
);
