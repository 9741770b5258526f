import { describe, expect, it } from 'vitest';

import { completions, wordBefore } from './completion';

describe('column completion in expression fields', () => {
  it('completes the identifier before the caret from the input columns', () => {
    expect(wordBefore('amount >= 10 and reg', 20)).toBe('reg');
    expect(wordBefore('amount >= @mi', 13)).toBe('@mi');
    expect(wordBefore('amount >= 10 ', 13)).toBe('');
    expect(completions('reg', ['region', 'Regime', 'amount'], [])).toEqual(['region', 'Regime']);
    expect(completions('@mi', ['min_col'], ['min_amount', 'max'])).toEqual(['@min_amount']);
  });
  it('offers nothing for an empty word or a name typed in full', () => {
    expect(completions('', ['region'], [])).toEqual([]);
    expect(completions('region', ['region'], [])).toEqual([]);
  });
});
