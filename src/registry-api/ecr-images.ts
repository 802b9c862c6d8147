import {
  DescribeImagesCommand,
  type ECRClient,
  ImageNotFoundException,
  paginateDescribeImages,
  paginateDescribeRepositories,
  RepositoryNotFoundException,
} from '@aws-sdk/client-ecr';
import { BackendUnavailableError } from '../errors.js';
import type { ResolvedTag, TagSource } from '../registry/tag-source.port.js';

/**
 * Tags and digests of ECR repositories through DescribeImages (one call per tag to resolve; paged listing for the
 * backstop poll). The client is built by the composition root with the entry's region.
 */
export class EcrImages implements TagSource {
  constructor(
    private readonly client: ECRClient,
    /** The account id (`registryId`) of the configured host; undefined = the caller's own registry. */
    private readonly registryId?: string,
  ) {}

  async resolve(repository: string, tag: string): Promise<ResolvedTag | undefined> {
    try {
      const out = await this.client.send(
        new DescribeImagesCommand({
          repositoryName: repository,
          registryId: this.registryId,
          imageIds: [{ imageTag: tag }],
        }),
      );
      const image = out.imageDetails?.[0];
      if (!image?.imageDigest) return undefined;
      return {
        digest: image.imageDigest,
        ...(image.imageManifestMediaType ? { mediaType: image.imageManifestMediaType } : {}),
      };
    } catch (err) {
      if (err instanceof ImageNotFoundException || err instanceof RepositoryNotFoundException) return undefined;
      throw new BackendUnavailableError(`ECR DescribeImages ${repository}:${tag} failed: ${(err as Error).name}`, {
        cause: err,
      });
    }
  }

  async listTagDigests(
    repository: string,
    filter: (tag: string) => boolean,
    max: number,
  ): Promise<{ tags: Map<string, string>; truncated: boolean }> {
    const tags = new Map<string, string>();
    let truncated = false;
    try {
      const pages = paginateDescribeImages(
        { client: this.client, pageSize: 1000 },
        { repositoryName: repository, registryId: this.registryId, filter: { tagStatus: 'TAGGED' } },
      );
      let pageCount = 0;
      for await (const page of pages) {
        for (const image of page.imageDetails ?? []) {
          for (const tag of image.imageTags ?? []) {
            if (!image.imageDigest || !filter(tag)) continue;
            if (tags.size >= max) truncated = true;
            else tags.set(tag, image.imageDigest);
          }
        }
        // Bounded: 50 pages of 1,000 images is far beyond any repository a pipeline follows.
        if (++pageCount >= 50) {
          truncated = true;
          break;
        }
      }
    } catch (err) {
      if (err instanceof RepositoryNotFoundException) return { tags, truncated: false };
      throw new BackendUnavailableError(`ECR DescribeImages ${repository} failed: ${(err as Error).name}`, {
        cause: err,
      });
    }
    return { tags, truncated };
  }

  /** Every repository of the registry (DescribeRepositories, paged; bounded like the tag listing). */
  async listRepositories(): Promise<{ repositories: string[]; truncated: boolean }> {
    const repositories: string[] = [];
    let pageCount = 0;
    try {
      const pages = paginateDescribeRepositories(
        { client: this.client, pageSize: 1000 },
        { registryId: this.registryId },
      );
      for await (const page of pages) {
        for (const r of page.repositories ?? []) if (r.repositoryName) repositories.push(r.repositoryName);
        if (++pageCount >= 50) return { repositories, truncated: true };
      }
    } catch (err) {
      throw new BackendUnavailableError(`ECR DescribeRepositories failed: ${(err as Error).name}`, { cause: err });
    }
    return { repositories, truncated: false };
  }
}
