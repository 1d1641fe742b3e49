// fanorder dashboard: the kitchen, packing and driving boards, and the admin views, over the
// same REST API as everything else. No build step, no dependencies: the file the browser runs
// is this file.

const LATE_MINUTES = Number(document.querySelector('meta[name="fanorder-late-after-minutes"]')?.content) || 10;
const $ = (selector, root = document) => root.querySelector(selector);

// ---------------------------------------------------------------------------------------------
// The move table, as the server has it (crates/orders/src/model.rs `movers`). The server checks
// every move again; this only decides which buttons to show.

const MOVES = [
  { from: 'PENDING_PAYMENT', to: 'PAID', label: 'Mark paid (cash)', roles: ['admin'] },
  { from: 'PAID', to: 'IN_KITCHEN', label: 'Start', roles: ['cook', 'admin'] },
  { from: 'IN_KITCHEN', to: 'READY', label: 'Ready', roles: ['cook', 'admin'] },
  { from: 'READY', to: 'OUT_FOR_DELIVERY', label: 'Out for delivery', roles: ['packer', 'admin'], fulfillment: 'delivery' },
  { from: 'READY', to: 'PICKED_UP', label: 'Picked up', roles: ['packer', 'admin'], fulfillment: 'pickup' },
  { from: 'OUT_FOR_DELIVERY', to: 'DELIVERED', label: 'Delivered', roles: ['driver', 'admin'], fulfillment: 'delivery' },
];
const CANCELLABLE = ['PENDING_PAYMENT', 'PAID', 'IN_KITCHEN'];

function movesFor(order, role) {
  return MOVES.filter((m) => m.from === order.status && m.roles.includes(role)
    && (!m.fulfillment || m.fulfillment === order.fulfillment));
}

// The boards each role works from: which statuses, under which heading.
const BOARDS = {
  cook: [['PAID', 'New'], ['IN_KITCHEN', 'Cooking']],
  packer: [['IN_KITCHEN', 'Cooking'], ['READY', 'Ready to hand over']],
  driver: [['READY', 'Ready', (o) => o.fulfillment === 'delivery'], ['OUT_FOR_DELIVERY', 'On the way']],
  admin: [['PENDING_PAYMENT', 'Waiting for payment'], ['PAID', 'New'], ['IN_KITCHEN', 'Cooking'],
    ['READY', 'Ready'], ['OUT_FOR_DELIVERY', 'On the way']],
};

const TABS = {
  cook: [['board', 'Kitchen']],
  packer: [['board', 'Packing']],
  driver: [['board', 'Deliveries']],
  admin: [['board', 'Orders'], ['menu', 'Menu'], ['staff', 'Staff'], ['pages', 'Pages'], ['reports', 'Reports']],
};

// ---------------------------------------------------------------------------------------------
// Session and API

let session = JSON.parse(localStorage.getItem('fanorder.session') || 'null');
let refreshing = null;

function saveSession(next) {
  session = next;
  if (next) localStorage.setItem('fanorder.session', JSON.stringify(next));
  else localStorage.removeItem('fanorder.session');
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function refreshTokens() {
  if (!session?.refresh) return false;
  refreshing ??= (async () => {
    const res = await fetch('/v1/auth/refresh', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh_token: session.refresh }),
    });
    if (!res.ok) return false;
    const tokens = await res.json();
    saveSession({ ...session, access: tokens.access_token, refresh: tokens.refresh_token });
    return true;
  })().finally(() => { refreshing = null; });
  return refreshing;
}

async function api(method, path, body, { raw = false, retried = false } = {}) {
  const headers = { authorization: `Bearer ${session?.access}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401 && !retried) {
    if (await refreshTokens()) return api(method, path, body, { raw, retried: true });
    logout();
    throw new ApiError(401, { detail: 'Please log in again.' });
  }
  if (!res.ok) {
    let problem = null;
    try { problem = await res.json(); } catch { /* not JSON */ }
    throw new ApiError(res.status, problem);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

async function all(path, pages = 5) {
  const items = [];
  let cursor = null;
  for (let i = 0; i < pages; i += 1) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await api('GET', cursor ? `${path}${sep}cursor=${encodeURIComponent(cursor)}` : path);
    items.push(...page.items);
    cursor = page.next_cursor;
    if (!cursor) break;
  }
  return items;
}

function toast(text) {
  const el = $('#toast');
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { el.hidden = true; }, 4000);
}

// ---------------------------------------------------------------------------------------------
// Small DOM helpers: every value from the server goes in as text, never as HTML.

function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function money(minor, currency) {
  try {
    return new Intl.NumberFormat(undefined, { style: 'currency', currency }).format(minor / 100);
  } catch {
    return `${(minor / 100).toFixed(2)} ${currency}`;
  }
}

function age(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  const m = Math.floor(s / 60);
  return m >= 60 ? `${Math.floor(m / 60)}h ${m % 60}m` : `${m}:${String(s % 60).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Boards

const board = { orders: new Map(), fresh: new Set(), timer: null };

function paidAt(order) {
  return Date.parse(order.paid_at || order.created_at);
}

function isLate(order, now) {
  return ['PAID', 'IN_KITCHEN'].includes(order.status) && now - paidAt(order) > LATE_MINUTES * 60_000;
}

async function move(order, to, reason) {
  try {
    await api('POST', `/v1/orders/${order.id}/transitions`, { to, version: order.version, reason });
  } catch (err) {
    toast(err.status === 409 ? 'Someone else moved this order first; the board is up to date now.' : err.message);
  }
  scheduleRefresh(0);
}

async function openReceipt(order) {
  const win = window.open('', '_blank');
  try {
    const res = await api('GET', `/v1/orders/${order.id}/receipt`, undefined, { raw: true });
    const url = URL.createObjectURL(new Blob([await res.text()], { type: 'text/html' }));
    if (win) win.location = url; else window.location = url;
  } catch (err) {
    win?.close();
    toast(err.message);
  }
}

function orderCard(order, now) {
  const lines = order.lines.map((line) => h('li', {},
    `${line.quantity}× ${line.name}`,
    line.modifiers?.length ? h('div', { class: 'mods' }, line.modifiers.map((m) => m.name).join(', ')) : null,
    line.components?.length ? h('div', { class: 'mods' }, line.components.map((c) => `${c.quantity}× ${c.name}`).join(', ')) : null));
  const where = order.fulfillment === 'delivery'
    ? [order.address?.line1, order.address?.line2, order.address?.notes].filter(Boolean).join(', ')
    : 'Pickup';
  const map = order.address?.lat != null
    ? h('a', { href: `https://maps.google.com/?q=${order.address.lat},${order.address.lng}`, target: '_blank', rel: 'noopener' }, 'map')
    : null;
  const actions = movesFor(order, session.role).map((m) => h('button', {
    class: 'move', type: 'button', dataset: { to: m.to }, onclick: (e) => { e.target.disabled = true; move(order, m.to); },
  }, m.label));
  if (session.role === 'admin' && CANCELLABLE.includes(order.status)) {
    actions.push(h('button', {
      class: 'cancel', type: 'button', onclick: () => {
        const reason = prompt(`Cancel order #${order.number}? Reason:`);
        if (reason) move(order, 'CANCELLED', reason);
      },
    }, 'Cancel'));
  }
  actions.push(h('button', { type: 'button', class: 'ghost', onclick: () => openReceipt(order) }, 'Receipt'));
  const late = isLate(order, now);
  return h('article', {
    class: `order${late ? ' late' : ''}${board.fresh.has(order.id) ? ' fresh' : ''}`,
    dataset: { id: order.id, number: order.number, status: order.status },
    'aria-label': `Order ${order.number}`,
  },
  h('header', {},
    h('span', { class: 'no' }, `#${order.number}`),
    h('span', { class: 'age', dataset: { since: paidAt(order) }, title: 'since paid' }, age(now - paidAt(order)))),
  h('div', { class: 'tags' },
    h('span', { class: 'tag' }, order.fulfillment),
    order.payment?.status === 'due' ? h('span', { class: 'tag due' }, `cash due ${money(order.total, order.currency)}`) : null,
    order.channel?.page_id ? h('span', { class: 'tag' }, 'Messenger') : null,
    late ? h('span', { class: 'tag due' }, 'late') : null),
  h('ul', {}, lines),
  order.note ? h('div', { class: 'note' }, order.note) : null,
  ['driver', 'packer', 'admin'].includes(session.role) ? h('div', { class: 'where' }, where, ' ', map,
    order.phone ? h('a', { href: `tel:${order.phone}` }, ` ☎ ${order.phone}`) : null) : null,
  h('div', { class: 'actions' }, actions));
}

function renderBoard() {
  const view = $('#view');
  const now = Date.now();
  const columns = BOARDS[session.role].map(([status, title, keep]) => {
    const orders = [...board.orders.values()]
      .filter((o) => o.status === status && (!keep || keep(o)))
      .sort((a, b) => paidAt(a) - paidAt(b));
    return h('section', { class: 'column', dataset: { status } },
      h('h2', {}, title, h('span', { class: 'count' }, orders.length)),
      h('div', { class: 'orders' }, orders.length ? orders.map((o) => orderCard(o, now)) : h('p', { class: 'empty' }, 'Nothing here')));
  });
  view.replaceChildren(h('div', { class: 'boards' }, columns));
  board.fresh.clear();
}

async function loadBoard() {
  const statuses = BOARDS[session.role].map(([status]) => status);
  const lists = await Promise.all(statuses.map((s) => all(`/v1/orders?status=${s}&limit=100`)));
  const next = new Map();
  for (const order of lists.flat()) next.set(order.id, order);
  for (const id of next.keys()) if (board.orders.size && !board.orders.has(id)) board.fresh.add(id);
  board.orders = next;
  if (current === 'board') renderBoard();
}

function scheduleRefresh(delay = 250) {
  clearTimeout(board.timer);
  board.timer = setTimeout(() => {
    if (current === 'board') loadBoard().catch((err) => toast(err.message));
  }, delay);
}

// The ages tick every second without a reload.
setInterval(() => {
  const now = Date.now();
  for (const el of document.querySelectorAll('.order .age')) el.textContent = age(now - Number(el.dataset.since));
}, 1000);

// ---------------------------------------------------------------------------------------------
// Live updates: the server-sent event stream, read with fetch so the token goes in a header.
// It reconnects by itself and resumes after the last event id; each (re)connect reloads the
// board, so nothing is missed while the network was away.

const live = { lastId: null, seen: new Set(), controller: null, backoff: 1000 };
let soundOn = localStorage.getItem('fanorder.sound') !== 'off';
let audio = null;

function beep() {
  if (!soundOn) return;
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.setValueAtTime(0.25, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.6);
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.6);
  } catch { /* no audio on this device */ }
}

function setLive(on) {
  const el = $('#live');
  el.hidden = false;
  el.classList.toggle('on', on);
  el.textContent = on ? 'live' : 'reconnecting…';
  document.body.dataset.live = on ? 'on' : 'off';
}

function onEvent(id, type, data) {
  if (id) {
    if (live.seen.has(id)) return;
    live.seen.add(id);
    if (live.seen.size > 2000) live.seen = new Set([...live.seen].slice(-1000));
    live.lastId = id;
  }
  if (type === 'resync') { scheduleRefresh(0); return; }
  if (!type.startsWith('order.')) return;
  let event = null;
  try { event = JSON.parse(data); } catch { /* keep going */ }
  const orderId = event?.data?.order_id || event?.data?.order?.id;
  if (orderId) board.fresh.add(orderId);
  if (type === 'order.paid' && ['cook', 'admin'].includes(session.role)) beep();
  scheduleRefresh();
}

async function listen() {
  live.controller?.abort();
  const controller = new AbortController();
  live.controller = controller;
  while (session && !controller.signal.aborted) {
    try {
      const headers = { authorization: `Bearer ${session.access}` };
      if (live.lastId) headers['last-event-id'] = live.lastId;
      const res = await fetch('/v1/stream', { headers, signal: controller.signal });
      if (res.status === 401) {
        if (!(await refreshTokens())) { logout(); return; }
        continue;
      }
      if (!res.ok || !res.body) throw new Error(`stream: HTTP ${res.status}`);
      setLive(true);
      live.backoff = 1000;
      scheduleRefresh(0);
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const frame = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let id = null; let type = 'message'; const data = [];
          for (const line of frame.split('\n')) {
            if (line.startsWith('id:')) id = line.slice(3).trim();
            else if (line.startsWith('event:')) type = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length || type !== 'message') onEvent(id, type, data.join('\n'));
        }
      }
    } catch (err) {
      if (controller.signal.aborted) return;
    }
    setLive(false);
    await new Promise((r) => setTimeout(r, live.backoff));
    live.backoff = Math.min(live.backoff * 2, 10_000);
  }
}

// ---------------------------------------------------------------------------------------------
// Admin views

async function renderMenu() {
  const [items, tenant] = await Promise.all([all('/v1/menu/items?limit=100'), api('GET', '/v1/tenant')]);
  const now = Date.now();
  const rows = items.map((item) => {
    const snoozed = item.snoozed_until && Date.parse(item.snoozed_until) > now;
    const stockInput = h('input', { type: 'number', value: item.stock ?? '', placeholder: 'not counted', style: 'width:7em', 'aria-label': `Stock of ${item.name}` });
    const saveStock = async () => {
      const wanted = stockInput.value === '' ? null : Number(stockInput.value);
      try {
        if (item.stock == null || wanted == null) {
          await api('PATCH', `/v1/menu/items/${item.id}`, { stock: wanted, version: item.version });
        } else if (wanted !== item.stock) {
          await api('POST', `/v1/menu/items/${item.id}/stock`, { delta: wanted - item.stock });
        }
        toast(`${item.name}: stock saved`);
      } catch (err) { toast(err.message); }
      show('menu');
    };
    const snooze = async (minutes) => {
      const until = minutes ? new Date(Date.now() + minutes * 60_000).toISOString() : null;
      try { await api('PATCH', `/v1/menu/items/${item.id}`, { snoozed_until: until, version: item.version }); } catch (err) { toast(err.message); }
      show('menu');
    };
    return h('tr', { dataset: { id: item.id } },
      h('td', {}, item.name),
      h('td', { class: 'num' }, money(item.price, tenant.currency)),
      h('td', {}, stockInput, ' ', h('button', { type: 'button', onclick: saveStock }, 'Save')),
      h('td', {}, snoozed
        ? h('span', {}, `snoozed until ${new Date(item.snoozed_until).toLocaleTimeString()} `, h('button', { type: 'button', onclick: () => snooze(null) }, 'Unsnooze'))
        : h('span', {}, h('button', { type: 'button', onclick: () => snooze(60) }, 'Snooze 1 h'), ' ', h('button', { type: 'button', onclick: () => snooze(24 * 60) }, 'Until tomorrow'))));
  });
  $('#view').replaceChildren(h('div', { class: 'card' }, h('h2', {}, 'Menu items'),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Item'), h('th', { class: 'num' }, 'Price'), h('th', {}, 'Stock'), h('th', {}, 'Available'))),
      h('tbody', {}, rows))));
}

async function renderStaff() {
  const members = await all('/v1/staff?limit=100');
  const form = h('form', { class: 'toolbar' },
    h('label', {}, 'Name', h('input', { name: 'name', required: true })),
    h('label', {}, 'Email', h('input', { name: 'email', type: 'email', required: true })),
    h('label', {}, 'Role', h('select', { name: 'role' }, ['cook', 'packer', 'driver', 'admin'].map((r) => h('option', { value: r }, r)))),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', required: true, minlength: 8 })),
    h('button', { class: 'primary', type: 'submit' }, 'Add'));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(new FormData(form));
    try { await api('POST', '/v1/staff', body); toast(`${body.name} added`); show('staff'); } catch (err) { toast(err.message); }
  });
  $('#view').replaceChildren(h('div', { class: 'card' }, h('h2', {}, 'Staff'), form,
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, 'Name'), h('th', {}, 'Email'), h('th', {}, 'Role'), h('th', {}, 'Status'))),
      h('tbody', {}, members.map((m) => h('tr', {}, h('td', {}, m.name), h('td', {}, m.email), h('td', {}, m.role), h('td', {}, m.status)))))));
}

async function renderConversation(page, psid, target) {
  const messages = (await all(`/v1/pages/${page.page_id}/conversations/${psid}/messages?limit=50`, 1)).reverse();
  const handover = async (action) => {
    try { await api('POST', `/v1/pages/${page.page_id}/conversations/${psid}/handover`, { action }); toast(action === 'take' ? 'You have the conversation; the bot is quiet.' : 'The bot answers again.'); } catch (err) { toast(err.message); }
  };
  target.replaceChildren(h('div', { class: 'card' },
    h('h3', {}, `Customer ${psid}`),
    h('div', { class: 'toolbar' }, h('button', { type: 'button', onclick: () => handover('take') }, 'Take over'), h('button', { type: 'button', onclick: () => handover('release') }, 'Give back to the bot')),
    h('div', { class: 'messages' }, messages.map((m) => h('div', { class: `msg ${m.direction}` },
      m.text || (m.payload?.attachment ? '[card]' : JSON.stringify(m.payload ?? '')),
      h('small', {}, `${new Date(m.at).toLocaleString()} · ${m.delivery}`))))));
}

async function renderPages() {
  const pages = await all('/v1/pages?limit=100');
  const detail = h('div', {});
  const list = h('div', { class: 'card' }, h('h2', {}, 'Pages'));
  for (const page of pages) {
    const conversations = await all(`/v1/pages/${page.page_id}/conversations?limit=50`, 1);
    list.append(h('h3', {}, `${page.name} (${page.page_id}) · ${page.status}${page.has_access_token ? '' : ' · offline'}`),
      h('table', {}, h('tbody', {}, conversations.map((c) => h('tr', {},
        h('td', {}, h('button', { type: 'button', class: 'ghost', onclick: () => renderConversation(page, c.psid, detail) }, c.name || c.psid)),
        h('td', {}, c.handler === 'human' ? 'a person answers' : 'the bot answers'),
        h('td', {}, `${c.cart.length} in cart`),
        h('td', {}, new Date(c.updated_at).toLocaleString()))))));
  }
  if (!pages.length) list.append(h('p', { class: 'empty' }, 'No page connected yet (POST /v1/pages).'));
  $('#view').replaceChildren(h('div', { class: 'grid2' }, list, detail));
}

function barChart(rows, currency) {
  const width = 600; const height = 220; const pad = 28;
  const max = Math.max(1, ...rows.map((r) => r.revenue));
  const step = (width - pad) / Math.max(1, rows.length);
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('class', 'chart');
  svg.setAttribute('role', 'img');
  svg.setAttribute('aria-label', 'Revenue');
  rows.forEach((row, i) => {
    const barHeight = ((height - pad - 10) * Math.max(0, row.revenue)) / max;
    const rect = document.createElementNS(ns, 'rect');
    rect.setAttribute('x', pad + i * step + 2);
    rect.setAttribute('y', height - pad - barHeight);
    rect.setAttribute('width', Math.max(2, step - 4));
    rect.setAttribute('height', barHeight);
    const title = document.createElementNS(ns, 'title');
    title.textContent = `${row.name || row.key}: ${money(row.revenue, currency)}`;
    rect.append(title);
    svg.append(rect);
    if (rows.length <= 31) {
      const label = document.createElementNS(ns, 'text');
      label.setAttribute('x', pad + i * step + step / 2);
      label.setAttribute('y', height - 10);
      label.setAttribute('text-anchor', 'middle');
      label.textContent = (row.name || row.key).slice(-5);
      svg.append(label);
    }
  });
  return svg;
}

async function renderReports(params = {}) {
  const query = new URLSearchParams(Object.entries(params).filter(([, v]) => v));
  const report = await api('GET', `/v1/reports/sales?${query}`);
  // Days without sales are bars of zero, so the chart shows the whole range.
  let bars = report.rows;
  if (report.group_by === 'day') {
    const byDay = new Map(report.rows.map((r) => [r.key, r]));
    bars = [];
    for (let d = new Date(`${report.from}T00:00:00Z`); d <= new Date(`${report.to}T00:00:00Z`); d.setUTCDate(d.getUTCDate() + 1)) {
      const key = d.toISOString().slice(0, 10);
      bars.push(byDay.get(key) || { key, revenue: 0 });
    }
  }
  const form = h('form', { class: 'toolbar' },
    h('label', {}, 'From', h('input', { type: 'date', name: 'from', value: report.from })),
    h('label', {}, 'To', h('input', { type: 'date', name: 'to', value: report.to })),
    h('label', {}, 'By', h('select', { name: 'group_by' }, ['day', 'item', 'location'].map((g) => h('option', { value: g, selected: g === report.group_by }, g)))),
    h('button', { class: 'primary', type: 'submit' }, 'Show'));
  form.addEventListener('submit', (e) => { e.preventDefault(); renderReports(Object.fromEntries(new FormData(form))).catch((err) => toast(err.message)); });
  const minutes = (s) => (s == null ? '–' : `${Math.round(s / 60)} min`);
  const row = (r, name) => h('tr', {}, h('td', {}, name), h('td', { class: 'num' }, r.orders), h('td', { class: 'num' }, r.cancelled),
    h('td', { class: 'num' }, money(r.revenue, report.currency)), h('td', { class: 'num' }, r.quantity ?? ''), h('td', { class: 'num' }, minutes(r.avg_prep_seconds)));
  $('#view').replaceChildren(h('div', { class: 'card', id: 'report' }, h('h2', {}, 'Sales'), form,
    barChart(bars, report.currency),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', {}, report.group_by), h('th', { class: 'num' }, 'Orders'), h('th', { class: 'num' }, 'Cancelled'),
      h('th', { class: 'num' }, 'Revenue'), h('th', { class: 'num' }, 'Units'), h('th', { class: 'num' }, 'Paid → ready'))),
    h('tbody', {}, report.rows.map((r) => row(r, r.name || r.key)), row(report.totals, 'Total')))));
}

// ---------------------------------------------------------------------------------------------
// Navigation

let current = null;
const VIEWS = { board: loadBoard, menu: renderMenu, staff: renderStaff, pages: renderPages, reports: () => renderReports() };

async function show(name) {
  current = name;
  for (const button of document.querySelectorAll('#tabs button')) {
    if (button.dataset.view === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  try {
    if (name === 'board') { board.orders = new Map(); }
    await VIEWS[name]();
  } catch (err) {
    toast(err.message);
  }
}

function start() {
  $('#login').hidden = true;
  $('#view').hidden = false;
  $('#logout').hidden = false;
  $('#sound').hidden = !['cook', 'admin'].includes(session.role);
  $('#sound').textContent = soundOn ? 'Sound on' : 'Sound off';
  $('#who').textContent = `${session.name || session.email} · ${session.role} · ${session.tenant}`;
  $('#tabs').replaceChildren(...(TABS[session.role] || []).map(([view, label]) => h('button', { type: 'button', dataset: { view }, onclick: () => show(view) }, label)));
  show('board');
  listen();
}

function logout() {
  if (session?.refresh) fetch('/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh_token: session.refresh }) }).catch(() => {});
  live.controller?.abort();
  saveSession(null);
  $('#view').hidden = true;
  $('#logout').hidden = true;
  $('#sound').hidden = true;
  $('#live').hidden = true;
  $('#tabs').replaceChildren();
  $('#who').textContent = '';
  $('#login').hidden = false;
}

$('#login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const body = Object.fromEntries(form);
  $('#login-error').textContent = '';
  try {
    const res = await fetch('/v1/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const json = await res.json();
    if (!res.ok) throw new Error(json.detail || 'Login refused');
    if (json.user.role === 'customer') throw new Error('This page is for staff.');
    saveSession({ tenant: body.tenant, email: body.email, name: json.user.name, role: json.user.role, access: json.access_token, refresh: json.refresh_token });
    audio ??= (window.AudioContext ? new AudioContext() : null); // unlocked by this click
    start();
  } catch (err) {
    $('#login-error').textContent = err.message;
  }
});
$('#logout').addEventListener('click', logout);
$('#sound').addEventListener('click', () => {
  soundOn = !soundOn;
  localStorage.setItem('fanorder.sound', soundOn ? 'on' : 'off');
  $('#sound').textContent = soundOn ? 'Sound on' : 'Sound off';
  audio?.resume?.();
});

if (session) start(); else logout();
