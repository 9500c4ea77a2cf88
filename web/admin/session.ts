/** The signed-in state: the admin token lives in sessionStorage (this tab only). */
import { ref, shallowRef } from 'vue';
import { AdminApi, AdminApiError, type Session } from './admin-api.js';

const TOKEN_KEY = 'minipay.console.token';

export const api = shallowRef<AdminApi | null>(null);
export const session = ref<Session | null>(null);

/** Checks the token with GET /admin/v1/session; keeps it only when the server accepts it. */
export async function signIn(token: string): Promise<void> {
  const candidate = new AdminApi(token.trim());
  session.value = await candidate.session();
  api.value = candidate;
  window.sessionStorage.setItem(TOKEN_KEY, token.trim());
}

export function signOut(): void {
  window.sessionStorage.removeItem(TOKEN_KEY);
  api.value = null;
  session.value = null;
}

/** Signs in again with the token this tab kept (after a reload); false when there is none. */
export async function resume(): Promise<boolean> {
  const token = window.sessionStorage.getItem(TOKEN_KEY);
  if (!token) return false;
  try {
    await signIn(token);
    return true;
  } catch (err) {
    if (err instanceof AdminApiError && (err.status === 401 || err.status === 403)) signOut();
    return false;
  }
}

/** The API, for views that only render when signed in. */
export function adminApi(): AdminApi {
  if (!api.value) throw new Error('not signed in');
  return api.value;
}
