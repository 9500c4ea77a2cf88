/**
 * The cashier: a self-contained page (no CDN, no external file) that plays WeChat's payment
 * sheet for `wx.requestPayment`. It reads the parameters from its own query string, shows the
 * amount and description of the prepay, and pays or cancels through the sandbox API.
 *
 * How it reports the result (the `errMsg` wx.requestPayment would give):
 * - in an iframe: `parent.postMessage({ type: 'minipay-sandbox:requestPayment', errMsg,
 *   outTradeNo, transactionId? }, '*')` (the message holds nothing secret);
 * - with `returnUrl` (http or https): the page navigates there with `errMsg` (and
 *   `transactionId`) added to the query string;
 * - otherwise it shows the result itself.
 */

/** The HTML, with `nonce` for the inline script and style (the CSP allows nothing else). */
export function cashierPage(nonce: string): string {
  return `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>微信支付 · minipay sandbox</title>
<style nonce="${nonce}">
  :root { font-family: -apple-system, "PingFang SC", "Helvetica Neue", Arial, sans-serif; color: #191919; }
  body { margin: 0; background: #ededed; display: flex; justify-content: center; }
  main { width: 100%; max-width: 420px; background: #fff; min-height: 100vh; box-sizing: border-box; padding: 32px 24px; }
  .badge { display: inline-block; font-size: 12px; color: #fa9d3b; border: 1px solid #fa9d3b; border-radius: 3px; padding: 0 4px; }
  h1 { font-size: 17px; font-weight: 500; margin: 12px 0 24px; }
  .desc { color: #666; font-size: 15px; text-align: center; margin: 0; }
  .amount { font-size: 40px; font-weight: 600; text-align: center; margin: 8px 0 32px; }
  dl { font-size: 13px; color: #888; display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0 0 32px; }
  dd { margin: 0; word-break: break-all; color: #444; }
  button { display: block; width: 100%; font-size: 17px; border: 0; border-radius: 8px; padding: 12px; margin: 0 0 12px; cursor: pointer; }
  #pay { background: #07c160; color: #fff; }
  #pay:disabled { background: #9ed99d; cursor: default; }
  #cancel { background: #f2f2f2; color: #07c160; }
  #result { font-size: 15px; text-align: center; min-height: 22px; }
  .fail { color: #fa5151; }
  .ok { color: #07c160; }
</style>
</head>
<body>
<main>
  <span class="badge">SANDBOX · 模拟支付</span>
  <h1>微信支付 WeChat Pay</h1>
  <p class="desc" id="body">…</p>
  <p class="amount" id="amount">¥ —</p>
  <dl>
    <dt>商户订单号</dt><dd id="outTradeNo">—</dd>
    <dt>付款人 openid</dt><dd id="openid">—</dd>
  </dl>
  <button id="pay" disabled>支付 Pay</button>
  <button id="cancel">取消 Cancel</button>
  <p id="result" role="status"></p>
</main>
<script nonce="${nonce}">
(() => {
  const q = new URLSearchParams(location.search);
  const params = {
    openid: q.get('openid') || '',
    appId: q.get('appId') || '',
    timeStamp: q.get('timeStamp') || '',
    nonceStr: q.get('nonceStr') || '',
    package: q.get('package') || '',
    signType: q.get('signType') || '',
    paySign: q.get('paySign') || '',
  };
  const $ = (id) => document.getElementById(id);
  const payButton = $('pay');
  let outTradeNo = '';
  let done = false;

  function fen(n) {
    return '¥ ' + Math.floor(n / 100) + '.' + String(n % 100).padStart(2, '0');
  }

  function show(text, cls) {
    const el = $('result');
    el.textContent = text;
    el.className = cls || '';
  }

  function finish(errMsg, transactionId) {
    if (done) return;
    done = true;
    payButton.disabled = true;
    $('cancel').disabled = true;
    const message = { type: 'minipay-sandbox:requestPayment', errMsg, outTradeNo };
    if (transactionId) message.transactionId = transactionId;
    if (window.parent !== window) window.parent.postMessage(message, '*');
    const back = q.get('returnUrl');
    if (back) {
      try {
        const url = new URL(back);
        if (url.protocol === 'http:' || url.protocol === 'https:') {
          url.searchParams.set('errMsg', errMsg);
          if (transactionId) url.searchParams.set('transactionId', transactionId);
          location.assign(url.href);
          return;
        }
      } catch (e) {}
      show('returnUrl must be an http(s) URL: ' + errMsg, 'fail');
      return;
    }
    show(errMsg, errMsg === 'requestPayment:ok' ? 'ok' : 'fail');
  }

  async function load() {
    $('openid').textContent = params.openid || '(missing: add &openid=… to the URL)';
    const prepayId = params.package.startsWith('prepay_id=') ? params.package.slice(10) : '';
    if (!prepayId) {
      show('package must be "prepay_id=…": open this page with the wx.requestPayment parameters', 'fail');
      return;
    }
    const res = await fetch('prepays/' + encodeURIComponent(prepayId));
    const data = await res.json();
    if (!res.ok) {
      show(data.error ? data.error.message : 'unknown prepay_id', 'fail');
      return;
    }
    outTradeNo = data.prepay.outTradeNo;
    $('body').textContent = data.prepay.body;
    $('amount').textContent = fen(data.prepay.totalFen);
    $('outTradeNo').textContent = outTradeNo;
    payButton.disabled = false;
  }

  payButton.addEventListener('click', async () => {
    payButton.disabled = true;
    show('支付中…');
    try {
      const res = await fetch('pay', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(params),
      });
      const data = await res.json();
      if (res.ok) finish('requestPayment:ok', data.transactionId);
      else finish('requestPayment:fail ' + (data.error ? data.error.message : 'HTTP ' + res.status));
    } catch (e) {
      finish('requestPayment:fail network error');
    }
  });
  $('cancel').addEventListener('click', () => finish('requestPayment:fail cancel'));
  load().catch(() => show('could not reach the sandbox', 'fail'));
})();
</script>
</body>
</html>
`;
}
