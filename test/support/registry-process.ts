import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** A free TCP port on 127.0.0.1 (bound, read, released). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The notification endpoint's counters, from the registry's debug server (`/debug/vars`). */
export interface EndpointMetrics {
  Pending: number;
  Events: number;
  Successes: number;
  Failures: number;
  Errors: number;
}

export interface RegistryProcessOptions {
  binary: string;
  port: number;
  /** Notification endpoint URL and the bearer token it is sent with; omitted = no notifications. */
  notify?: { url: string; bearer: string };
}

/** A Debian `docker-registry` (distribution 2.8) process on loopback, filesystem storage in a temp dir. */
export class RegistryProcess {
  readonly url: string;
  readonly host: string;
  private child: ChildProcess | undefined;
  private readonly dir: string;
  private debugPort = 0;
  readonly output: string[] = [];

  constructor(private readonly options: RegistryProcessOptions) {
    this.host = `127.0.0.1:${options.port}`;
    this.url = `http://${this.host}`;
    this.dir = mkdtempSync(join(tmpdir(), 'scaler-registry-'));
  }

  async start(): Promise<this> {
    this.debugPort = await freePort();
    const { notify } = this.options;
    // Short retry settings keep the "service down" case quick; a real deployment uses threshold ~5, backoff 5-10 s.
    const notifications = notify
      ? `notifications:
  endpoints:
    - name: scaler
      url: ${notify.url}
      headers:
        Authorization: [Bearer ${notify.bearer}]
      timeout: 2s
      threshold: 3
      backoff: 300ms
`
      : '';
    const config = `version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: ${join(this.dir, 'data')}
  delete:
    enabled: true
http:
  addr: ${this.host}
  debug:
    addr: 127.0.0.1:${this.debugPort}
${notifications}`;
    const file = join(this.dir, 'config.yml');
    writeFileSync(file, config);
    this.child = spawn(this.options.binary, ['serve', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => this.output.push(String(d)));
    this.child.stderr?.on('data', (d: Buffer) => this.output.push(String(d)));
    for (let i = 0; i < 100; i++) {
      try {
        if ((await fetch(`${this.url}/v2/`)).status === 200) return this;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not start:\n${this.output.join('')}`);
  }

  /** The notification endpoint's counters. */
  async endpointMetrics(): Promise<EndpointMetrics> {
    const vars = (await (await fetch(`http://127.0.0.1:${this.debugPort}/debug/vars`)).json()) as {
      registry: { notifications: { endpoints: { Metrics: EndpointMetrics }[] } };
    };
    return vars.registry.notifications.endpoints[0]!.Metrics;
  }

  /** Waits (bounded) until `check` holds for the endpoint's counters. */
  async waitForMetrics(check: (m: EndpointMetrics) => boolean, timeoutMs = 15_000): Promise<EndpointMetrics> {
    const deadline = Date.now() + timeoutMs;
    let last = await this.endpointMetrics();
    while (!check(last)) {
      if (Date.now() > deadline)
        throw new Error(`registry notifications: condition not met, last ${JSON.stringify(last)}`);
      await new Promise((r) => setTimeout(r, 50));
      last = await this.endpointMetrics();
    }
    return last;
  }

  /** Waits until every queued notification was delivered. */
  drained(timeoutMs?: number): Promise<EndpointMetrics> {
    return this.waitForMetrics((m) => m.Pending === 0, timeoutMs);
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A descriptor of pushed content. */
export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

/** Pushes through the registry HTTP API v2 (no Docker): blob uploads and manifest PUTs. */
export class RegistryPusher {
  constructor(private readonly url: string) {}

  /** POST an upload session, then PUT the bytes with their digest (monolithic upload). */
  async blob(repository: string, bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const digest = sha256(bytes);
    const start = await fetch(`${this.url}/v2/${repository}/blobs/uploads/`, { method: 'POST' });
    if (start.status !== 202) throw new Error(`upload start ${start.status}`);
    const location = new URL(start.headers.get('location')!, this.url);
    location.searchParams.set('digest', digest);
    const put = await fetch(location, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    if (put.status !== 201) throw new Error(`upload ${put.status}: ${await put.text()}`);
    return { mediaType, digest, size: bytes.length };
  }

  /** PUT a manifest by tag or digest; answers the digest the registry computed. */
  async manifest(repository: string, reference: string, mediaType: string, manifest: object): Promise<Descriptor> {
    const bytes = Buffer.from(JSON.stringify(manifest));
    const res = await fetch(`${this.url}/v2/${repository}/manifests/${reference}`, {
      method: 'PUT',
      body: bytes,
      headers: { 'content-type': mediaType },
    });
    if (res.status !== 201) throw new Error(`manifest PUT ${res.status}: ${await res.text()}`);
    const digest = res.headers.get('docker-content-digest')!;
    if (digest !== sha256(bytes)) throw new Error('registry digest differs from the content digest');
    return { mediaType, digest, size: bytes.length };
  }

  /** An OCI image manifest for one platform (its layer and config blobs pushed first); not tagged. */
  async image(repository: string, arch: string, seed: string): Promise<{ manifest: object; descriptor: Descriptor }> {
    const content = Buffer.from(`layer ${seed} ${arch}\n`);
    const layer = await this.blob(repository, gzipSync(content), 'application/vnd.oci.image.layer.v1.tar+gzip');
    const config = await this.blob(
      repository,
      Buffer.from(
        JSON.stringify({ architecture: arch, os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256(content)] } }),
      ),
      'application/vnd.oci.image.config.v1+json',
    );
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config,
      layers: [layer],
    };
    const bytes = Buffer.from(JSON.stringify(manifest));
    return { manifest, descriptor: { mediaType: manifest.mediaType, digest: sha256(bytes), size: bytes.length } };
  }

  /** A single-platform image pushed under `tag`. */
  async singlePlatform(repository: string, tag: string, seed: string): Promise<Descriptor> {
    const { manifest } = await this.image(repository, 'amd64', seed);
    return this.manifest(repository, tag, 'application/vnd.oci.image.manifest.v1+json', manifest);
  }

  /** A two-platform OCI index: platform manifests by digest (untagged), then the index by tag, like buildx does. */
  async twoPlatformIndex(
    repository: string,
    tag: string,
    seed: string,
  ): Promise<{ index: object; descriptor: Descriptor }> {
    const platforms: object[] = [];
    for (const arch of ['amd64', 'arm64']) {
      const { manifest, descriptor } = await this.image(repository, arch, seed);
      await this.manifest(repository, descriptor.digest, descriptor.mediaType, manifest);
      platforms.push({ ...descriptor, platform: { architecture: arch, os: 'linux' } });
    }
    const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: platforms };
    return { index, descriptor: await this.manifest(repository, tag, index.mediaType, index) };
  }
}
