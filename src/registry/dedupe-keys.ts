/**
 * Store keys of registry triggers. Each lives in the namespace of its registry entry (`<registry>|…`), so a store
 * that bounds namespaces (the memory store) keeps one registry's traffic from touching another's keys.
 */
export const dedupeKeys = {
  /** One delivery (or, for senders without an id, one pushed (image, tag, digest)). */
  delivery(registry: string, identity: string): string {
    return `${registry}|dlv|${identity}`;
  },
  /** One (pipeline, image, tag, digest) trigger; `ref` is the digest, or what stands in for it. */
  trigger(registry: string, pipeline: string, image: string, tag: string, ref: string): string {
    return `${registry}|trg|${pipeline}|${image}:${tag}@${ref}`;
  },
  /** The last digest seen for `image:tag` (the backstop poll's baseline). */
  seen(registry: string, image: string, tag: string): string {
    return `${registry}|seen|${image}:${tag}`;
  },
};
