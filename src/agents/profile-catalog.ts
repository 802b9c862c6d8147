import { declaredNeeds, launchPermits, type OperatorPolicy, type PrivilegeNeeds, privilegeRefusal } from './policy.js';
import {
  CLUSTER_PROFILE_HEAD,
  CLUSTER_PROFILE_TAIL,
  ELASTIC_PROFILE_CORE,
  type PropertyDef,
} from './profile-properties.js';
import {
  type ClusterProfile,
  type ElasticProfile,
  failIfAny,
  gateRefusal,
  type PropertyProblem,
  parseSharedCluster,
  parseSharedElastic,
  type RawProperties,
  readString,
  sharedElasticProblems,
  validateAgainst,
} from './profiles.js';

/**
 * What one backend contributes to the profiles (the port each backend's settings module implements): its rows of both
 * tables, the parsing and validation of its part, and the rules only it knows (ECS's linked fields and Fargate, the
 * operator policy's engines or clusters, the client a cluster needs). `C` and `E` are the profiles it parses: the
 * shared part with its own settings added.
 */
export interface BackendProfiles<C extends ClusterProfile = ClusterProfile, E extends ElasticProfile = ElasticProfile> {
  /** The `backend` property's value that selects it. */
  readonly backend: string;
  /** Its cluster-profile rows (shown after the shared head, before the shared tail). */
  readonly clusterProperties: readonly PropertyDef[];
  /** Its elastic-profile rows (shown after the shared ones). */
  readonly elasticProperties: readonly PropertyDef[];
  /** True when a cluster profile that names no backend is meant for this one (ECS: it names an ECS cluster). */
  claims(raw: RawProperties): boolean;
  /** validate-cluster-profile: rules across its own fields, for a profile that selects it. */
  clusterProblems(raw: RawProperties): PropertyProblem[];
  /** validate-elastic-agent-profile: rules across its fields (no cluster is known there, so every backend's apply). */
  elasticProblems(raw: RawProperties): PropertyProblem[];
  /** The cluster profile with its settings added (the properties are valid). */
  parseCluster(raw: RawProperties, shared: ClusterProfile): C;
  /** The elastic profile with its settings added (the properties are valid). */
  parseElastic(raw: RawProperties, shared: ElasticProfile): E;
  /** create-agent rules that need both profiles: the refusal, or undefined. */
  launchRefusal(cluster: C, profile: E): string | undefined;
  /** The operator policy's verdict on the engine or cluster the profile names, before anything is contacted. */
  policyRefusal(policy: Readonly<OperatorPolicy>, cluster: C): string | undefined;
  /** What its settings ask for beyond the Docker mode (a host network namespace). */
  needs(cluster: C): Pick<PrivilegeNeeds, 'hostNetwork'>;
  /** The client a cluster needs: clusters with equal keys share one backend instance. */
  clientKey(cluster: C): string;
}

/**
 * The two profile kinds, put together from the shared rows and every backend's: the one table per kind that GoCD's
 * metadata, the views and the validation come from, and the parsing of a profile into the shared part plus its
 * backend's settings. Built once by the composition root from the backends it has.
 */
export class ProfileCatalog {
  readonly clusterProperties: readonly PropertyDef[];
  readonly elasticProperties: readonly PropertyDef[];
  private readonly byName: ReadonlyMap<string, BackendProfiles>;

  /** `backends` in the order of their rows; the last one is the default for a profile no backend claims. */
  constructor(private readonly backends: readonly BackendProfiles[]) {
    if (backends.length === 0) throw new Error('a profile catalog needs at least one backend');
    this.byName = new Map(backends.map((b) => [b.backend, b]));
    const names = backends.map((b) => b.backend);
    this.clusterProperties = [
      ...CLUSTER_PROFILE_HEAD.map((d) => (d.key === 'backend' ? { ...d, options: names } : d)),
      ...backends.flatMap((b) => b.clusterProperties),
      ...CLUSTER_PROFILE_TAIL,
    ];
    this.elasticProperties = [...ELASTIC_PROFILE_CORE, ...backends.flatMap((b) => b.elasticProperties)];
  }

  /** The backend a cluster profile selects: its `backend`, else the first that claims it, else the default. */
  private backendOf(raw: RawProperties): BackendProfiles | undefined {
    const named = readString(raw, 'backend');
    if (named !== undefined) return this.byName.get(named);
    return this.backends.find((b) => b.claims(raw)) ?? this.backends.at(-1);
  }

  /** The settings module of a parsed profile's backend. */
  private of(cluster: ClusterProfile): BackendProfiles {
    const backend = this.byName.get(cluster.backend);
    if (!backend) throw new Error(`no backend '${cluster.backend}' in this catalog`);
    return backend;
  }

  /** validate-cluster-profile: field problems plus the selected backend's cross-field rules. */
  validateCluster(raw: RawProperties): PropertyProblem[] {
    const problems = validateAgainst(this.clusterProperties, raw);
    // An unknown `backend` is already named by the field check above.
    problems.push(...(this.backendOf(raw)?.clusterProblems(raw) ?? []));
    return problems;
  }

  /** validate-elastic-agent-profile: field problems plus every rule that needs no cluster. */
  validateElastic(raw: RawProperties): PropertyProblem[] {
    return [
      ...validateAgainst(this.elasticProperties, raw),
      ...sharedElasticProblems(raw),
      ...this.backends.flatMap((b) => b.elasticProblems(raw)),
    ];
  }

  /** Parses a cluster profile's properties; throws ValidationError naming every problem. */
  parseCluster(raw: RawProperties): ClusterProfile {
    failIfAny('cluster profile', this.validateCluster(raw));
    const backend = this.backendOf(raw)!;
    return backend.parseCluster(raw, { ...parseSharedCluster(raw), backend: backend.backend, where: '' });
  }

  /** Parses an elastic agent profile's properties for a cluster's backend; throws ValidationError naming every problem. */
  parseElastic(raw: RawProperties, cluster: Pick<ClusterProfile, 'backend'>): ElasticProfile {
    failIfAny('elastic agent profile', this.validateElastic(raw));
    return this.of(cluster as ClusterProfile).parseElastic(raw, parseSharedElastic(raw));
  }

  /**
   * Rules that need both profiles, checked at create-agent (profile validation never sees the cluster): the backend's
   * linked rules (ECS: Fargate, repository credentials) and each Docker mode's gate. Returns a refusal or undefined.
   */
  launchRefusal(cluster: ClusterProfile, profile: ElasticProfile): string | undefined {
    return this.of(cluster).launchRefusal(cluster, profile) ?? gateRefusal(cluster, profile);
  }

  /**
   * The operator policy's verdict, before anything is contacted or launched: whether this cluster profile may be used
   * at all (its engine, or its ECS cluster, region and accounts), then — given a profile — whether the policy allows
   * what the profile and the cluster's settings ask for. The refusal names the policy key, or undefined.
   */
  policyRefusal(
    policy: Readonly<OperatorPolicy>,
    cluster: ClusterProfile,
    profile?: ElasticProfile,
  ): string | undefined {
    const backend = this.of(cluster);
    const refusal = backend.policyRefusal(policy, cluster);
    if (refusal || !profile) return refusal;
    const needs = declaredNeeds(profile, backend.needs(cluster));
    return privilegeRefusal(launchPermits(policy, cluster), needs, 'this elastic profile');
  }

  /** The key of the client a cluster needs (one backend instance per key). */
  clientKey(cluster: ClusterProfile): string {
    return `${cluster.backend}|${this.of(cluster).clientKey(cluster)}`;
  }
}
