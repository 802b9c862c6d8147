/**
 * Agents this process launched (or is launching) in the last two minutes, per cluster: counted against max_agents
 * until a listing shows them, so concurrent create-agents and eventually consistent listings cannot overshoot the
 * cap. Informational memory only: losing it on a restart costs at most a brief overshoot, never a leak.
 */
export class RecentLaunches {
  private readonly byCluster = new Map<string, Map<string, number>>();

  constructor(
    private readonly now: () => Date,
    private readonly windowMs = 120_000,
  ) {}

  add(clusterId: string, agentId: string): void {
    const m = this.byCluster.get(clusterId) ?? new Map<string, number>();
    this.byCluster.set(clusterId, m);
    m.set(agentId, this.now().getTime() + this.windowMs);
  }

  remove(clusterId: string, agentId: string): void {
    this.byCluster.get(clusterId)?.delete(agentId);
  }

  /** Size of the union of `listed` agent ids and this cluster's recent launches (expired ones dropped). */
  count(clusterId: string, listed: readonly string[]): number {
    const ids = new Set(listed);
    const m = this.byCluster.get(clusterId);
    const t = this.now().getTime();
    for (const [id, expires] of m ?? []) {
      if (expires < t) m!.delete(id);
      else ids.add(id);
    }
    return ids.size;
  }
}
