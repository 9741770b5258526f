// Completion of column names (and `@parameters`) in expression fields: what to offer for the text
// before the caret. Pure functions, tested without a browser.

/** The identifier being typed just before the caret (with its `@` for a parameter), or ''. */
export function wordBefore(value: string, caret: number): string {
  const match = /@?[A-Za-z_][A-Za-z0-9_]*$/.exec(value.slice(0, caret));
  return match ? match[0] : '';
}

/** The names that complete `word`: columns, or parameters after `@` (a name typed in full is not offered). */
export function completions(word: string, columns: string[], parameters: string[]): string[] {
  if (!word) {
    return [];
  }
  const [pool, prefix, stem] = word.startsWith('@') ? [parameters, '@', word.slice(1)] : [columns, '', word];
  return pool
    .filter(name => name.toLowerCase().startsWith(stem.toLowerCase()) && name !== stem)
    .map(name => prefix + name)
    .slice(0, 12);
}
