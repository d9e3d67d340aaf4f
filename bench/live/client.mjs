#!/usr/bin/env node
// Load client of the subscription benchmark (bench/run, SCENARIOS=subscriptions).
//
//   node client.mjs plan --http URL --commit-regions "330000 440000" --out PLAN.json
//   node client.mjs run --ws URL --http URL --plan PLAN.json --subscribers N --per-connection C
//
// `plan` asks the server what the dashboards look at and writes the plan:
// the distinct subscriptions (see dashboards.mjs) and the matters the
// commits will change.
//
// `run` opens ceil(N / C) WebSocket connections speaking graphql-transport-ws
// (connection_init → connection_ack, then C subscribes each; a server ping
// is answered with a pong). Subscriber i subscribes to dashboard i mod D, so
// every dashboard has N / D subscribers spread over the connections. For
// each subscriber it keeps the last payload text, and counts a message whose
// payload equals the one before as "unchanged" (the server must send none).
//
// It then takes commands on stdin, one JSON object a line, and answers each
// with one JSON line on stdout (progress goes to stderr):
//   {"cmd":"settle"}  waits until no answer has arrived for --quiet ms; says
//                     how many answers arrived outside a commit's window.
//   {"cmd":"commit","k":1,"token":"…","body":{…}}
//                     POSTs the mutation, takes the moment its HTTP response
//                     has been read as t0, and waits until every subscriber of
//                     every dashboard whose answer changed has its new answer
//                     and nothing more arrives for --quiet ms. Each such
//                     subscriber's latency is its arrival time − t0 (negative
//                     when the push overtook the HTTP response).
//   {"cmd":"finish"}  the summary over every commit; closes the sockets.
// All times come from this one process's monotonic clock.

import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import WebSocket from 'ws';

import { buildPlan } from './dashboards.mjs';

const log = (...args) => console.error('   live:', ...args);
const emit = (event) => process.stdout.write(`${JSON.stringify(event)}\n`);
const now = () => performance.now();

function fail(message) {
  emit({ event: 'failed', message });
  console.error(`bench/live/client.mjs: ${message}`);
  process.exit(1);
}

const [mode, ...rest] = process.argv.slice(2);
const { values: opts } = parseArgs({
  args: rest,
  options: {
    http: { type: 'string' },
    ws: { type: 'string' },
    plan: { type: 'string' },
    out: { type: 'string' },
    'commit-regions': { type: 'string' },
    subscribers: { type: 'string', default: '10000' },
    'per-connection': { type: 'string', default: '10' },
    'open-parallel': { type: 'string', default: '50' },
    quiet: { type: 'string', default: '1000' },
    'max-wait': { type: 'string', default: '30000' },
  },
});

if (mode === 'plan') {
  const commitRegions = (opts['commit-regions'] ?? '').split(/[\s,]+/).filter(Boolean);
  if (!opts.http || !opts.out || commitRegions.length === 0) fail('plan needs --http, --out and --commit-regions');
  try {
    const plan = await buildPlan(opts.http, { commitRegions });
    writeFileSync(opts.out, `${JSON.stringify(plan, null, 2)}\n`);
    log(`${plan.dashboards.length} distinct subscriptions; commits change ${plan.matters.join(', ')}`);
  } catch (error) {
    fail(`cannot make the plan: ${error.message}`);
  }
  process.exit(0);
} else if (mode !== 'run') {
  fail('usage: client.mjs plan|run [options]');
}

// --- run ---------------------------------------------------------------------

const plan = JSON.parse(readFileSync(opts.plan, 'utf8'));
const dashboards = plan.dashboards;
const N = Number(opts.subscribers);
const perConnection = Number(opts['per-connection']);
const openParallel = Number(opts['open-parallel']);
const quietMs = Number(opts.quiet);
const maxWaitMs = Number(opts['max-wait']);
if (!(N > 0 && perConnection > 0 && openParallel > 0 && quietMs > 0)) fail('bad --subscribers, --per-connection, --open-parallel or --quiet');
const D = dashboards.length;
const connections = Math.ceil(N / perConnection);

// Per subscriber.
const dashboardOf = Uint16Array.from({ length: N }, (_, i) => i % D);
const last = new Array(N).fill(null); // the last payload's text
const firstAt = new Float64Array(N); // when its first answer came (0: not yet)
const windowAt = new Float64Array(N); // its first new answer in the open window
const windowCount = new Uint32Array(N); // new answers in the open window
const subscribersOf = Array.from({ length: D }, () => []);
for (let i = 0; i < N; i++) subscribersOf[dashboardOf[i]].push(i);

const totals = {
  messages: 0, // `next` messages
  bytes: 0, // their size as received
  unchanged: 0, // a payload equal to the subscriber's previous one
  changesOutside: 0, // new answers outside a commit's window
  errors: 0, // `error` messages, payloads with errors, refused subscriptions
  pings: 0,
  closed: 0, // connections the server closed
};
let firstErrors = [];
let firstAnswers = 0;
let lastNextAt = 0;
let win = null; // the open commit's window: { changed: Set<dashboard>, unchanged, messages, bytes }
let onFirstAnswers = null;

function noteError(text) {
  totals.errors++;
  if (firstErrors.length < 5) firstErrors.push(text.slice(0, 300));
}

// The server writes `{"id":…,"type":…,"payload":…}` in that order; read the
// head with a pattern and the payload as the rest of the text, so that a
// 150 kB heatmap is not parsed for every subscriber. Anything else is parsed.
const HEAD = /^\{"id":"s(\d+)","type":"([a-z_]+)","payload":/;

function onMessage(socket, data) {
  const text = data.toString();
  const head = HEAD.exec(text);
  let subscriber;
  let type;
  let payload;
  if (head) {
    subscriber = Number(head[1]);
    type = head[2];
    payload = text.slice(head[0].length, -1);
  } else {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      noteError(`not JSON: ${text}`);
      return;
    }
    type = message.type;
    if (type === 'ping') {
      totals.pings++;
      socket.send(message.payload === undefined ? '{"type":"pong"}' : JSON.stringify({ type: 'pong', payload: message.payload }));
      return;
    }
    if (type === 'connection_ack') {
      acks.get(socket)?.();
      return;
    }
    if (type === 'pong') return;
    subscriber = typeof message.id === 'string' && message.id.startsWith('s') ? Number(message.id.slice(1)) : NaN;
    payload = message.payload === undefined ? undefined : JSON.stringify(message.payload);
  }
  if (!(subscriber >= 0 && subscriber < N)) {
    noteError(`a message for no subscriber: ${text}`);
    return;
  }
  if (type === 'error' || type === 'complete') {
    noteError(`${type} for ${dashboards[dashboardOf[subscriber]].name}: ${text}`);
    return;
  }
  if (type !== 'next') {
    noteError(`unexpected message: ${text}`);
    return;
  }
  const t = now();
  lastNextAt = t;
  totals.messages++;
  totals.bytes += data.length;
  const previous = last[subscriber];
  if (previous === null || payload.includes('"errors"')) {
    const parsed = JSON.parse(payload);
    if (parsed.errors) noteError(`${dashboards[dashboardOf[subscriber]].name}: ${JSON.stringify(parsed.errors)}`);
  }
  if (previous === null) {
    last[subscriber] = payload;
    firstAt[subscriber] = t;
    firstAnswers++;
    if (firstAnswers === N && onFirstAnswers) onFirstAnswers();
    return;
  }
  if (payload === previous) {
    totals.unchanged++;
    if (win) win.unchanged++;
    return;
  }
  last[subscriber] = payload;
  if (!win) {
    totals.changesOutside++;
    return;
  }
  win.messages++;
  win.bytes += data.length;
  if (windowCount[subscriber]++ === 0) windowAt[subscriber] = t;
  win.changed.add(dashboardOf[subscriber]);
}

const sockets = [];
const acks = new WeakMap(); // socket -> what to do on connection_ack

// Opens connection `c`: init, ack, then its subscribers' subscribes.
function open(c) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(opts.ws, 'graphql-transport-ws', { perMessageDeflate: false });
    sockets.push(socket);
    let acknowledged = false;
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    acks.set(socket, () => {
      acknowledged = true;
      const from = c * perConnection;
      const to = Math.min(N, from + perConnection);
      for (let s = from; s < to; s++) {
        const dashboard = dashboards[dashboardOf[s]];
        socket.send(JSON.stringify({
          id: `s${s}`,
          type: 'subscribe',
          payload: { query: dashboard.query, variables: dashboard.variables },
        }));
      }
      resolve();
    });
    socket.on('message', (data) => onMessage(socket, data));
    socket.on('error', (error) => {
      if (!acknowledged) reject(new Error(`connection ${c}: ${error.message}`));
      else noteError(`connection ${c}: ${error.message}`);
    });
    socket.on('close', (code, reason) => {
      if (finishing) return;
      totals.closed++;
      noteError(`connection ${c} closed: ${code} ${reason}`);
      if (!acknowledged) reject(new Error(`connection ${c} closed before its ack: ${code} ${reason}`));
    });
  });
}

let finishing = false;
const started = now();
const cpuStart = process.cpuUsage();
const clientCpuMs = (since) => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

const allFirst = new Promise((resolve) => {
  onFirstAnswers = resolve;
});
{
  let next = 0;
  const worker = async () => {
    while (next < connections) await open(next++);
  };
  try {
    await Promise.all(Array.from({ length: Math.min(openParallel, connections) }, worker));
  } catch (error) {
    fail(error.message);
  }
}
const openedMs = now() - started;
log(`${connections} connections open and ${N} subscriptions sent in ${openedMs.toFixed(0)} ms`);
{
  const timeout = setTimeout(() => {
    fail(`only ${firstAnswers} of ${N} subscribers had a first answer after 600 s; errors: ${firstErrors.join(' | ')}`);
  }, 600_000);
  await allFirst;
  clearTimeout(timeout);
}
const firstDone = now();
emit({
  event: 'ready',
  subscribers: N,
  connections,
  distinct: D,
  openMs: Math.round(openedMs),
  firstAnswersMs: Math.round(firstDone - started),
  firstAnswerP50Ms: round(percentile(Array.from(firstAt, (t) => t - started), 50)),
  messages: totals.messages,
  bytes: totals.bytes,
  errors: totals.errors,
  firstErrors,
  clientCpuMs: Math.round(clientCpuMs(cpuStart)),
});

// --- commands ----------------------------------------------------------------

function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

function round(value) {
  return value === null ? null : Math.round(value * 10) / 10;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Waits until no answer has arrived for quietMs since `from`.
async function quiet(from, done = () => true, limit = Infinity) {
  for (;;) {
    const t = now();
    if (t - from > limit) return false;
    if (t - Math.max(from, lastNextAt) >= quietMs && done()) return true;
    await sleep(10);
  }
}

const latencies = []; // every affected subscriber of every commit, ms
const commits = [];

async function commit({ k, token, body }) {
  windowCount.fill(0);
  windowAt.fill(0);
  win = { changed: new Set(), unchanged: 0, messages: 0, bytes: 0 };
  const cpu = process.cpuUsage();
  const sent = now();
  let response;
  let text;
  try {
    response = await fetch(opts.http, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    text = await response.text();
  } catch (error) {
    fail(`commit ${k}: ${error.message}`);
  }
  const t0 = now();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = null;
  }
  if (!response.ok || !answer || answer.errors) fail(`commit ${k}: HTTP ${response.status} ${text.slice(0, 500)}`);
  const missing = () => {
    let count = 0;
    for (const d of win.changed) for (const s of subscribersOf[d]) if (windowCount[s] === 0) count++;
    return count;
  };
  const complete = await quiet(t0, () => missing() === 0, maxWaitMs);
  const affected = [];
  let duplicates = 0;
  let latest = -Infinity;
  for (const d of win.changed) {
    for (const s of subscribersOf[d]) {
      if (windowCount[s] === 0) continue;
      const latency = windowAt[s] - t0;
      affected.push(latency);
      latencies.push(latency);
      duplicates += windowCount[s] - 1;
      if (windowAt[s] > latest) latest = windowAt[s];
    }
  }
  const result = {
    event: 'commit',
    k,
    data: answer.data,
    requestMs: round(t0 - sent),
    changed: [...win.changed].sort((a, b) => a - b).map((d) => dashboards[d].name),
    affected: affected.length,
    missing: missing(),
    complete,
    duplicates,
    unchanged: win.unchanged,
    messages: win.messages,
    bytes: win.bytes,
    p50Ms: round(percentile(affected, 50)),
    p99Ms: round(percentile(affected, 99)),
    minMs: round(affected.length ? Math.min(...affected) : null),
    lastMs: round(affected.length ? latest - t0 : null),
    windowMs: Math.round(now() - sent),
    clientCpuMs: Math.round(clientCpuMs(cpu)),
  };
  win = null;
  commits.push(result);
  return result;
}

async function settle() {
  await quiet(now());
  return { event: 'settled', messages: totals.messages, changesOutside: totals.changesOutside, unchanged: totals.unchanged, errors: totals.errors };
}

function finish() {
  finishing = true;
  const summary = {
    event: 'summary',
    subscribers: N,
    connections,
    distinct: D,
    commits: commits.length,
    affected: latencies.length,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.length ? Math.max(...latencies) : null),
    missing: commits.reduce((sum, c) => sum + c.missing, 0),
    duplicates: commits.reduce((sum, c) => sum + c.duplicates, 0),
    ...totals,
    firstErrors,
    clientCpuMs: Math.round(clientCpuMs(cpuStart)),
  };
  for (const socket of sockets) socket.close(1000, 'done');
  return summary;
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let command;
  try {
    command = JSON.parse(line);
  } catch {
    fail(`not a command: ${line}`);
  }
  if (command.cmd === 'commit') {
    emit(await commit(command));
  } else if (command.cmd === 'settle') {
    emit(await settle());
  } else if (command.cmd === 'finish') {
    emit(finish());
    break;
  } else {
    fail(`unknown command ${command.cmd}`);
  }
}
// Let the close frames go out before leaving.
await sleep(200);
process.exit(0);
