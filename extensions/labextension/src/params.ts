// What of a step form's data goes into the flow file: rjsf fills in every default of the component's
// parameters schema, but the file should keep only what the user wrote, so that a flow edited in the
// visual editor reads like one written by hand (and keeps following a component's changed defaults).

type Schema = { properties?: Record<string, { default?: unknown }> };

/** `data` without empty values and without the values that equal their schema default, unless the step
 * already had that key (a value the user wrote stays, even when it equals the default). */
export function withoutDefaults(
  data: Record<string, unknown>,
  schema: Schema | undefined,
  previous: Record<string, unknown> | undefined
): Record<string, unknown> {
  const properties = schema?.properties ?? {};
  return Object.fromEntries(
    Object.entries(data).filter(([key, value]) => {
      if (value === undefined || value === null || value === '') {
        return false;
      }
      if (previous && key in previous) {
        return true;
      }
      if (typeof value === 'object' && Object.keys(value as object).length === 0) {
        return false; // rjsf's empty list or object for an optional field the user did not fill
      }
      const fallback = properties[key]?.default;
      return fallback === undefined || JSON.stringify(fallback) !== JSON.stringify(value);
    })
  );
}
