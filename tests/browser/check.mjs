// Drives headless Chromium through Concord's dashboard and GraphiQL, with
// every request to another host blocked, and compares what the pages show
// with what the API answers. The dashboard's WebSocket to Concord goes
// through a route, so that the test can cut it and see the page fall back
// to queries. Run by run.sh: node check.mjs BASE_URL
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { SAVED_GUIDE_FIELDS, post, saveGuideInput } from '../lib.mjs';

const base = process.argv[2];
const origin = new URL(base).origin;
const { CONCORD_BIN, CONCORD_DATABASE, CHROMIUM, SCREENSHOTS, PROFILE } = process.env;
const ZONE = 'YRD';
// Zhejiang, a member of ZONE, whose guide the live check changes.
const LIVE_REGION = '330000';

let passed = 0;
function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  passed += 1;
  console.log(`browser: ok - ${what}`);
}

function api(query, variables = {}, token = null) {
  return post(`${base}/graphql`, query, variables, token);
}

/** Saves `region`'s guide for `matter` with a new time limit and publishes it, as that province's admin. */
async function publishTimeLimit(region, matter, days) {
  const token = provinceToken(region);
  const guide = (
    await api(
      `query($region: String!, $matter: String!) { guide(region: $region, matter: $matter) {
        ${SAVED_GUIDE_FIELDS} } }`,
      { region, matter },
    )
  ).guide;
  const saved = (
    await api(
      `mutation($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }`,
      { input: saveGuideInput(region, matter, guide, days) },
      token,
    )
  ).saveGuide;
  await api(
    `mutation($region: String!, $matter: String!, $revision: Int!) {
      publishGuide(region: $region, matter: $matter, expectedRevision: $revision) { status } }`,
    { region, matter, revision: saved.revision },
    token,
  );
  return guide.timeLimitDays;
}

/**
 * A time limit as far from `days` as publishing `region`'s guide for
 * `matter` allows: no shorter than its published procedure's steps add up
 * to, no longer than its national item's baseline (else the API's 250).
 */
async function changed(region, matter, days) {
  const { guide } = await api(
    `query($region: String!, $matter: String!) { guide(region: $region, matter: $matter) {
      procedure { totalTimeLimitDays } matter { nationalItem { maxTimeLimitDays } } } }`,
    { region, matter },
  );
  const low = Math.max(1, guide.procedure?.totalTimeLimitDays ?? 1);
  const high = guide.matter?.nationalItem?.maxTimeLimitDays ?? 250;
  const limit = high - days >= days - low ? high : low;
  if (limit === days) throw new Error(`${region}/${matter}: no time limit but ${days} can be published`);
  return limit;
}

function provinceToken(region) {
  return execFileSync(
    CONCORD_BIN,
    ['token', '--role', 'PROVINCE_ADMIN', '--region', region, '--ttl', '10m', '--sub', 'browser-test', '--database', CONCORD_DATABASE],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  ).trim();
}

mkdirSync(PROFILE, { recursive: true });
const context = await chromium.launchPersistentContext(PROFILE, {
  executablePath: CHROMIUM,
  headless: true,
  viewport: { width: 1440, height: 1000 },
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
});

// Every request the pages make must go to Concord; anything else is
// aborted and fails the test.
const foreign = [];
let local = 0;
// The dashboard's sockets to Concord that are open now, and whether new
// ones are refused (closed at once, as a proxy without WebSockets would).
const host = new URL(base).host;
let sockets = [];
let refuseSockets = false;
await context.route('**/*', (route) => {
  const url = new URL(route.request().url());
  if (url.origin === origin) {
    local += 1;
    return route.continue();
  }
  foreign.push(url.href);
  return route.abort('blockedbyclient');
});
await context.routeWebSocket(/.*/, (socket) => {
  const url = new URL(socket.url());
  if (url.host !== host || !['ws:', 'wss:'].includes(url.protocol)) {
    foreign.push(socket.url());
    socket.close();
    return;
  }
  local += 1;
  if (refuseSockets) {
    socket.close({ code: 1013, reason: 'refused by the test' });
    return;
  }
  socket.connectToServer();
  sockets.push(socket);
  socket.onClose(() => {
    sockets = sockets.filter((s) => s !== socket);
  });
});
// The zone's heatmap read over HTTP: live, the dashboard subscribes to it instead.
let matrixQueries = 0;
const pageErrors = [];

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });
  page.on('request', (request) => {
    if (request.method() === 'POST' && (request.postData() || '').includes('zoneAlignment(')) matrixQueries += 1;
  });

  // ------------------------------------------------------------ dashboard
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-loaded]');
  await page.selectOption('#zone', ZONE);
  await page.waitForSelector(`body[data-loaded="${ZONE}"]`);
  check((await page.textContent('h1')).includes('区域协同看板'), 'the dashboard opens in Chinese');
  check(
    (await page.getAttribute('#live', 'data-state')) === 'live' && (await page.textContent('#live')) === '实时',
    'the live indicator says 实时 (live): the page subscribed over its WebSocket',
  );

  const matrixQuery = `query($zone: String!) { zoneAlignment(zone: $zone) {
    members { code }
    matters { matter { code } bestPractice cells { region hasGuide timeLimitDays } } } }`;
  const matrix = (await api(matrixQuery, { zone: ZONE })).zoneAlignment;
  const expected = matrix.matters.length * matrix.members.length;
  const cells = await page.$$eval('#heatmap td.cell', (tds) =>
    tds.map((td) => ({ region: td.dataset.region, matter: td.dataset.matter, timeLimit: td.dataset.timeLimit })),
  );
  check(
    cells.length === expected && expected > 0,
    `the heatmap has matters × members = ${matrix.matters.length} × ${matrix.members.length} = ${expected} cells (found ${cells.length})`,
  );
  const fromApi = new Map(
    matrix.matters.flatMap((row) =>
      row.cells.map((c) => [`${c.region}/${row.matter.code}`, c.hasGuide ? String(c.timeLimitDays) : '']),
    ),
  );
  check(
    cells.every((c) => fromApi.get(`${c.region}/${c.matter}`) === c.timeLimit),
    'every cell shows the time limit the API gives for its member and matter',
  );
  const labelled = await page.$$eval('#heatmap td.cell', (tds) => tds.every((td) => td.getAttribute('aria-label')));
  check(labelled, 'every cell has an accessible label with its values');

  // A published guide that is not the row's best practice.
  const row = matrix.matters.find((r) => r.cells.some((c) => c.hasGuide && c.region !== r.bestPractice));
  const target = row.cells.find((c) => c.hasGuide && c.region !== row.bestPractice);
  const matter = row.matter.code;
  const region = target.region;
  const cellSelector = `#heatmap td.cell[data-region="${region}"][data-matter="${matter}"]`;

  // Hover shows the values; so does keyboard focus.
  await page.hover(cellSelector);
  check(
    (await page.isVisible('#tip')) && (await page.textContent('#tip')).includes('办理时限'),
    'hovering a cell shows its values',
  );
  await page.focus('#heatmap td.cell[data-row="0"][data-col="0"]');
  await page.keyboard.press('ArrowRight');
  const moved = await page.evaluate(() => ({
    ...document.activeElement.dataset,
    label: document.activeElement.getAttribute('aria-label'),
  }));
  check(moved.row === '0' && moved.col === '1', 'the arrow keys move between cells');
  check(
    (await page.isVisible('#tip')) && (await page.textContent('#tip')) === moved.label,
    'a focused cell shows its values',
  );
  await page.keyboard.press('Enter');
  await page.waitForSelector('#detail[open] #detail-table');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('detail').open);
  const back = await page.evaluate(() => ({ ...document.activeElement.dataset }));
  check(back.row === '0' && back.col === '1', 'Enter opens the side-by-side view and Escape closes it, back on the cell');

  // Side by side, against the API.
  await page.click(cellSelector);
  await page.waitForSelector(`#detail[open] #detail-table td[data-region="${region}"][data-field="timeLimitDays"]`);
  const alignment = (
    await api(
      `query($zone: String!, $matter: String!) { alignment(zone: $zone, matter: $matter) {
        members { region { code } guide { timeLimitDays fee materials channels } } } }`,
      { zone: ZONE, matter },
    )
  ).alignment;
  const shown = await page.$$eval('#detail-table td[data-field]', (tds) =>
    tds.map((td) => [`${td.dataset.region}/${td.dataset.field}`, JSON.parse(td.dataset.value)]),
  );
  const side = new Map(shown);
  let compared = 0;
  for (const { region: member, guide } of alignment.members) {
    if (!guide) continue;
    for (const field of ['timeLimitDays', 'fee', 'materials', 'channels']) {
      const value = side.get(`${member.code}/${field}`);
      if (JSON.stringify(value) !== JSON.stringify(guide[field])) {
        throw new Error(`side by side: ${member.code} ${field} shows ${JSON.stringify(value)}, API ${JSON.stringify(guide[field])}`);
      }
      compared += 1;
    }
  }
  check(compared >= 8, `the side-by-side view shows the API's time limit, fee, materials and channels (${compared} values)`);
  check(
    (await page.$$('#detail-table td.diff')).length > 0,
    'differences from the best practice are highlighted',
  );
  await page.screenshot({ path: `${SCREENSHOTS}/side-by-side.png` });
  await page.click('#detail-close');
  await page.waitForFunction(() => !document.getElementById('detail').open);

  // Live: with the side-by-side view of a Zhejiang guide open and the rows
  // sorted by score, highest first, a change published through the API
  // reaches the heatmap and the open view with no Refresh.
  const liveRow = matrix.matters.find((r) => r.cells.some((c) => c.region === LIVE_REGION && c.hasGuide));
  const liveMatter = liveRow.matter.code;
  const liveCell = `#heatmap td.cell[data-region="${LIVE_REGION}"][data-matter="${liveMatter}"]`;
  await page.selectOption('#sort', 'score-desc');
  await page.click(liveCell);
  const liveSide = `#detail[open] #detail-table td[data-region="${LIVE_REGION}"][data-field="timeLimitDays"]`;
  await page.waitForSelector(liveSide);
  const oldLimit = Number(await page.$eval(liveCell, (td) => td.dataset.timeLimit));
  const liveLimit = await changed(LIVE_REGION, liveMatter, oldLimit);
  await publishTimeLimit(LIVE_REGION, liveMatter, liveLimit);
  await page.waitForSelector(`${liveCell}[data-time-limit="${liveLimit}"]`, { timeout: 5000 });
  check(
    (await page.textContent(liveCell)).includes(String(liveLimit)),
    `after ${LIVE_REGION}'s guide for ${liveMatter} was published with ${liveLimit} days (was ${oldLimit}), its heatmap cell shows it without Refresh`,
  );
  await page.waitForSelector(`${liveSide}[data-value="${liveLimit}"]`, { timeout: 5000 });
  check(true, 'the open side-by-side view updated too and stayed open');
  const scores = await page.$$eval('#heatmap tbody td.score', (tds) => tds.map((td) => Number(td.textContent)));
  check(
    (await page.inputValue('#sort')) === 'score-desc' && scores.every((score, i) => i === 0 || scores[i - 1] >= score),
    'the rows are still sorted by score, highest first',
  );
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.getElementById('detail').open);
  // The page puts the focus back in the dialog's `close` handler, a task
  // after `open` turns false (sooner, the browser may have focused the body,
  // when the cell that opened the view was re-rendered while it was open).
  await page
    .waitForFunction(() => document.activeElement?.matches('#heatmap td.cell'), null, { timeout: 2000 })
    .catch(() => {});
  const focused = () => page.evaluate(() => ({ ...document.activeElement.dataset }));
  const returned = await focused();
  check(
    returned.region === LIVE_REGION && returned.matter === liveMatter,
    'closing the view puts the focus back on the cell that opened it, wherever its row went',
  );
  // Again, with the focus on that cell: the update keeps it there.
  const againLimit = await changed(LIVE_REGION, liveMatter, liveLimit);
  await publishTimeLimit(LIVE_REGION, liveMatter, againLimit);
  await page.waitForSelector(`${liveCell}[data-time-limit="${againLimit}"]`, { timeout: 5000 });
  const kept = await focused();
  check(
    kept.region === LIVE_REGION && kept.matter === liveMatter && kept.timeLimit === String(againLimit),
    `a second update (${liveLimit} → ${againLimit} days) re-rendered the focused cell and kept the focus on it`,
  );
  check(matrixQueries === 0, 'live, the heatmap was loaded and updated over the WebSocket: no zoneAlignment query was sent');

  // The socket drops and cannot be opened again: the page says so, falls
  // back to queries, and Refresh fetches a change published meanwhile.
  refuseSockets = true;
  for (const socket of sockets) await socket.close({ code: 1012, reason: 'dropped by the test' });
  await page.waitForSelector('#live[data-state="offline"]');
  check((await page.textContent('#live')).includes('未实时'), 'when the socket drops, the live indicator says 未实时 (not live)');
  const before = await page.$eval(cellSelector, (td) => ({ distance: td.dataset.distance, timeLimit: td.dataset.timeLimit }));
  const newLimit = await changed(region, matter, Number(before.timeLimit));
  await publishTimeLimit(region, matter, newLimit);
  await page.click('#refresh');
  await page.waitForSelector(`${cellSelector}[data-time-limit="${newLimit}"]`);
  const after = await page.$eval(cellSelector, (td) => ({ distance: td.dataset.distance, colour: td.style.background }));
  check(
    after.distance !== before.distance && matrixQueries > 0,
    `with the socket down, after publishing ${region}'s guide for ${matter} (${before.timeLimit} → ${newLimit} days) and pressing Refresh, the cell changed (distance ${before.distance} → ${after.distance}, colour ${after.colour}), read by query`,
  );

  // A change published while the socket is down reaches the page when the
  // socket comes back (the backoff waits up to 30 s), still without Refresh.
  const missedLimit = await changed(LIVE_REGION, liveMatter, againLimit);
  await publishTimeLimit(LIVE_REGION, liveMatter, missedLimit);
  refuseSockets = false;
  await page.waitForSelector('#live[data-state="live"]', { timeout: 45000 });
  await page.waitForSelector(`${liveCell}[data-time-limit="${missedLimit}"]`, { timeout: 5000 });
  check(true, `the socket reopened by itself and the page caught up with the change made while it was down (${missedLimit} days)`);

  await page.selectOption('#sort', 'score-asc');

  // The other sections.
  const coverageRows = await page.$$('#business-coverage tr');
  check(coverageRows.length === matrix.members.length, 'business coverage lists every member');
  check((await page.$$('#region-coverage tbody tr')).length === matrix.matters.length, 'region coverage lists every matter');
  check((await page.$$('#freshness tbody tr')).length === matrix.members.length, 'freshness lists every member');
  const violations = (await api('query($zone: String!) { baselineViolations(zone: $zone) { region } }', { zone: ZONE }))
    .baselineViolations;
  check(
    (await page.$$('#violation-table tbody tr')).length === violations.length,
    `the baseline violations are listed (${violations.length})`,
  );
  const points = await page.$$('#equalization figure[data-metric="SATISFACTION"] circle.point');
  check(points.length > 0, `satisfaction equalization is charted over ${points.length} periods`);

  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: `${SCREENSHOTS}/dashboard.png` });
  await page.screenshot({ path: `${SCREENSHOTS}/dashboard-full.png`, fullPage: true });

  await page.click('#language');
  check((await page.textContent('h1')).includes('zone dashboard'), 'the language switch turns the labels to English');
  await page.click('#language');

  // ------------------------------------------------------------ GraphiQL
  await page.goto(`${base}/graphql`);
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
  check(true, 'GraphiQL renders from local files');
  await page.evaluate(() =>
    document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('{ regions { code } }'),
  );
  await page.click('.graphiql-execute-button');
  await page.waitForFunction(() => {
    const result = document.querySelector('.graphiql-response .CodeMirror');
    return result && result.CodeMirror.getValue().includes('"regions"');
  });
  const result = JSON.parse(
    await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.getValue()),
  );
  const regions = (await api('{ regions { code } }')).regions.map((r) => r.code);
  check(
    JSON.stringify(result.data.regions.map((r) => r.code)) === JSON.stringify(regions),
    `GraphiQL ran { regions { code } } and shows the ${regions.length} region codes`,
  );
  await page.screenshot({ path: `${SCREENSHOTS}/graphiql.png` });

  check(pageErrors.length === 0, `no script errors (${pageErrors.join(' | ') || 'none'})`);
  check(
    foreign.length === 0 && local > 0,
    `no request left for another host (${local} to Concord, ${foreign.length} elsewhere${foreign.length ? `: ${foreign.join(', ')}` : ''})`,
  );
  console.log(`browser: ${passed} passed, 0 failed`);
} catch (error) {
  console.error(`browser: ${error.message}`);
  console.log(`browser: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  await context.close();
}
