// Load something from the server now and every `ms`, with the error kept for the panel to show.
import * as React from 'react';

import { ApiError } from './api';

export function usePolling<T>(load: () => Promise<T>, ms: number): { data: T | null; error: string; refresh: () => Promise<void> } {
  const [data, setData] = React.useState<T | null>(null);
  const [error, setError] = React.useState('');
  const refresh = React.useCallback(async () => {
    try {
      setData(await load());
      setError('');
    } catch (reason) {
      setError(message(reason));
    }
  }, [load]);
  React.useEffect(() => {
    void refresh();
    const timer = window.setInterval(() => void refresh(), ms);
    return () => window.clearInterval(timer);
  }, [refresh, ms]);
  return { data, error, refresh };
}

export function message(reason: unknown): string {
  if (reason instanceof ApiError) {
    return reason.body.field ? `${reason.body.field}: ${reason.message}` : reason.message;
  }
  return reason instanceof Error ? reason.message : String(reason);
}

/** Run a panel's action (approve, pause...), then reload; its error, if any, for the panel to show. */
export function useAction(refresh: () => Promise<void>): {
  error: string;
  act: (action: () => Promise<unknown>) => () => Promise<void>;
} {
  const [error, setError] = React.useState('');
  const act = (action: () => Promise<unknown>) => async () => {
    try {
      await action();
      setError('');
      await refresh();
    } catch (reason) {
      setError(message(reason));
    }
  };
  return { error, act };
}
