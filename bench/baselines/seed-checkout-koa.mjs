// The "seed-style" checkout minipay's checkout benchmark compares against: login through
// jscode2session, then an order priced from the catalogue, a unifiedorder call (fetch +
// xml2js + MD5, the response's signature checked) and the signed wx.requestPayment
// parameters, the straightforward way most tutorials and starter repositories do it, in plain
// JavaScript, on the same SQLite settings minipay's store uses (WAL, synchronous=NORMAL).
//
//   BENCH_DB=shop.sqlite BENCH_WECHAT_URL=http://127.0.0.1:PORT BENCH_APPID=… BENCH_APPSECRET=… \
//   BENCH_MCHID=… BENCH_MCH_KEY=… node bench/baselines/seed-checkout-koa.mjs
import { randomBytes, randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import Koa from 'koa';
import getRawBody from 'raw-body';
import xml2js from 'xml2js';
import { sign } from './seed-sign.mjs';

const env = process.env;
for (const name of [
  'BENCH_DB',
  'BENCH_WECHAT_URL',
  'BENCH_APPID',
  'BENCH_APPSECRET',
  'BENCH_MCHID',
  'BENCH_MCH_KEY',
]) {
  if (!env[name]) {
    console.error(`set ${name}`);
    process.exit(2);
  }
}
const WECHAT = env.BENCH_WECHAT_URL;

const db = new Database(env.BENCH_DB);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS products (id TEXT PRIMARY KEY, name TEXT NOT NULL, price_fen INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS users (id TEXT PRIMARY KEY, openid TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS sessions (token TEXT PRIMARY KEY, user_id TEXT NOT NULL, expires_at TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, out_trade_no TEXT NOT NULL UNIQUE, status TEXT NOT NULL,
    total_fen INTEGER NOT NULL, items TEXT NOT NULL, prepay_id TEXT, created_at TEXT NOT NULL, updated_at TEXT NOT NULL);
  INSERT OR IGNORE INTO products (id, name, price_fen) VALUES ('prd_tea', 'Jasmine tea', 600);
`);
const builder = new xml2js.Builder({ rootName: 'xml', headless: true, cdata: true });

const nonceStr = () => randomBytes(16).toString('hex');

async function unifiedOrder(order, openid) {
  const req = {
    appid: env.BENCH_APPID,
    mch_id: env.BENCH_MCHID,
    nonce_str: nonceStr(),
    body: 'minipay bench',
    out_trade_no: order.out_trade_no,
    total_fee: order.total_fen,
    spbill_create_ip: '127.0.0.1',
    notify_url: 'http://127.0.0.1:9/wechatpay/notify',
    trade_type: 'JSAPI',
    openid,
  };
  req.sign = sign(req, env.BENCH_MCH_KEY);
  const res = await fetch(`${WECHAT}/pay/unifiedorder`, {
    method: 'POST',
    body: builder.buildObject(req),
  });
  const parsed = await xml2js.parseStringPromise(await res.text(), { explicitArray: false });
  const data = parsed.xml;
  if (data.return_code !== 'SUCCESS' || data.result_code !== 'SUCCESS') {
    throw new Error(`unifiedorder failed: ${data.return_msg || data.err_code_des}`);
  }
  if (data.sign !== sign(data, env.BENCH_MCH_KEY))
    throw new Error('unifiedorder answer has a bad signature');
  return data.prepay_id;
}

const app = new Koa();
app.use(async (ctx, next) => {
  try {
    await next();
  } catch (err) {
    ctx.status = err.status ?? 500;
    ctx.body = { error: { code: 'ERROR', message: err.message } };
  }
});
app.use(async (ctx) => {
  if (ctx.method === 'POST' && ctx.path === '/api/v1/login') {
    const { code } = JSON.parse(await getRawBody(ctx.req, { encoding: 'utf8', limit: '16kb' }));
    const q = new URLSearchParams({
      appid: env.BENCH_APPID,
      secret: env.BENCH_APPSECRET,
      js_code: code,
      grant_type: 'authorization_code',
    });
    const session = await (await fetch(`${WECHAT}/sns/jscode2session?${q}`)).json();
    if (!session.openid) ctx.throw(401, 'login failed');
    db.prepare('INSERT OR IGNORE INTO users (id, openid) VALUES (?, ?)').run(
      randomUUID(),
      session.openid,
    );
    const user = db.prepare('SELECT * FROM users WHERE openid = ?').get(session.openid);
    const token = randomBytes(24).toString('hex');
    const expires = new Date(Date.now() + 7200_000).toISOString();
    db.prepare('INSERT INTO sessions (token, user_id, expires_at) VALUES (?, ?, ?)').run(
      token,
      user.id,
      expires,
    );
    ctx.body = { token, expiresAt: expires };
    return;
  }
  if (ctx.method === 'POST' && ctx.path === '/api/v1/orders') {
    const token = (ctx.get('authorization') || '').replace(/^Bearer /, '');
    const session = db.prepare('SELECT * FROM sessions WHERE token = ?').get(token);
    if (!session || session.expires_at < new Date().toISOString()) ctx.throw(401, 'log in again');
    const user = db.prepare('SELECT * FROM users WHERE id = ?').get(session.user_id);
    const body = JSON.parse(await getRawBody(ctx.req, { encoding: 'utf8', limit: '64kb' }));
    let total = 0;
    const items = [];
    for (const item of body.items || []) {
      const product = db.prepare('SELECT * FROM products WHERE id = ?').get(item.productId);
      if (!product || !Number.isInteger(item.quantity) || item.quantity < 1)
        ctx.throw(422, 'bad item');
      total += product.price_fen * item.quantity;
      items.push({
        productId: product.id,
        name: product.name,
        quantity: item.quantity,
        unitPriceFen: product.price_fen,
      });
    }
    if (items.length === 0) ctx.throw(400, 'no items');
    const now = new Date().toISOString();
    const order = {
      id: randomUUID(),
      out_trade_no: `SD${Date.now()}${randomBytes(8).toString('hex')}`.slice(0, 32),
      total_fen: total,
    };
    db.prepare(
      "INSERT INTO orders (id, user_id, out_trade_no, status, total_fen, items, created_at, updated_at) VALUES (?, ?, ?, 'CREATED', ?, ?, ?, ?)",
    ).run(order.id, user.id, order.out_trade_no, total, JSON.stringify(items), now, now);
    const prepayId = await unifiedOrder(order, user.openid);
    db.prepare(
      "UPDATE orders SET status = 'PENDING', prepay_id = ?, updated_at = ? WHERE id = ?",
    ).run(prepayId, new Date().toISOString(), order.id);
    const payment = {
      appId: env.BENCH_APPID,
      timeStamp: String(Math.floor(Date.now() / 1000)),
      nonceStr: nonceStr(),
      package: `prepay_id=${prepayId}`,
      signType: 'MD5',
    };
    payment.paySign = sign(payment, env.BENCH_MCH_KEY);
    ctx.status = 201;
    ctx.body = {
      order: {
        id: order.id,
        outTradeNo: order.out_trade_no,
        status: 'PENDING',
        totalFen: total,
        items,
      },
      payment,
    };
    return;
  }
  ctx.status = 404;
});

const server = app.listen(0, '127.0.0.1', () => {
  console.log(`seed-style checkout listening on http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
