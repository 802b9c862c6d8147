import { BackendUnavailableError } from '../errors.js';
import { MANIFEST_MEDIA_TYPES } from '../registry/image-pushed.js';
import type { ResolvedTag, TagSource } from '../registry/tag-source.port.js';

export interface RegistryApiOptions {
  /** The configured API base URL (`https://registry.example.com`); the only host this client ever calls. */
  apiUrl: string;
  username?: string;
  password?: string;
  fetch?: typeof fetch;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
  now?: () => number;
  /** Pages of `tags/list` read at most (1,000 tags a page; default 20). */
  maxPages?: number;
}

const ACCEPT = [...MANIFEST_MEDIA_TYPES].join(', ');

/** Parses `WWW-Authenticate: Bearer realm="…",service="…",scope="…"` (or `Basic realm="…"`). */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^\s*(\w+)\s*(.*)$/.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!.toLowerCase()] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/**
 * The registry HTTP API v2, for resolving tag → digest (HEAD manifest) and listing tags, with the token auth flow:
 * a 401 with a Bearer challenge → token from the realm (Basic credentials when configured, anonymous otherwise) →
 * retry; a Basic challenge → retry with Basic. Never calls a host taken from a webhook payload (SSRF): only the
 * configured `apiUrl`, and the token realm that registry names in its own challenge.
 */
export class RegistryApiClient implements TagSource {
  private readonly base: URL;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly tokens = new Map<string, { token: string; expiresAt: number }>();

  constructor(private readonly options: RegistryApiOptions) {
    this.base = new URL(options.apiUrl.replace(/\/+$/, ''));
    this.fetchImpl = options.fetch ?? fetch;
    this.now = options.now ?? Date.now;
  }

  async resolve(repository: string, tag: string): Promise<ResolvedTag | undefined> {
    const res = await this.request(
      'HEAD',
      `/v2/${repository}/manifests/${encodeURIComponent(tag)}`,
      `repository:${repository}:pull`,
      {
        accept: ACCEPT,
      },
    );
    if (res.status === 404) return undefined;
    if (!res.ok) throw new BackendUnavailableError(`registry HEAD ${repository}:${tag} answered ${res.status}`);
    const digest = res.headers.get('docker-content-digest');
    if (!digest) throw new BackendUnavailableError(`registry HEAD ${repository}:${tag} gave no Docker-Content-Digest`);
    const mediaType = res.headers.get('content-type')?.split(';')[0]?.trim();
    return { digest, ...(mediaType ? { mediaType } : {}) };
  }

  /** Every tag of `repository` (paged with `n`/`last`, bounded by `maxPages`). */
  async listTags(repository: string): Promise<{ tags: string[]; truncated: boolean }> {
    const { items, truncated } = await this.listPaged(
      `/v2/${repository}/tags/list?n=1000`,
      `repository:${repository}:pull`,
      'tags',
      `tags/list ${repository}`,
    );
    return { tags: items, truncated };
  }

  /**
   * Every repository, from the distribution spec's catalog (`GET /v2/_catalog`, token scope `registry:catalog:*`),
   * paged like tags. Registries without a catalog (Docker Hub, GHCR) answer 401/404: a glob cannot be polled there.
   */
  async listRepositories(): Promise<{ repositories: string[]; truncated: boolean }> {
    const { items, truncated } = await this.listPaged(
      '/v2/_catalog?n=1000',
      'registry:catalog:*',
      'repositories',
      '_catalog',
    );
    return { repositories: items, truncated };
  }

  private async listPaged(
    first: string,
    scope: string,
    field: 'tags' | 'repositories',
    what: string,
  ): Promise<{ items: string[]; truncated: boolean }> {
    const items: string[] = [];
    let path: string | undefined = first;
    for (let page = 0; path && page < (this.options.maxPages ?? 20); page++) {
      const res = await this.request('GET', path, scope, { accept: 'application/json' });
      if (res.status === 404 && field === 'tags') return { items: [], truncated: false };
      if (!res.ok) throw new BackendUnavailableError(`registry ${what} answered ${res.status}`);
      const json = (await res.json()) as Record<string, unknown>;
      const list = json[field];
      if (Array.isArray(list)) for (const t of list) if (typeof t === 'string') items.push(t);
      path = this.nextPage(res.headers.get('link'));
    }
    return { items, truncated: path !== undefined };
  }

  async listTagDigests(
    repository: string,
    filter: (tag: string) => boolean,
    max: number,
  ): Promise<{ tags: Map<string, string>; truncated: boolean }> {
    const listed = await this.listTags(repository);
    const wanted = listed.tags.filter(filter);
    const out = new Map<string, string>();
    for (const tag of wanted.slice(0, max)) {
      const resolved = await this.resolve(repository, tag);
      if (resolved) out.set(tag, resolved.digest);
    }
    return { tags: out, truncated: listed.truncated || wanted.length > max };
  }

  /** The `rel="next"` link, kept only when it stays on the configured origin. */
  private nextPage(link: string | null): string | undefined {
    const m = link ? /<([^>]+)>\s*;\s*rel="?next"?/.exec(link) : null;
    if (!m) return undefined;
    const next = new URL(m[1]!, this.base);
    if (next.origin !== this.base.origin) return undefined;
    return `${next.pathname.replace(this.base.pathname.replace(/\/$/, ''), '')}${next.search}`;
  }

  private async request(
    method: string,
    path: string,
    scope: string,
    headers: Record<string, string>,
  ): Promise<Response> {
    const url = `${this.base.href.replace(/\/$/, '')}${path}`;
    const cached = this.tokens.get(scope);
    const auth = cached && cached.expiresAt > this.now() ? `Bearer ${cached.token}` : undefined;
    let res = await this.send(method, url, { ...headers, ...(auth ? { authorization: auth } : {}) });
    if (res.status !== 401) return res;
    await res.body?.cancel();
    const challenge = parseChallenge(res.headers.get('www-authenticate'));
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const token = await this.fetchToken(challenge.params, scope);
      res = await this.send(method, url, { ...headers, authorization: `Bearer ${token}` });
    } else if (challenge?.scheme === 'basic' && this.basic()) {
      res = await this.send(method, url, { ...headers, authorization: this.basic()! });
    }
    return res;
  }

  private basic(): string | undefined {
    const { username, password } = this.options;
    if (!username) return undefined;
    return `Basic ${Buffer.from(`${username}:${password ?? ''}`).toString('base64')}`;
  }

  private async fetchToken(params: Record<string, string>, scope: string): Promise<string> {
    const realm = new URL(params.realm!);
    if (realm.protocol !== 'https:' && realm.protocol !== 'http:') {
      throw new BackendUnavailableError(`registry token realm has scheme ${realm.protocol}`);
    }
    if (params.service) realm.searchParams.set('service', params.service);
    realm.searchParams.set('scope', params.scope ?? scope);
    const basic = this.basic();
    const res = await this.send('GET', realm.href, {
      accept: 'application/json',
      ...(basic ? { authorization: basic } : {}),
    });
    if (!res.ok) throw new BackendUnavailableError(`registry token endpoint answered ${res.status}`);
    const json = (await res.json()) as { token?: string; access_token?: string; expires_in?: number };
    const token = json.token ?? json.access_token;
    if (!token) throw new BackendUnavailableError('registry token endpoint gave no token');
    // Tokens live `expires_in` seconds (60 by the spec's default); renew a little early.
    const ttl = Math.max(10, (json.expires_in ?? 60) - 10) * 1000;
    this.tokens.set(scope, { token, expiresAt: this.now() + ttl });
    return token;
  }

  private async send(method: string, url: string, headers: Record<string, string>): Promise<Response> {
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        redirect: 'manual',
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      const e = err as Error & { cause?: { code?: string } };
      throw new BackendUnavailableError(
        `registry ${method} ${new URL(url).host} failed: ${e.cause?.code ?? e.message}`,
        {
          cause: err,
        },
      );
    }
  }
}
