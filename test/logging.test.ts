import { Writable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import { AgentError } from '../src/errors.js';
import { createLogger } from '../src/logging.js';

function captureLines(): { stream: Writable; lines: () => Array<Record<string, unknown>> } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk.toString('utf8'));
      callback();
    },
  });
  const lines = (): Array<Record<string, unknown>> =>
    chunks
      .join('')
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { stream, lines };
}

describe('createLogger', () => {
  it('redacts secrets at any depth', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });

    logger.info(
      {
        password: 'top-level-secret',
        device: { id: 'r1', password: 'nested-secret', ssh: { passphrase: 'deep-secret' } },
        headers: { authorization: 'Bearer abc.def' },
      },
      'device configured',
    );

    const text = JSON.stringify(capture.lines());
    expect(text).not.toContain('top-level-secret');
    expect(text).not.toContain('nested-secret');
    expect(text).not.toContain('deep-secret');
    expect(text).not.toContain('abc.def');
    expect(text).toContain('r1');
  });

  it('redacts secrets in error details', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });
    const cause = new AgentError('AUTH_FAILED', 'login rejected', {
      details: { request: { password: 'cause-secret' } },
    });
    const error = new AgentError('AUTH_FAILED', 'run failed', {
      cause,
      details: { token: 'detail-secret' },
    });

    logger.error({ err: error, failure: error }, 'run failed');

    const [line] = capture.lines();
    const text = JSON.stringify(line);
    expect(text).not.toContain('cause-secret');
    expect(text).not.toContain('detail-secret');
    expect((line?.err as { code?: string } | undefined)?.code).toBe('AUTH_FAILED');
    expect((line?.err as { message?: string } | undefined)?.message).toBe('run failed');
  });

  it('redacts secrets in arrays and bindings', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });

    logger
      .child({ component: 'uplink', token: 'binding-secret' })
      .info({ devices: [{ id: 'r1' }, { id: 'r2', passphrase: 'item-secret' }] }, 'loaded');

    const text = JSON.stringify(capture.lines());
    expect(text).not.toContain('binding-secret');
    expect(text).not.toContain('item-secret');
    expect(text).toContain('r2');
  });

  it('stops at a toJSON returning itself', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });
    const looped = { id: 'r1', toJSON: () => looped };

    logger.info({ looped }, 'device configured');

    expect(capture.lines()).toHaveLength(1);
  });

  it('leaves the logged object unchanged', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });
    const device = { id: 'r1', ssh: { privateKey: 'still-here' } };

    logger.info({ device }, 'device configured');

    expect(device.ssh.privateKey).toBe('still-here');
    expect(JSON.stringify(capture.lines())).not.toContain('still-here');
  });

  it('serializes errors under err', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });

    logger.error({ err: new Error('boom') }, 'run failed');

    const [line] = capture.lines();
    expect(line?.msg).toBe('run failed');
    expect((line?.err as { message?: string } | undefined)?.message).toBe('boom');
  });

  it('keeps the cause beside the message', () => {
    const capture = captureLines();
    const logger = createLogger({ name: 'test', destination: capture.stream });
    const cause = new AgentError('SECRET_UNREADABLE', 'secret file a is empty');
    const error = new AgentError('SECRET_UNREADABLE', '1 secret(s) cannot be used', { cause });

    logger.warn({ err: error }, 'some device secrets cannot be used');

    const [line] = capture.lines();
    const err = line?.err as { message?: string; cause?: { code?: string } } | undefined;
    expect(err?.message).toBe(error.message);
    expect(err?.cause?.code).toBe('SECRET_UNREADABLE');
  });
});
