/**
 * URLs as answers and log lines may show them: merchants put tokens in webhook URLs' query
 * strings (or `user:pass@`), and clients put cursors and openids in request query strings.
 * The query string becomes `?[redacted]`, credentials `[redacted]@`, a fragment goes.
 */

const REDACTED = '[redacted]';

/** An absolute URL or a request path (`/api/v1/orders?cursor=…`), redacted. */
export function redactUrl(url: string): string {
  const cut = url.search(/[?#]/);
  const base = cut < 0 ? url : url.slice(0, cut);
  const query = cut >= 0 && url[cut] === '?' && url.length > cut + 1 ? `?${REDACTED}` : '';
  return base.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, `$1${REDACTED}@`) + query;
}

/** Text (an error message) with every http(s) URL in it redacted. */
export function redactUrlsIn(text: string): string {
  return text.replace(/https?:\/\/[^\s"'<>]+/gi, (url) => redactUrl(url));
}
