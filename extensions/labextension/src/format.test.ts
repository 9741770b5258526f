import { describe, expect, it } from 'vitest';

import { ago, duration, isFinished, notebookCell } from './format';

describe('duration', () => {
  it('shows short runs with two decimals and long ones in minutes and hours', () => {
    expect(duration(0.4213)).toBe('0.42 s');
    expect(duration(12.34)).toBe('12.3 s');
    expect(duration(245)).toBe('4 min 05 s');
    expect(duration(7380)).toBe('2 h 03 min');
  });
  it('shows nothing for a run without a duration', () => {
    expect(duration(null)).toBe('');
    expect(duration(undefined)).toBe('');
    expect(duration(Number.NaN)).toBe('');
  });
});

describe('ago', () => {
  const now = Date.parse('2026-12-03T10:00:00Z');
  it('counts back from now', () => {
    expect(ago('2026-12-03T09:59:30Z', now)).toBe('30 s ago');
    expect(ago('2026-12-03T09:57:00Z', now)).toBe('3 min ago');
    expect(ago('2026-12-03T07:00:00Z', now)).toBe('3 h ago');
    expect(ago('2026-11-30T10:00:00Z', now)).toBe('3 d ago');
    expect(ago(null, now)).toBe('');
  });
});

describe('isFinished', () => {
  it('knows the final statuses', () => {
    expect(isFinished('queued')).toBe(false);
    expect(isFinished('running')).toBe(false);
    for (const status of ['succeeded', 'failed', 'cancelled', 'crashed', 'timed_out']) {
      expect(isFinished(status)).toBe(true);
    }
  });
});

describe('notebookCell', () => {
  it('loads the flow next to the notebook and runs it with the parameters as Python values', () => {
    expect(notebookCell('sales.flow.yaml', {})).toBe(
      'from aqtra_nb import Flow\n\nflow = Flow.load("sales.flow.yaml")\nresult = flow.run()\nresult'
    );
    expect(notebookCell('a "b".flow.yaml', { min: 5, on: true, tags: ['x', null], when: '2026-01-01' })).toContain(
      'flow = Flow.load("a \\"b\\".flow.yaml")\nresult = flow.run({"min": 5, "on": True, "tags": ["x", None], "when": "2026-01-01"})'
    );
  });
});
