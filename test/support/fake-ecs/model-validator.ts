import { EcsError, invalidParameter, serialization } from './ecs-errors.js';
import type { ModelShape, ServiceModel } from './service-model.js';

// Validates a request body against its input shape in the ECS service model (botocore ecs/2014-11-13), the way an
// AWS JSON service does before the operation runs:
// - a value of the wrong JSON type cannot be bound to the shape: SerializationException (awsJson1_1 protocol);
// - unknown members are refused as botocore's own ParamValidator refuses them ("Unknown parameter in …",
//   botocore/validate.py) — the SDK never sends one, so only a hand-written request can;
// - missing required members and violated constraints (enum, length/size `min`/`max`, numeric range, `pattern`) are
//   InvalidParameterException, with AWS's standard validation message ("1 validation error detected: Value … at
//   '…' failed to satisfy constraint: Member must …").
// Smithy semantics: `pattern` is an ECMA 262 regex and is NOT implicitly anchored; string length counts Unicode code
// points; JSON null counts as absent; timestamps are epoch seconds (numbers) in awsJson1_1.

type Problem = { path: string; message: string };

/** Coral-style path segment of a list member (1-based, `.member.`). */
const memberPath = (path: string, i: number) => `${path}.${i + 1}.member`;

function describe(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

function regexOf(pattern: string): RegExp | undefined {
  try {
    return new RegExp(pattern, 'u');
  } catch {
    return undefined;
  }
}

/** The JSON type each other scalar shape binds from (awsJson1_1: timestamps are epoch seconds, blobs base64). */
const SCALARS: Record<string, { is: (v: unknown) => boolean; name: string }> = {
  double: { is: (v) => typeof v === 'number', name: 'a Double' },
  float: { is: (v) => typeof v === 'number', name: 'a Float' },
  boolean: { is: (v) => typeof v === 'boolean', name: 'a Boolean' },
  timestamp: { is: (v) => typeof v === 'number', name: 'a Timestamp' },
  blob: { is: (v) => typeof v === 'string', name: 'a Blob' },
};

class Validator {
  readonly problems: Problem[] = [];
  private readonly patterns = new Map<string, RegExp | undefined>();

  constructor(private readonly model: ServiceModel) {}

  private shape(name: string): ModelShape {
    const s = this.model.shapes[name];
    if (!s) throw new EcsError('ServerException', `service model has no shape ${name}`, {}, 500);
    return s;
  }

  private constraint(path: string, value: unknown, must: string): void {
    this.problems.push({
      path,
      message: `Value '${describe(value)}' at '${path}' failed to satisfy constraint: ${must}`,
    });
  }

  private size(path: string, value: unknown, n: number, s: ModelShape, what: string): void {
    if (s.min !== undefined && n < s.min)
      this.constraint(path, value, `Member must have ${what} greater than or equal to ${s.min}`);
    if (s.max !== undefined && n > s.max)
      this.constraint(path, value, `Member must have ${what} less than or equal to ${s.max}`);
  }

  value(shapeName: string, value: unknown, path: string): void {
    const s = this.shape(shapeName);
    switch (s.type) {
      case 'structure':
        this.structure(s, value, path);
        return;
      case 'list': {
        if (!Array.isArray(value)) throw serialization(`Expected a list at '${path}'`);
        this.size(path, value, value.length, s, 'length');
        value.forEach((v, i) => {
          if (v !== null) this.value(s.member!.shape, v, memberPath(path, i));
        });
        return;
      }
      case 'map': {
        if (typeof value !== 'object' || value === null || Array.isArray(value))
          throw serialization(`Expected a map at '${path}'`);
        const entries = Object.entries(value);
        this.size(path, value, entries.length, s, 'length');
        for (const [k, v] of entries) {
          this.value(s.key!.shape, k, `${path}.key`);
          if (v !== null) this.value(s.value!.shape, v, `${path}.${k}`);
        }
        return;
      }
      case 'string': {
        if (typeof value !== 'string')
          throw serialization(`${typeof value} can not be converted to a String at '${path}'`);
        if (s.enum && !s.enum.includes(value))
          this.constraint(path, value, `Member must satisfy enum value set: [${s.enum.join(', ')}]`);
        this.size(path, value, [...value].length, s, 'length');
        if (s.pattern !== undefined) {
          if (!this.patterns.has(s.pattern)) this.patterns.set(s.pattern, regexOf(s.pattern));
          const re = this.patterns.get(s.pattern);
          if (re && !re.test(value))
            this.constraint(path, value, `Member must satisfy regular expression pattern: ${s.pattern}`);
        }
        return;
      }
      case 'integer':
      case 'long':
        if (typeof value !== 'number' || !Number.isInteger(value))
          throw serialization(
            `${describe(value)} can not be converted to an ${s.type === 'long' ? 'Long' : 'Integer'} at '${path}'`,
          );
        if (s.min !== undefined && value < s.min)
          this.constraint(path, value, `Member must have value greater than or equal to ${s.min}`);
        if (s.max !== undefined && value > s.max)
          this.constraint(path, value, `Member must have value less than or equal to ${s.max}`);
        return;
      default: {
        const scalar = SCALARS[s.type];
        if (scalar && !scalar.is(value))
          throw serialization(`${describe(value)} can not be converted to ${scalar.name} at '${path}'`);
      }
    }
  }

  private structure(s: ModelShape, value: unknown, path: string): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      throw serialization(`Expected a structure at '${path || 'input'}'`);
    const members = s.members ?? {};
    const body = value as Record<string, unknown>;
    for (const key of Object.keys(body)) {
      if (!(key in members)) {
        throw serialization(
          `Unknown parameter in ${path || 'input'}: "${key}", must be one of: ${Object.keys(members).join(', ')}`,
        );
      }
    }
    for (const name of s.required ?? []) {
      if (body[name] === undefined || body[name] === null) {
        const at = path ? `${path}.${name}` : name;
        this.problems.push({
          path: at,
          message: `Value null at '${at}' failed to satisfy constraint: Member must not be null`,
        });
      }
    }
    for (const [name, member] of Object.entries(members)) {
      const v = body[name];
      if (v !== undefined && v !== null) this.value(member.shape, v, path ? `${path}.${name}` : name);
    }
  }
}

/** Throws the ECS error a request body earns against `operation`'s input shape; returns when it is well-formed. */
export function validateAgainstModel(model: ServiceModel, operation: string, body: unknown): void {
  const op = model.operations[operation];
  if (!op) throw new EcsError('UnknownOperationException', `Unknown operation ${operation}`);
  if (!op.input) return;
  const v = new Validator(model);
  v.value(op.input.shape, body, '');
  if (v.problems.length > 0) {
    const n = v.problems.length;
    throw invalidParameter(
      `${n} validation error${n === 1 ? '' : 's'} detected: ${v.problems.map((p) => p.message).join('; ')}`,
    );
  }
}
