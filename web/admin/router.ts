/** Hash routes (`#/orders/ord_…`), so any console URL can be bookmarked and reloaded. */
import { ref } from 'vue';

export type Route =
  | { name: 'overview' }
  | { name: 'orders'; query: URLSearchParams }
  | { name: 'order'; id: string }
  | { name: 'anomalies' }
  | { name: 'webhooks' }
  | { name: 'shipping' }
  | { name: 'reconciliation' }
  | { name: 'reconciliationDay'; date: string };

export function parseRoute(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean);
  switch (parts[0]) {
    case 'orders':
      return parts[1]
        ? { name: 'order', id: decodeURIComponent(parts[1]) }
        : { name: 'orders', query: new URLSearchParams(search) };
    case 'anomalies':
      return { name: 'anomalies' };
    case 'webhooks':
      return { name: 'webhooks' };
    case 'shipping':
      return { name: 'shipping' };
    case 'reconciliation':
      return parts[1]
        ? { name: 'reconciliationDay', date: decodeURIComponent(parts[1]) }
        : { name: 'reconciliation' };
    default:
      return { name: 'overview' };
  }
}

export const route = ref<Route>(parseRoute(window.location.hash));
window.addEventListener('hashchange', () => {
  route.value = parseRoute(window.location.hash);
});

export function go(hash: string): void {
  window.location.hash = hash;
}
