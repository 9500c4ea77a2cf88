/** A view's data: loading, loaded, failed, or not on this server (unavailable). */
import { type Ref, ref } from 'vue';
import { AdminApiError } from './admin-api.js';
import { signOut } from './session.js';

export type LoadState = 'loading' | 'ready' | 'error' | 'unavailable';

export interface Loader {
  state: Ref<LoadState>;
  error: Ref<string>;
  /** Runs `work`, recording how it went; the token going bad signs out. */
  run(work: () => Promise<void>): Promise<void>;
}

export function describeError(err: unknown): string {
  if (err instanceof AdminApiError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

export function useLoader(): Loader {
  const state = ref<LoadState>('loading');
  const error = ref('');
  return {
    state,
    error,
    async run(work) {
      state.value = 'loading';
      error.value = '';
      try {
        await work();
        state.value = 'ready';
      } catch (err) {
        if (err instanceof AdminApiError && err.unavailable) {
          state.value = 'unavailable';
          return;
        }
        if (err instanceof AdminApiError && (err.status === 401 || err.status === 403)) {
          signOut();
        }
        state.value = 'error';
        error.value = describeError(err);
      }
    },
  };
}
