import { Writable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { LazyRequestLogger } from '../../src/http/lazy-request-logger.js';
import { createLogger } from '../../src/logger.js';
import { createTestApp } from '../support/test-app.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger(level, sink), lines };
}

describe('LazyRequestLogger', () => {
  it('makes no pino child while nothing is logged at an enabled level', () => {
    const { logger, lines } = capture('info');
    const child = vi.spyOn(logger, 'child');
    const log = new LazyRequestLogger(logger as never, { reqId: 'req-1' }, {});
    log.debug({ a: 1 }, 'not enabled');
    log.trace('not enabled either');
    expect(child).not.toHaveBeenCalled();
    expect(lines).toEqual([]);
    expect(log.level).toBe('info');
    expect(log.isLevelEnabled('debug')).toBe(false);
    expect(log.isLevelEnabled('warn')).toBe(true);
  });

  it('writes the same line as an eager child, bindings and redaction included, making the child once', () => {
    const { logger, lines } = capture('info');
    const child = vi.spyOn(logger, 'child');
    const log = new LazyRequestLogger(logger as never, { reqId: 'req-7' }, {});
    log.info({ route: '/x', token: 'hunter2' }, 'first');
    log.error('second');
    expect(child).toHaveBeenCalledTimes(1);
    expect(lines.map((l) => [l.reqId, l.msg, l.level])).toEqual([
      ['req-7', 'first', 30],
      ['req-7', 'second', 50],
    ]);
    expect(lines[0]!.token).toBe('[redacted]');
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('honours a route-level log level given as a child option', () => {
    const { logger, lines } = capture('info');
    const quiet = new LazyRequestLogger(logger as never, { reqId: 'req-2' }, { level: 'warn' });
    quiet.info('dropped');
    quiet.warn('kept');
    const chatty = new LazyRequestLogger(logger as never, { reqId: 'req-3' }, { level: 'debug' });
    chatty.debug('kept too');
    expect(lines.map((l) => [l.reqId, l.msg])).toEqual([
      ['req-2', 'kept'],
      ['req-3', 'kept too'],
    ]);
  });

  it('follows a level change on the root logger until the child exists', () => {
    const { logger, lines } = capture('info');
    const log = new LazyRequestLogger(logger as never, { reqId: 'req-4' }, {});
    logger.level = 'debug';
    log.debug('now enabled');
    expect(lines.map((l) => l.msg)).toEqual(['now enabled']);
  });

  it('through the app: request lines keep their request id, and an incoming x-request-id is used', async () => {
    const t = await createTestApp();
    try {
      const res = await t.app.inject({
        method: 'POST',
        url: '/gocd/requests/cd.go.elastic-agent.get-icon',
        headers: { 'x-request-id': 'trace-abc-123' },
      });
      expect(res.statusCode).toBe(401);
      const refused = t.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === 'request refused');
      expect(refused).toMatchObject({ reqId: 'trace-abc-123', status: 401, route: '/gocd/requests/:requestName' });
      const ok = await t.app.inject({
        method: 'POST',
        url: '/gocd/requests/cd.go.elastic-agent.get-icon',
        headers: t.auth,
      });
      expect(ok.statusCode).toBe(200);
      const done = t.logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'request done');
      expect(done.at(-1)).toMatchObject({ status: 200, route: '/gocd/requests/:requestName' });
      expect(typeof done.at(-1)!.reqId).toBe('string');
    } finally {
      await t.close();
    }
  });
});
