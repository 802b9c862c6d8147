import { errorWithCauses } from '../errors.js';

/** A cluster profile as GoCD's cluster-profiles API lists it (secure values come encrypted, not in `value`). */
export interface GocdClusterProfile {
  id: string;
  plugin_id: string;
  properties: { key: string; value?: string; encrypted_value?: string }[];
}

/** The result of one read: the parsed body, or why there is none (status, or a network error). */
export type ApiRead<T> = { ok: true; value: T } | { ok: false; status?: number; message: string };

/**
 * Read-only GoCD REST calls the doctor uses: server version, current user, cluster profiles, pipeline config.
 * Knows nothing of the plugin protocol.
 */
export class GocdAdminClient {
  private readonly base: string;

  constructor(
    apiUrl: string,
    private readonly token: string | undefined,
    private readonly fetchImpl: typeof fetch = fetch,
    private readonly timeoutMs = 10_000,
  ) {
    this.base = apiUrl.replace(/\/+$/, '');
  }

  private async get<T>(path: string, accept: string, auth = true): Promise<ApiRead<T>> {
    const headers: Record<string, string> = { accept };
    if (auth && this.token) headers.authorization = `bearer ${this.token}`;
    try {
      const res = await this.fetchImpl(`${this.base}${path}`, { headers, signal: AbortSignal.timeout(this.timeoutMs) });
      const text = await res.text();
      if (!res.ok) {
        let message = text.slice(0, 300);
        try {
          message = (JSON.parse(text) as { message?: string }).message ?? message;
        } catch {
          // not JSON: keep the text
        }
        return { ok: false, status: res.status, message: `HTTP ${res.status}${message ? `: ${message}` : ''}` };
      }
      return { ok: true, value: JSON.parse(text) as T };
    } catch (err) {
      return { ok: false, message: errorWithCauses(err) };
    }
  }

  /** `GET /api/version` (no auth needed). */
  version(): Promise<ApiRead<{ version: string; full_version?: string }>> {
    return this.get('/api/version', 'application/vnd.go.cd.v1+json', false);
  }

  /** `GET /api/current_user`: proves the token works. */
  currentUser(): Promise<ApiRead<{ login_name: string }>> {
    return this.get('/api/current_user', 'application/vnd.go.cd.v1+json');
  }

  /** `GET /api/admin/elastic/cluster_profiles` (admin). */
  async clusterProfiles(): Promise<ApiRead<GocdClusterProfile[]>> {
    const read = await this.get<{ _embedded?: { profiles?: GocdClusterProfile[] } }>(
      '/api/admin/elastic/cluster_profiles',
      'application/vnd.go.cd.v1+json',
    );
    return read.ok ? { ok: true, value: read.value._embedded?.profiles ?? [] } : read;
  }

  /** `GET /api/admin/pipelines/:name`: the pipeline-level environment variable names. */
  async pipelineVariables(name: string): Promise<ApiRead<string[]>> {
    const read = await this.get<{ environment_variables?: { name: string }[] }>(
      `/api/admin/pipelines/${encodeURIComponent(name)}`,
      'application/vnd.go.cd+json',
    );
    return read.ok ? { ok: true, value: (read.value.environment_variables ?? []).map((v) => v.name) } : read;
  }
}
