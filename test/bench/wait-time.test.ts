import { describe, expect, it } from 'vitest';
import { waitBreakdown } from '../../bench/wait-time.ts';

describe('waitBreakdown', () => {
  it('splits the wall time by which side had a request in flight', () => {
    // Graph 0–400 ms and 900–1300 ms; WordPress 300–1000 ms and two requests at 1100–1200.
    const waits = waitBreakdown(
      [
        { start: 0, end: 400 },
        { start: 900, end: 1300 },
      ],
      [
        { start: 300, end: 1000 },
        { start: 1100, end: 1200 },
        { start: 1150, end: 1200 },
      ],
      0,
      1500,
    );
    expect(waits.graphOnly).toBeCloseTo(0.3 + 0.1 + 0.1);
    expect(waits.wordpressOnly).toBeCloseTo(0.5);
    expect(waits.both).toBeCloseTo(0.1 + 0.1 + 0.1);
    expect(waits.neither).toBeCloseTo(0.2);
    expect(waits.graphOnly + waits.wordpressOnly + waits.both + waits.neither).toBeCloseTo(1.5);
  });

  it('counts only what falls inside the run', () => {
    const waits = waitBreakdown([{ start: -500, end: 100 }], [{ start: 900, end: 2000 }], 0, 1000);
    expect(waits).toEqual({ graphOnly: 0.1, wordpressOnly: 0.1, both: 0, neither: 0.8 });
  });
});
