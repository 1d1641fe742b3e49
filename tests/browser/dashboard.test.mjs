// The staff dashboard in a real browser: `fanorder demo`, then `fanorder serve`, then Debian's
// headless Chromium driven by playwright-core. Orders are placed over the API (as an
// integrator or the bot would) and must appear on the boards without a reload.
//
//   FANORDER_BIN=target/debug/fanorder node --test tests/browser/dashboard.test.mjs
//
// Screenshots go to $SCREENSHOTS (default: artifacts/screenshots at the repository root).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const bin = resolve(root, process.env.FANORDER_BIN || 'target/debug/fanorder');
const shots = resolve(root, process.env.SCREENSHOTS || 'artifacts/screenshots');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const SLUG = 'demo-thai';
const PASSWORD = 'demo-password';
const PHONE = { width: 390, height: 844 };
const WALL = { width: 1920, height: 1080 };

let server;
let base;
let browser;
let workdir;
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FANORDER_')));

before(async () => {
  mkdirSync(shots, { recursive: true });
  workdir = mkdtempSync(join(tmpdir(), 'fanorder-browser-'));
  const demo = spawnSync(bin, ['demo'], { cwd: workdir, env: { ...env, FANORDER_LOG: 'warn' }, encoding: 'utf8' });
  assert.equal(demo.status, 0, demo.stderr);
  base = await startServer('127.0.0.1:0');
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
  });
});

/** Starts `fanorder serve` on `addr` in the demo's folder; returns its base URL. */
async function startServer(addr) {
  server = spawn(bin, ['serve', '--addr', addr], { cwd: workdir, env: { ...env, FANORDER_LOG: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((ok, fail) => {
    const lines = createInterface({ input: server.stdout });
    lines.once('line', ok);
    server.once('exit', (code) => fail(new Error(`serve exited with ${code}`)));
  });
  return line.match(/http:\/\/[^\s]+/)[0];
}

/** Stops the server (SIGTERM, as a deploy does) and starts it again at the same address. */
async function restartServer() {
  const stopped = new Promise((ok) => server.once('exit', ok));
  server.kill('SIGTERM');
  const code = await stopped;
  assert.equal(code, 0, 'a graceful stop, even with live dashboards connected');
  await startServer(base.replace('http://', ''));
}

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
});

async function api(method, path, token, body) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

async function token(who) {
  const login = await api('POST', '/v1/auth/login', null, { tenant: SLUG, email: `${who}@${SLUG}.example`, password: PASSWORD });
  return login.access_token;
}

/** A cash order placed by the owner: straight into the kitchen queue. */
async function placeOrder(fulfillment = 'pickup') {
  const owner = await token('owner');
  const items = await api('GET', '/v1/menu/items?limit=100', owner);
  const coke = items.items.find((i) => i.name === 'Coke');
  const body = { fulfillment, payment_method: 'cash', phone: '+66 81 234 5678', lines: [{ item_id: coke.id, quantity: 2 }], note: 'no ice' };
  if (fulfillment === 'delivery') body.address = { line1: '12 Sukhumvit Soi 11' };
  return api('POST', '/v1/orders', owner, body);
}

async function loggedIn(viewport, who) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(`${base}/`);
  await page.fill('input[name=tenant]', SLUG);
  await page.fill('input[name=email]', `${who}@${SLUG}.example`);
  await page.fill('input[name=password]', PASSWORD);
  await page.click('button[type=submit]');
  await page.waitForSelector('.boards');
  await page.waitForSelector('body[data-live="on"]');
  // Marks this document: a reload would lose it.
  await page.evaluate(() => { window.__sameDocument = true; });
  return { context, page, errors };
}

const card = (number, status) => `.column[data-status="${status}"] article.order[data-number="${number}"]`;

test('a cook sees a new order live, starts it and sends it out as ready', async () => {
  const { context, page, errors } = await loggedIn(PHONE, 'cook');
  const order = await placeOrder();
  await page.waitForSelector(card(order.number, 'PAID'), { timeout: 10_000 });
  const text = await page.textContent(card(order.number, 'PAID'));
  assert.match(text, /2× Coke/);
  assert.match(text, /no ice/);
  await page.screenshot({ path: join(shots, 'kitchen-phone.png'), fullPage: true });

  await page.click(`${card(order.number, 'PAID')} button[data-to="IN_KITCHEN"]`);
  await page.waitForSelector(card(order.number, 'IN_KITCHEN'));
  await page.click(`${card(order.number, 'IN_KITCHEN')} button[data-to="READY"]`);
  await page.waitForSelector(`article.order[data-number="${order.number}"]`, { state: 'detached' });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
  assert.deepEqual(errors, []);
  await context.close();
});

test('a packer hands over a ready pickup order', async () => {
  const order = await placeOrder();
  const cook = await token('cook');
  let current = await api('POST', `/v1/orders/${order.id}/transitions`, cook, { to: 'IN_KITCHEN', version: order.version });
  current = await api('POST', `/v1/orders/${order.id}/transitions`, cook, { to: 'READY', version: current.version });
  const { context, page, errors } = await loggedIn(PHONE, 'packer');
  await page.waitForSelector(card(order.number, 'READY'));
  await page.screenshot({ path: join(shots, 'packer-phone.png'), fullPage: true });
  await page.click(`${card(order.number, 'READY')} button[data-to="PICKED_UP"]`);
  await page.waitForSelector(`article.order[data-number="${order.number}"]`, { state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a driver delivers, and a screen that lost the server catches up by itself', async () => {
  const { context, page, errors } = await loggedIn(PHONE, 'driver');
  // The server restarts, and the screen cannot reach it for a while: changes happen meanwhile.
  await page.route('**/v1/stream', (route) => route.abort());
  await restartServer();
  await page.waitForSelector('body[data-live="off"]', { timeout: 15_000 });
  const order = await placeOrder('delivery');
  const cook = await token('cook');
  const packer = await token('packer');
  let current = await api('POST', `/v1/orders/${order.id}/transitions`, cook, { to: 'IN_KITCHEN', version: order.version });
  current = await api('POST', `/v1/orders/${order.id}/transitions`, cook, { to: 'READY', version: current.version });
  current = await api('POST', `/v1/orders/${order.id}/transitions`, packer, { to: 'OUT_FOR_DELIVERY', version: current.version });
  await page.unroute('**/v1/stream');
  await page.waitForSelector(card(order.number, 'OUT_FOR_DELIVERY'), { timeout: 20_000 });
  assert.match(await page.textContent(card(order.number, 'OUT_FOR_DELIVERY')), /Sukhumvit/);
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
  await page.click(`${card(order.number, 'OUT_FOR_DELIVERY')} button[data-to="DELIVERED"]`);
  await page.waitForSelector(`article.order[data-number="${order.number}"]`, { state: 'detached' });
  assert.deepEqual(errors, []);
  await context.close();
});

test('an admin sees every board, the reports and a receipt on a wall screen', async () => {
  await placeOrder();
  const { context, page, errors } = await loggedIn(WALL, 'owner');
  await page.waitForSelector('.column[data-status="PAID"] article.order');
  await page.screenshot({ path: join(shots, 'orders-wall.png') });
  await page.click('#tabs button[data-view="reports"]');
  await page.waitForSelector('#report table tbody tr');
  const totals = await page.textContent('#report table tbody tr:last-child');
  assert.match(totals, /Total/);
  await page.screenshot({ path: join(shots, 'reports-wall.png') });
  await page.click('#tabs button[data-view="menu"]');
  await page.waitForSelector('table tbody tr');
  await page.screenshot({ path: join(shots, 'menu-wall.png') });
  await page.click('#tabs button[data-view="pages"]');
  await page.waitForSelector('h3');
  await page.click('#tabs button[data-view="board"]');
  const [popup] = await Promise.all([
    context.waitForEvent('page'),
    page.click('.column[data-status="PAID"] article.order button:has-text("Receipt")'),
  ]);
  await popup.waitForSelector('.num');
  assert.match(await popup.textContent('body'), /Coke/);
  await popup.screenshot({ path: join(shots, 'receipt.png'), fullPage: true });
  assert.deepEqual(errors, []);
  await context.close();
});

test('a wrong password is refused on the page, and the kitchen board fits a wall screen', async () => {
  const context = await browser.newContext({ viewport: WALL });
  const page = await context.newPage();
  await page.goto(`${base}/dashboard`);
  await page.fill('input[name=tenant]', SLUG);
  await page.fill('input[name=email]', `cook@${SLUG}.example`);
  await page.fill('input[name=password]', 'wrong-password');
  await page.click('button[type=submit]');
  await page.waitForSelector('#login-error:not(:empty)');
  await context.close();
  const wall = await loggedIn(WALL, 'cook');
  await placeOrder();
  await wall.page.waitForSelector('.column[data-status="PAID"] article.order');
  await wall.page.screenshot({ path: join(shots, 'kitchen-wall.png') });
  await wall.context.close();
});
