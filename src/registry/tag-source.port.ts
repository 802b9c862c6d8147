/** What a registry says a tag points at. */
export interface ResolvedTag {
  digest: string;
  mediaType?: string;
}

/** Reads tags and digests from one registry (its HTTP API v2, or ECR's API). */
export interface TagSource {
  /** The digest `repository:tag` points at now, or undefined when the tag does not exist. */
  resolve(repository: string, tag: string): Promise<ResolvedTag | undefined>;
  /** Tags accepted by `filter` with their digests, at most `max` of them (`truncated` says some were left out). */
  listTagDigests(
    repository: string,
    filter: (tag: string) => boolean,
    max: number,
  ): Promise<{ tags: Map<string, string>; truncated: boolean }>;
  /** Every repository of the registry (for glob subscriptions), when the registry can list them. */
  listRepositories?(): Promise<{ repositories: string[]; truncated: boolean }>;
}
