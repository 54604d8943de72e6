import { describe, expect, it } from 'vitest';
import { KeyedLimiter } from '../../src/engine/keyed-limiter.ts';

/** A task that records when it runs and finishes only when released. */
function gate() {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { release, released };
}

describe('KeyedLimiter', () => {
  it('never runs two tasks that share a key at the same time', async () => {
    const limiter = new KeyedLimiter(4);
    const log: string[] = [];
    const first = gate();
    const a = limiter.run(['email:ada@x'], async () => {
      log.push('a start');
      await first.released;
      log.push('a end');
    });
    const b = limiter.run(['login:other', 'email:ada@x'], async () => {
      log.push('b start');
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(log).toEqual(['a start']);
    first.release();
    await Promise.all([a, b]);
    expect(log).toEqual(['a start', 'a end', 'b start']);
  });

  it('runs unrelated tasks side by side up to the limit', async () => {
    const limiter = new KeyedLimiter(2);
    let running = 0;
    let peak = 0;
    const gates = [gate(), gate(), gate()];
    const tasks = gates.map((g, index) =>
      limiter.run([`k${index}`], async () => {
        running++;
        peak = Math.max(peak, running);
        await g.released;
        running--;
      }),
    );
    await new Promise((resolve) => setImmediate(resolve));
    expect(running).toBe(2);
    for (const g of gates) g.release();
    await Promise.all(tasks);
    expect(peak).toBe(2);
  });

  it('keeps going after a task fails', async () => {
    const limiter = new KeyedLimiter(1);
    const failed = limiter.run(['x'], async () => {
      throw new Error('boom');
    });
    await expect(failed).rejects.toThrow('boom');
    await expect(limiter.run(['x'], async () => 'next')).resolves.toBe('next');
  });
});
