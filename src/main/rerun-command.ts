import { errorWithCauses } from '../errors.js';
import { loadCommandConfig } from './command-config.js';

/** `<image>:<tag>[@<digest>]` split (the image may carry a registry port: `host:5000/repo:tag`). */
export function parseImageRef(ref: string): { image: string; tag: string; digest?: string } | undefined {
  const at = ref.indexOf('@');
  const named = at < 0 ? ref : ref.slice(0, at);
  const digest = at < 0 ? undefined : ref.slice(at + 1);
  const colon = named.lastIndexOf(':');
  if (colon <= named.lastIndexOf('/') || colon === named.length - 1) return undefined;
  return { image: named.slice(0, colon), tag: named.slice(colon + 1), ...(digest ? { digest } : {}) };
}

/**
 * `gocd-agent-scaler rerun <registry> <image>:<tag>[@<digest>] <pipeline> [--url <service>]`: asks the running service
 * (`POST /triggers/rerun`, authenticated with `gocd.apiToken` from the config) to run a trigger again that GoCD
 * refused. Exit 0 when it was scheduled, 1 when it was not (the answer says why), 2 for usage or config problems.
 */
export async function rerun(
  args: string[],
  out: (s: string) => void,
  err: (s: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const urlAt = args.indexOf('--url');
  const url = urlAt >= 0 ? args[urlAt + 1] : undefined;
  const positional = urlAt >= 0 ? [...args.slice(0, urlAt), ...args.slice(urlAt + 2)] : args;
  const [registry, ref, pipeline] = positional;
  const parsed = ref ? parseImageRef(ref) : undefined;
  if (!registry || !parsed || !pipeline || positional.length !== 3 || (urlAt >= 0 && !url)) {
    err('usage: gocd-agent-scaler rerun <registry> <image>:<tag>[@<digest>] <pipeline> [--url <service url>]\n');
    return 2;
  }
  const loaded = await loadCommandConfig(env, err);
  if (!loaded) return 2;
  const { config } = loaded;
  const token = config.gocd.apiToken;
  if (!token) {
    err('gocd.apiToken is not set in the config ($SCALER_CONFIG): re-runs are authenticated with it\n');
    return 2;
  }
  const host = config.server.host === '0.0.0.0' || config.server.host === '::' ? '127.0.0.1' : config.server.host;
  const base = (url ?? `http://${host.includes(':') ? `[${host}]` : host}:${config.server.port}`).replace(/\/+$/, '');
  let res: Response;
  try {
    res = await fetch(`${base}/triggers/rerun`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ registry, ...parsed, pipeline }),
      signal: AbortSignal.timeout(60_000),
    });
  } catch (e) {
    err(`cannot reach the service at ${base}: ${errorWithCauses(e)} (give its address with --url)\n`);
    return 1;
  }
  const answer = (await res.json().catch(() => ({}))) as { outcome?: string; message?: string; status?: number };
  if (res.status !== 200) {
    err(`not re-run (HTTP ${res.status}): ${answer.message ?? 'no message'}\n`);
    return res.status === 400 ? 2 : 1;
  }
  out(
    `${pipeline}: ${answer.outcome}${answer.status ? ` (GoCD ${answer.status})` : ''}${answer.message ? `: ${answer.message}` : ''}\n`,
  );
  return answer.outcome === 'scheduled' ? 0 : 1;
}
