import { describe, expect, it } from 'vitest';
import {
  capabilityNames,
  defaultClusterId,
  failIfAny,
  isLoopbackUrl,
  parseEnvLines,
  readBool,
  readInt,
  readList,
  readString,
  stableJson,
  unreachableServerUrlProblem,
  validateAgainst,
} from '../../src/agents/profiles.js';
import { profileHash } from '../../src/backends/ecs/task-definition.js';
import { ValidationError } from '../../src/errors.js';
import {
  ecsCluster,
  ecsProfile,
  launchRefusal,
  parseClusterProfile,
  parseElasticProfile,
  validateClusterProperties,
  validateElasticProperties,
} from '../support/profiles.js';

// Every value rule of the profiles, from both sides: the limit itself is allowed, one past it is refused with a
// message naming the key; every Docker mode is shown allowed where its gate is open.

const cluster = { go_server_url: 'https://gocd.example.com/go' };
const ecs = { ...cluster, cluster: 'ci' };
const image = { image: 'gocd/agent:v1' };
const problemsOf = (raw: Record<string, unknown>) => validateClusterProperties({ ...cluster, ...raw });
const elasticProblemsOf = (raw: Record<string, unknown>) => validateElasticProperties({ ...image, ...raw });

describe('whole-number properties', () => {
  it.each([
    ['max_agents', '1', '10000'],
    ['registration_timeout_minutes', '1', '1440'],
    ['idle_timeout_minutes', '0', '1440'],
  ])('allows %s at its lower limit %s and its upper limit %s', (key, low, high) => {
    expect(problemsOf({ [key]: low })).toEqual([]);
    expect(problemsOf({ [key]: high })).toEqual([]);
  });

  it.each([
    ['max_agents', '0', 'max_agents must be at least 1'],
    ['max_agents', '10001', 'max_agents must be at most 10000'],
    ['registration_timeout_minutes', '0', 'registration_timeout_minutes must be at least 1'],
    ['registration_timeout_minutes', '1441', 'registration_timeout_minutes must be at most 1440'],
    ['idle_timeout_minutes', '1441', 'idle_timeout_minutes must be at most 1440'],
  ])('refuses %s = %s', (key, value, message) => {
    expect(problemsOf({ [key]: value })).toEqual([{ key, message }]);
  });

  it.each([
    ['cpu', '128', '196608'],
    ['memory', '128', '983040'],
  ])('allows %s from %s to %s', (key, low, high) => {
    expect(elasticProblemsOf({ [key]: low })).toEqual([]);
    expect(elasticProblemsOf({ [key]: high })).toEqual([]);
  });

  it.each([
    ['cpu', '127', 'cpu must be at least 128'],
    ['cpu', '196609', 'cpu must be at most 196608'],
    ['memory', '983041', 'memory must be at most 983040'],
  ])('refuses %s = %s', (key, value, message) => {
    expect(elasticProblemsOf({ [key]: value })).toEqual([{ key, message }]);
  });

  it.each(['abc5', '5abc', '-1', '1.5', '1e3', '0x10'])('refuses %s as a whole number', (value) => {
    expect(problemsOf({ max_agents: value })).toEqual([
      { key: 'max_agents', message: `max_agents must be a whole number, got '${value}'` },
    ]);
  });

  it('reads every limit the profile sets, not only the defaults', () => {
    expect(
      parseClusterProfile({
        ...cluster,
        max_agents: '3',
        registration_timeout_minutes: '25',
        idle_timeout_minutes: ' 7 ',
      }),
    ).toMatchObject({ maxAgents: 3, registrationTimeoutMinutes: 25, idleTimeoutMinutes: 7 });
    expect(parseElasticProfile({ ...image, cpu: '512', memory: '1024' })).toMatchObject({ cpu: 512, memory: 1024 });
  });
});

describe('go_server_url, booleans, enums and cluster ids', () => {
  it.each(['http://gocd.internal:8153/go', 'https://gocd.example.com/go'])('allows the server URL %s', (url) => {
    expect(problemsOf({ go_server_url: url })).toEqual([]);
  });

  it.each(['ftp://gocd/go', 'gocd.example.com/go', 'http://', 'http:// gocd', ' xhttps://gocd'])(
    'refuses the server URL %s',
    (url) => {
      expect(problemsOf({ go_server_url: url })).toEqual([
        { key: 'go_server_url', message: 'go_server_url must be an http(s) URL' },
      ]);
    },
  );

  it('allows true and false in any case, refuses anything else', () => {
    expect(problemsOf({ allow_privileged: 'TRUE', allow_socket_mount: 'False' })).toEqual([]);
    expect(problemsOf({ allow_privileged: 'yes' })).toEqual([
      { key: 'allow_privileged', message: "allow_privileged must be true or false, got 'yes'" },
    ]);
    expect(problemsOf({ allow_privileged: 'truex' })).toHaveLength(1);
    expect(problemsOf({ allow_privileged: 'xfalse' })).toHaveLength(1);
  });

  it('allows a cluster id of 1 to 18 of A-Z a-z 0-9 _ -, and nothing longer or else', () => {
    expect(problemsOf({ cluster_id: 'a' })).toEqual([]);
    expect(problemsOf({ cluster_id: 'Ab_-9'.padEnd(18, 'x') })).toEqual([]);
    const message = 'cluster_id must be 1 to 18 of A-Z a-z 0-9 _ -';
    expect(problemsOf({ cluster_id: 'x'.repeat(19) })).toEqual([{ key: 'cluster_id', message }]);
    expect(problemsOf({ cluster_id: 'a.b' })).toEqual([{ key: 'cluster_id', message }]);
    expect(problemsOf({ cluster_id: '.ab' })).toEqual([{ key: 'cluster_id', message }]);
  });

  it('says a required key is blank and lists the known keys for an unknown one', () => {
    expect(validateClusterProperties({})).toEqual([
      { key: 'go_server_url', message: 'go_server_url must not be blank' },
    ]);
    const [unknown] = problemsOf({ Cluster: 'x' });
    expect(unknown).toMatchObject({ key: 'Cluster' });
    expect(unknown!.message).toMatch(/^unknown property 'Cluster'; known: go_server_url, backend, cluster_id, /);
  });
});

describe('environment lines', () => {
  it('skips blank lines and # comments, keeps = in values, reads CRLF', () => {
    expect(parseEnvLines('# a comment\r\n\r\n  \nA=1\r\nB=x=y\n  # indented comment\nC=')).toEqual({
      env: { A: '1', B: 'x=y', C: '' },
      problems: [],
    });
  });

  it('trims a line and the key, not the value inside', () => {
    expect(parseEnvLines('  KEY = value  ').env).toEqual({ KEY: ' value' });
  });

  it('names each bad line by its number', () => {
    expect(parseEnvLines('A=1\n=x\n1A=2\nNO_EQUALS\nB-C=1').problems).toEqual([
      'line 2 is not KEY=VALUE with a valid variable name',
      'line 3 is not KEY=VALUE with a valid variable name',
      'line 4 is not KEY=VALUE with a valid variable name',
      'line 5 is not KEY=VALUE with a valid variable name',
    ]);
  });

  it('refuses the registration variables GO_EA_*, which are set per job', () => {
    expect(parseEnvLines('GO_EA_SERVER_URL=https://evil/go\nGO_EAGER=1')).toEqual({
      env: { GO_EAGER: '1' },
      problems: ['line 1: GO_EA_SERVER_URL is set by gocd-agent-scaler for each job; remove it'],
    });
  });

  it('has no lines and no problems for an empty text', () => {
    expect(parseEnvLines(undefined)).toEqual({ env: {}, problems: [] });
    expect(parseEnvLines('')).toEqual({ env: {}, problems: [] });
  });

  it('reports bad environment lines of a profile under its environment key', () => {
    expect(problemsOf({ environment: 'A=1\nbad line' })).toEqual([
      { key: 'environment', message: 'environment: line 2 is not KEY=VALUE with a valid variable name' },
    ]);
    expect(elasticProblemsOf({ environment: '# only a comment\n\nA=1' })).toEqual([]);
  });

  it('gives the cluster profile environment to every agent', () => {
    expect(parseClusterProfile({ ...cluster, environment: 'A=1\n# c\nB=2' }).environment).toEqual({ A: '1', B: '2' });
  });
});

describe('reading property values', () => {
  it('treats absent, null and blank as unset, and trims', () => {
    expect(readString({ a: null }, 'a')).toBeUndefined();
    expect(readString({}, 'a')).toBeUndefined();
    expect(readString({ a: '  ' }, 'a')).toBeUndefined();
    expect(readString({ a: ' x ' }, 'a')).toBe('x');
    expect(readString({ a: 5 }, 'a')).toBe('5');
  });

  it('reads a boolean as true only for true (any case), false by default', () => {
    expect(readBool({ a: 'TRUE' }, 'a')).toBe(true);
    expect(readBool({ a: 'false' }, 'a')).toBe(false);
    expect(readBool({}, 'a')).toBe(false);
    expect(readBool({ a: 'yes' }, 'a')).toBe(false);
  });

  it('reads a number or the fallback', () => {
    expect(readInt({ a: '12' }, 'a', 3)).toBe(12);
    expect(readInt({ a: ' ' }, 'a', 3)).toBe(3);
  });

  it('splits lists on commas and blanks, dropping empty items', () => {
    expect(readList({ a: 'x, y  z,,w\nv' }, 'a')).toEqual(['x', 'y', 'z', 'w', 'v']);
    expect(readList({}, 'a')).toEqual([]);
  });

  it('drops a CAP_ prefix from capability names, only at the start', () => {
    expect(capabilityNames({ capabilities: 'CAP_SYS_ADMIN NET_ADMIN XCAP_Y' })).toEqual([
      'SYS_ADMIN',
      'NET_ADMIN',
      'XCAP_Y',
    ]);
  });

  it('derives the default cluster id from the non-blank properties only, in any key order', () => {
    const id = defaultClusterId({ b: '2', a: '1' });
    expect(defaultClusterId({ a: '1', b: '2', c: ' ', d: null })).toBe(id);
    expect(defaultClusterId({ a: '1', b: '3' })).not.toBe(id);
    expect(defaultClusterId({ a: '1' })).not.toBe(id);
    // Keys and values are kept apart: a=12 is not a1=2.
    expect(defaultClusterId({ a: '12' })).not.toBe(defaultClusterId({ a1: '2' }));
  });

  it('writes JSON with sorted keys, without undefined fields, arrays in order', () => {
    expect(stableJson({ b: [2, { d: 1, c: undefined, a: 'x' }], a: null })).toBe('{"a":null,"b":[2,{"a":"x","d":1}]}');
    expect(stableJson([1, 'a'])).toBe('[1,"a"]');
    expect(stableJson('s')).toBe('"s"');
  });
});

describe('Docker modes and their gates', () => {
  it('allows privileged and sidecar with capabilities, and refuses capabilities for none and socket', () => {
    for (const mode of ['privileged', 'sidecar']) {
      expect(elasticProblemsOf({ docker_mode: mode, capabilities: 'SYS_ADMIN' })).toEqual([]);
    }
    for (const mode of ['none', 'socket', undefined]) {
      expect(elasticProblemsOf({ docker_mode: mode, capabilities: 'SYS_ADMIN' })).toEqual([
        { key: 'capabilities', message: 'capabilities apply only to docker_mode privileged or sidecar' },
      ]);
    }
  });

  it('allows dind_image with sidecar only', () => {
    expect(elasticProblemsOf({ docker_mode: 'sidecar', dind_image: 'docker:27-dind' })).toEqual([]);
    for (const mode of ['privileged', 'socket', 'none']) {
      expect(elasticProblemsOf({ docker_mode: mode, dind_image: 'docker:27-dind' })).toEqual([
        { key: 'dind_image', message: 'dind_image applies only to docker_mode sidecar' },
      ]);
    }
    expect(parseElasticProfile({ ...image, docker_mode: 'sidecar', dind_image: 'docker:27-dind' }).dindImage).toBe(
      'docker:27-dind',
    );
  });

  it('allows privileged on an ECS EC2 cluster that allows it, and on the Docker backend', () => {
    const privileged = parseElasticProfile({ ...image, docker_mode: 'privileged' });
    expect(launchRefusal(parseClusterProfile({ ...ecs, allow_privileged: 'true' }), privileged)).toBeUndefined();
    expect(launchRefusal(parseClusterProfile({ ...cluster, allow_privileged: 'true' }), privileged)).toBeUndefined();
  });

  it('needs only allow_privileged for privileged and sidecar, only allow_socket_mount for socket', () => {
    const onlyPrivileged = parseClusterProfile({ ...ecs, allow_privileged: 'true' });
    const onlySocket = parseClusterProfile({ ...ecs, allow_socket_mount: 'true' });
    for (const mode of ['privileged', 'sidecar']) {
      const p = parseElasticProfile({ ...image, docker_mode: mode });
      expect(launchRefusal(onlyPrivileged, p)).toBeUndefined();
      expect(launchRefusal(onlySocket, p)).toBe(
        `docker_mode ${mode} needs allow_privileged=true on the cluster profile`,
      );
    }
    const socket = parseElasticProfile({ ...image, docker_mode: 'socket' });
    expect(launchRefusal(onlySocket, socket)).toBeUndefined();
    expect(launchRefusal(onlyPrivileged, socket)).toBe(
      'docker_mode socket needs allow_socket_mount=true on the cluster profile',
    );
  });

  it('needs no gate for docker_mode none', () => {
    expect(launchRefusal(parseClusterProfile(ecs), parseElasticProfile(image))).toBeUndefined();
  });
});

describe('ECS values', () => {
  it.each([
    'my-family',
    'my_family:12',
    'arn:aws:ecs:eu-west-1:123456789012:task-definition/my-family:3',
    'my-gocd-agent-x',
  ])('allows the task definition %s', (value) => {
    expect(elasticProblemsOf({ task_definition: value })).toEqual([]);
  });

  it.each([
    ['a name with a space', 'my family'],
    ['a revision that is not a number', 'my-family:latest'],
    ['an ARN of another service', 'arn:aws:iam::123456789012:role/x'],
    ['a name longer than 255', 'x'.repeat(256)],
  ])('refuses a task definition that is %s', (_name, value) => {
    expect(elasticProblemsOf({ task_definition: value })).toEqual([
      { key: 'task_definition', message: 'task_definition must be family, family:revision or a task-definition ARN' },
    ]);
  });

  it.each(['gocd-agent-0123456789abcdef', 'arn:aws:ecs:eu-west-1:123456789012:task-definition/gocd-agent-x:1'])(
    "refuses the service's own family %s",
    (value) => {
      expect(elasticProblemsOf({ task_definition: value })).toEqual([
        {
          key: 'task_definition',
          message: 'task_definition must name a family of your own, not one gocd-agent-scaler registers (gocd-agent-*)',
        },
      ]);
    },
  );

  it('allows ARNs in the role rows and refuses anything else, naming the key', () => {
    expect(problemsOf({ ...ecs, execution_role_arn: 'arn:aws:iam::123456789012:role/exec' })).toEqual([]);
    expect(problemsOf({ ...ecs, assume_role_arn: 'arn:aws-cn:iam::123456789012:role/x' })).toEqual([]);
    expect(problemsOf({ ...ecs, execution_role_arn: 'role/exec' })).toEqual([
      { key: 'execution_role_arn', message: 'execution_role_arn must be an ARN (arn:aws:...)' },
    ]);
    expect(problemsOf({ ...ecs, execution_role_arn: 'xarn:aws:iam::123456789012:role/exec' })).toHaveLength(1);
    expect(problemsOf({ ...ecs, execution_role_arn: 'arn:aws:iam::123456789012:' })).toHaveLength(1);
  });

  it('puts awsvpc networking into the profile hash (subnets change the task definition)', () => {
    const p = ecsProfile(image);
    expect(profileHash(ecsCluster({ ...ecs, subnets: 'subnet-1' }), p)).not.toBe(profileHash(ecsCluster(ecs), p));
    // Which subnets does not matter: they are a RunTask parameter, not part of the task definition.
    expect(profileHash(ecsCluster({ ...ecs, subnets: 'subnet-1' }), p)).toBe(
      profileHash(ecsCluster({ ...ecs, subnets: 'subnet-2' }), p),
    );
  });
});

describe('profile values: messages and defaults', () => {
  it('names each bad environment line, separated by semicolons', () => {
    const problems = validateAgainst([{ key: 'environment', label: 'Env', help: '', kind: 'env' }], {
      environment: 'no equals sign\nA=1\n1BAD=x',
    });
    expect(problems).toEqual([
      {
        key: 'environment',
        message:
          'environment: line 1 is not KEY=VALUE with a valid variable name; line 3 is not KEY=VALUE with a valid variable name',
      },
    ]);
    expect(parseEnvLines('=value').problems).toEqual(['line 1 is not KEY=VALUE with a valid variable name']);
  });

  it('does not take a URL that cannot be parsed for a loopback one (its format is reported instead)', () => {
    expect(isLoopbackUrl('http://')).toBe(false);
    expect(isLoopbackUrl('http://[::1')).toBe(false);
    expect(unreachableServerUrlProblem({ go_server_url: 'http://' }, 'on ECS')).toEqual([]);
  });

  it('throws a ValidationError whose details name each property and its problem', () => {
    let thrown: unknown;
    try {
      failIfAny('elastic profile', [
        { key: 'image', message: 'image must not be blank' },
        { key: 'cpu', message: 'cpu must be a whole number' },
      ]);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).message).toBe(
      'invalid elastic profile: image must not be blank; cpu must be a whole number',
    );
    expect((thrown as ValidationError).details).toEqual([
      { path: 'image', message: 'image must not be blank' },
      { path: 'cpu', message: 'cpu must be a whole number' },
    ]);
  });

  it('skips blank and whitespace-only lines of a command', () => {
    const profile = parseElasticProfile({ image: 'agent:1', command: 'echo a\n   \n\t\necho b\r\n' });
    expect(profile.command).toEqual(['echo a', 'echo b']);
  });

  it('reads warm_pool_idle_minutes, and defaults it to 60', () => {
    expect(parseElasticProfile({ image: 'agent:1', warm_pool_idle_minutes: '15' }).warmPool.idleMinutes).toBe(15);
    expect(parseElasticProfile({ image: 'agent:1' }).warmPool.idleMinutes).toBe(60);
  });
});
