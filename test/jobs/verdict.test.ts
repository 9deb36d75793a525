import { describe, expect, it } from 'vitest';

import { decideVerdict, type RunState } from '../../src/jobs/types.js';

describe('decideVerdict', () => {
  const cases: Array<{ states: RunState[]; verdict: string }> = [
    { states: [], verdict: 'completed' },
    { states: ['succeeded', 'succeeded'], verdict: 'completed' },
    { states: ['succeeded', 'pending'], verdict: 'pending' },
    { states: ['failed', 'running'], verdict: 'pending' },
    { states: ['succeeded', 'failed'], verdict: 'failed' },
    { states: ['succeeded', 'timed_out'], verdict: 'failed' },
    { states: ['cancelled'], verdict: 'failed' },
    { states: ['skipped', 'succeeded'], verdict: 'failed' },
    { states: ['interrupted'], verdict: 'failed' },
  ];

  for (const { states, verdict } of cases) {
    it(`is ${verdict} for [${states.join(', ')}]`, () => {
      expect(decideVerdict(states)).toBe(verdict);
    });
  }
});
