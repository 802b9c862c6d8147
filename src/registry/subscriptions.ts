import type { SubscriptionConfig } from '../config/config.schema.js';
import { type ImagePushed, imageName } from './image-pushed.js';

/** A subscription ready to match: image (exact or glob) and tag regex compiled once. */
export interface CompiledSubscription {
  image: string;
  /** True when `image` has glob characters (the poll expands them by listing the registry's repositories). */
  isGlob: boolean;
  matchesImage: (image: string) => boolean;
  /** Unanchored, like the GoCD docker poller's tag filter; undefined = any tag. */
  tags?: RegExp;
  pipelines: readonly string[];
}

/** Compiles an image glob: `*` and `?` stay within one path segment, `**` crosses segments. */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i++;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[\\^$.|+()[\]{}]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** The literal part of a glob before its first wildcard (`registry.example.com/backends/` for `…/backends/*`). */
export function globPrefix(glob: string): string {
  const i = glob.search(/[*?]/);
  return i < 0 ? glob : glob.slice(0, i);
}

/** Compiles one subscription from config (the loader already proved the tag regex compiles). */
export function compileSubscription(s: SubscriptionConfig): CompiledSubscription {
  const isGlob = /[*?]/.test(s.image);
  const re = isGlob ? globToRegExp(s.image) : undefined;
  return {
    image: s.image,
    isGlob,
    matchesImage: re ? (image) => re.test(image) : (image) => image === s.image,
    tags: s.tags === undefined || s.tags === null || s.tags === '' ? undefined : new RegExp(s.tags),
    pipelines: s.pipelines,
  };
}

/** True when the subscription's tag filter accepts `tag` (regex found anywhere in the tag, like the poller). */
export function tagMatches(sub: Pick<CompiledSubscription, 'tags'>, tag: string): boolean {
  return sub.tags === undefined || sub.tags.test(tag);
}

/** Every configured subscription, answering "which pipelines does this push schedule?". */
export class SubscriptionTable {
  readonly subscriptions: readonly CompiledSubscription[];

  constructor(config: readonly SubscriptionConfig[]) {
    this.subscriptions = config.map(compileSubscription);
  }

  /** The pipelines to schedule for a push, each once, in config order. */
  pipelinesFor(push: Pick<ImagePushed, 'host' | 'repository' | 'tag'>): string[] {
    const image = imageName(push);
    const out = new Set<string>();
    for (const s of this.subscriptions) {
      if (s.matchesImage(image) && tagMatches(s, push.tag)) for (const p of s.pipelines) out.add(p);
    }
    return [...out];
  }
}
