import type { Activity } from '../agents/activity-log.js';
import type { AgentRecord } from '../agents/agent-backend.port.js';
import type { AgentReport, ClusterReport } from '../agents/agent-service.js';
import { escapeHtml as e } from '../html.js';

const STYLE = `<style>
.gas{font-family:system-ui,sans-serif;font-size:13px;color:#333}
.gas h3{margin:12px 0 6px}.gas table{border-collapse:collapse;width:100%;margin-bottom:12px}
.gas th,.gas td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
.gas th{background:#f3f3f3}.gas .muted{color:#777}.gas .err{color:#a40000}
.gas .state-running{color:#2f7d32}.gas .state-pending{color:#8a6d00}.gas .state-stopping{color:#a40000}.gas a{color:#1565c0}
</style>`;

/** Environment variable names whose values the report never shows. */
const SECRET_NAME = /KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|AUTH/i;

function age(from: Date | undefined, now: Date): string {
  if (!from) return '';
  const s = Math.max(0, Math.round((now.getTime() - from.getTime()) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`;
}

function activityRows(items: Activity[], now: Date): string {
  if (items.length === 0) return '<p class="muted">none</p>';
  return `<table><tr><th>when</th><th>job</th><th>agent</th><th>what</th></tr>${items
    .map(
      (a) =>
        `<tr><td>${e(age(a.at, now))} ago</td><td>${e(a.pipeline ?? '')}</td><td>${e(a.agentId ?? '')}</td><td>${e(a.message)}</td></tr>`,
    )
    .join('')}</table>`;
}

/** GoCD's job details page for `pipeline/counter/stage/counter/job`. */
export function jobLink(goServerUrl: string, pipeline: string): string {
  return `${goServerUrl.replace(/\/+$/, '')}/tab/build/detail/${pipeline.split('/').map(encodeURIComponent).join('/')}`;
}

/** The AWS console page of an ECS task, from its ARN (`arn:aws:ecs:<region>:<acct>:task/<cluster>/<id>`). */
export function ecsConsoleLink(taskArn: string): string | undefined {
  const m = /^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d+:task\/([^/]+)\/([^/]+)$/.exec(taskArn);
  return m ? `https://${m[1]}.console.aws.amazon.com/ecs/v2/clusters/${m[2]}/tasks/${m[3]}` : undefined;
}

function refCell(ref: string): string {
  const console = ecsConsoleLink(ref);
  const id = console ? ref.split('/').pop() : ref.slice(0, 12);
  return console
    ? `<a href="${e(console)}" target="_blank" rel="noopener"><code>${e(id)}</code></a>`
    : `<code title="${e(ref)}">${e(id)}</code>`;
}

/** The job an agent runs, or the warm pool it waits in. */
function jobCell(a: AgentRecord, goServerUrl: string): string {
  if (a.jobId === undefined) return `<span class="muted">warm pool ${e(a.pool ?? '')}</span>`;
  return `<a href="${e(jobLink(goServerUrl, a.pipeline))}" target="_blank" rel="noopener">${e(a.pipeline)}</a> <span class="muted">(job ${e(a.jobId)})</span>`;
}

/** The cluster's warm pools: size, waiting, held for a job, in use, launching, why not full. */
function poolRows(pools: ClusterReport['pools']): string {
  if (pools.length === 0) return '';
  return `<h4>Warm pools</h4><table><tr><th>image</th><th>profile hash</th><th>size</th><th>waiting</th><th>held for a job</th><th>in use</th><th>launching</th><th>why not full</th></tr>${pools
    .map(
      (p) =>
        `<tr><td>${e(p.image)}</td><td><code>${e(p.hash)}</code></td><td>${e(p.size)}</td><td>${e(p.waiting)}</td><td>${e(p.reserved)}</td><td>${e(p.inUse)}</td><td>${e(p.refilling)}</td><td>${e(p.whyNotFull ?? '')}</td></tr>`,
    )
    .join('')}</table>`;
}

function agentRows(agents: AgentRecord[], goServerUrl: string, now: Date): string {
  if (agents.length === 0) return '<p class="muted">no agents running</p>';
  return `<table><tr><th>agent id</th><th>job</th><th>docker mode</th><th>task / container</th><th>state</th><th>age</th></tr>${agents
    .map(
      (a) =>
        `<tr><td>${e(a.agentId)}</td><td>${jobCell(a, goServerUrl)}</td><td>${e(a.dockerMode ?? '')}</td><td>${refCell(a.ref)}</td><td class="state-${e(a.status)}">${e(a.status)}</td><td>${e(age(a.createdAt, now))}</td></tr>`,
    )
    .join('')}</table>`;
}

/** HTML of one cluster's status: agents, waiting jobs and why, recent errors, reaping in the last hour. */
export function renderClusterSection(r: ClusterReport, now = new Date()): string {
  const c = r.cluster;
  const where = e(c.where);
  const count = r.agents ? `${r.agents.length} / ${c.maxAgents} agents` : '';
  return [
    `<h3>Cluster profile <code>${e(c.clusterId)}</code> — ${where} <span class="muted">${e(count)}</span></h3>`,
    r.policyProblem
      ? `<p class="err">Refused by the operator policy: ${e(r.policyProblem)}</p>`
      : r.listError
        ? `<p class="err">Could not list agents: ${e(r.listError)}</p>`
        : agentRows(r.agents ?? [], c.goServerUrl, now),
    poolRows(r.pools),
    '<h4>Jobs waiting for an agent</h4>',
    r.waiting.length === 0
      ? '<p class="muted">none</p>'
      : `<table><tr><th>job</th><th>waiting</th><th>why</th></tr>${r.waiting
          .map(
            (w) =>
              `<tr><td>${e(w.pipeline)} <span class="muted">(job ${e(w.jobId)})</span></td><td>${e(age(w.since, now))}</td><td>${e(w.reason)}</td></tr>`,
          )
          .join('')}</table>`,
    '<h4>Recent errors</h4>',
    activityRows(r.errors, now),
    '<h4>Stopped and reaped in the last hour</h4>',
    activityRows(r.reaped, now),
  ].join('\n');
}

/** `cluster-status-report` / `plugin-status-report` view: self-contained HTML, inline CSS only. */
export function renderStatusPage(sections: string[]): string {
  return `${STYLE}<div class="gas">${sections.length ? sections.join('\n<hr/>\n') : '<p class="muted">No cluster profiles.</p>'}</div>`;
}

/** `agent-status-report` view. */
export function renderAgentReport(r: AgentReport, now = new Date()): string {
  const d = r.details;
  const parts = [
    `<h3>Agent <code>${e(r.agentId ?? '(unknown)')}</code> <span class="muted">cluster ${e(r.cluster.clusterId)}</span></h3>`,
  ];
  if (r.error) parts.push(`<p class="err">Could not inspect the agent: ${e(r.error)}</p>`);
  if (!d) {
    parts.push('<p class="muted">No live task or container for this agent.</p>');
  } else {
    const a = d.agent;
    parts.push(
      `<table><tr><th>job</th><td>${e(a.pipeline)} (job ${e(a.jobId)})</td></tr><tr><th>state</th><td>${e(a.status)}</td></tr><tr><th>task / container</th><td><code>${e(a.ref)}</code></td></tr><tr><th>docker mode</th><td>${e(a.dockerMode ?? '')}</td></tr><tr><th>age</th><td>${e(age(a.createdAt, now))}</td></tr>${
        a.stoppedReason ? `<tr><th>stop reason</th><td>${e(a.stoppedReason)}</td></tr>` : ''
      }</table>`,
      '<h4>Containers</h4>',
      `<table><tr><th>name</th><th>image</th><th>status</th><th>exit code</th><th>reason</th></tr>${d.containers
        .map(
          (c) =>
            `<tr><td>${e(c.name)}</td><td>${e(c.image ?? '')}</td><td>${e(c.status ?? '')}</td><td>${e(c.exitCode ?? '')}</td><td>${e(c.reason ?? '')}</td></tr>`,
        )
        .join('')}</table>`,
      '<h4>Environment</h4>',
      `<table>${Object.entries(d.environment)
        .map(([k, v]) => `<tr><th>${e(k)}</th><td><code>${e(SECRET_NAME.test(k) ? '***' : v)}</code></td></tr>`)
        .join('')}</table>`,
      d.links.length
        ? `<p>${d.links.map((l) => `<a href="${e(l.url)}" target="_blank" rel="noopener">${e(l.label)}</a>`).join(' · ')}</p>`
        : '',
    );
  }
  parts.push('<h4>History</h4>', activityRows(r.history, now));
  return `${STYLE}<div class="gas">${parts.join('\n')}</div>`;
}
