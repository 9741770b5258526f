import { describe, expect, it } from 'vitest';
import { withoutDefaults } from './params';

const schema = {
  properties: {
    path: {},
    separator: { default: ',' },
    skip_rows: { default: 0 },
    parse_dates: { default: [] as string[] }
  }
};

describe('withoutDefaults', () => {
  it('keeps what the user wrote and drops the defaults rjsf filled in', () => {
    const data = { path: 'data/orders.csv', separator: ',', skip_rows: 0, parse_dates: [] };
    expect(withoutDefaults(data, schema, { path: 'old.csv' })).toEqual({ path: 'data/orders.csv' });
  });

  it('keeps a changed default and a default the file already had', () => {
    const data = { path: 'x.csv', separator: ';', skip_rows: 0 };
    expect(withoutDefaults(data, schema, { path: 'x.csv', skip_rows: 0 })).toEqual({
      path: 'x.csv',
      separator: ';',
      skip_rows: 0
    });
  });

  it('drops empty values, lists and objects the step did not have', () => {
    expect(withoutDefaults({ path: '', columns: null, limit: undefined, types: {}, by: [] }, schema, {})).toEqual({});
    expect(withoutDefaults({ by: [] }, schema, { by: [] })).toEqual({ by: [] });
  });
});
