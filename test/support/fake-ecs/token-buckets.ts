// ECS API request throttling: one token bucket per account and Region per *category*, shared by every action of the
// category; an empty bucket answers HTTP 400 ThrottlingException "Rate exceeded". Categories, burst (bucket size) and
// sustained refill rates from "Request throttling for the Amazon ECS API"
// (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/request-throttling.html; ecs-facts §2.1). Each
// category can be reconfigured (a raised quota) or the whole throttling turned off.

/** Size and refill of one bucket. */
export interface BucketQuota {
  burst: number;
  refillPerSecond: number;
}

export type ThrottleCategory =
  | 'cluster-resource-modify'
  | 'cluster-resource-read'
  | 'task-definition-modify'
  | 'task-definition-read'
  | 'tag-modify'
  | 'tag-read'
  | 'cluster-modify'
  | 'cluster-read';

/** ECS's published defaults. */
export const ECS_QUOTAS: Readonly<Record<ThrottleCategory, BucketQuota>> = Object.freeze({
  // RunTask, StartTask, StopTask (and ExecuteCommand, attributes, container-instance writes).
  'cluster-resource-modify': { burst: 100, refillPerSecond: 40 },
  // DescribeTasks, ListTasks (and container-instance reads).
  'cluster-resource-read': { burst: 100, refillPerSecond: 20 },
  'task-definition-modify': { burst: 20, refillPerSecond: 1 },
  'task-definition-read': { burst: 50, refillPerSecond: 20 },
  'tag-modify': { burst: 20, refillPerSecond: 10 },
  'tag-read': { burst: 50, refillPerSecond: 20 },
  'cluster-modify': { burst: 20, refillPerSecond: 1 },
  'cluster-read': { burst: 50, refillPerSecond: 20 },
});

/** The category of each action the fake implements. */
export const CATEGORY_OF: Readonly<Record<string, ThrottleCategory>> = Object.freeze({
  RunTask: 'cluster-resource-modify',
  StartTask: 'cluster-resource-modify',
  StopTask: 'cluster-resource-modify',
  DescribeTasks: 'cluster-resource-read',
  ListTasks: 'cluster-resource-read',
  RegisterTaskDefinition: 'task-definition-modify',
  DeregisterTaskDefinition: 'task-definition-modify',
  DescribeTaskDefinition: 'task-definition-read',
  ListTaskDefinitions: 'task-definition-read',
  TagResource: 'tag-modify',
  UntagResource: 'tag-modify',
  ListTagsForResource: 'tag-read',
  CreateCluster: 'cluster-modify',
  DescribeClusters: 'cluster-read',
  ListClusters: 'cluster-read',
});

/** A continuous token bucket (starts full). */
class Bucket {
  private tokens: number;
  private at: number;

  constructor(
    readonly quota: BucketQuota,
    now: number,
  ) {
    this.tokens = quota.burst;
    this.at = now;
  }

  take(now: number): boolean {
    this.tokens = Math.min(this.quota.burst, this.tokens + ((now - this.at) / 1000) * this.quota.refillPerSecond);
    this.at = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/** The per-category buckets of one account and Region. */
export class EcsThrottle {
  private readonly buckets = new Map<ThrottleCategory, Bucket>();
  private readonly quotas: Record<ThrottleCategory, BucketQuota>;
  /** Calls refused per category. */
  readonly refused = new Map<ThrottleCategory, number>();

  constructor(
    overrides: Partial<Record<ThrottleCategory, BucketQuota>> = {},
    private readonly now: () => number = Date.now,
  ) {
    this.quotas = { ...ECS_QUOTAS, ...overrides };
  }

  /** True when `operation` may run now (it took a token); false when ECS would answer ThrottlingException. */
  admit(operation: string): boolean {
    const category = CATEGORY_OF[operation];
    if (!category) return true;
    let bucket = this.buckets.get(category);
    if (!bucket) {
      bucket = new Bucket(this.quotas[category], this.now());
      this.buckets.set(category, bucket);
    }
    if (bucket.take(this.now())) return true;
    this.refused.set(category, (this.refused.get(category) ?? 0) + 1);
    return false;
  }

  quota(category: ThrottleCategory): BucketQuota {
    return this.quotas[category];
  }
}
