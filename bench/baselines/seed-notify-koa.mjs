import Database from 'better-sqlite3';
import Koa from 'koa';
import getRawBody from 'raw-body';
import xml2js from 'xml2js';
import { sign } from './seed-sign.mjs';

const { BENCH_DB, BENCH_MCH_KEY, BENCH_APPID, BENCH_MCHID } = process.env;
if (!BENCH_DB || !BENCH_MCH_KEY || !BENCH_APPID || !BENCH_MCHID) {
  console.error('set BENCH_DB, BENCH_MCH_KEY, BENCH_APPID and BENCH_MCHID');
  process.exit(2);
}

const db = new Database(BENCH_DB);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
const findOrder = db.prepare('SELECT * FROM orders WHERE out_trade_no = ?');
const markPaid = db.prepare(
  "UPDATE orders SET status = 'PAID', transaction_id = ?, paid_at = ?, updated_at = ? WHERE out_trade_no = ? AND status = 'PENDING'",
);
const builder = new xml2js.Builder({ rootName: 'xml', headless: true, cdata: true });
const reply = (code, msg) => builder.buildObject({ return_code: code, return_msg: msg });

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method !== 'POST' || ctx.path !== '/wechatpay/v2/notify') {
    ctx.status = 404;
    return;
  }
  ctx.type = 'text/xml';
  try {
    const raw = await getRawBody(ctx.req, { encoding: 'utf8', limit: '64kb' });
    const parsed = await xml2js.parseStringPromise(raw, { explicitArray: false, trim: false });
    const data = parsed.xml;
    if (data.sign !== sign(data, BENCH_MCH_KEY)) {
      ctx.body = reply('FAIL', 'bad signature');
      return;
    }
    if (data.appid !== BENCH_APPID || data.mch_id !== BENCH_MCHID) {
      ctx.body = reply('FAIL', 'wrong merchant');
      return;
    }
    const order = findOrder.get(data.out_trade_no);
    if (!order || order.total_fen !== Number(data.total_fee)) {
      ctx.body = reply('FAIL', 'unknown order or amount');
      return;
    }
    if (data.result_code === 'SUCCESS' && order.status === 'PENDING') {
      const now = new Date().toISOString();
      markPaid.run(data.transaction_id, now, now, data.out_trade_no);
    }
    ctx.body = reply('SUCCESS', 'OK');
  } catch (err) {
    ctx.body = reply('FAIL', String(err.message));
  }
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`seed-style notify listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
