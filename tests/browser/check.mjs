// Drives headless Chromium through Concord's dashboard and GraphiQL, with
// every request to another host blocked, and compares what the pages show
// with what the API answers. Run by run.sh: node check.mjs BASE_URL
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.argv[2];
const origin = new URL(base).origin;
const { CONCORD_BIN, CONCORD_DATABASE, CHROMIUM, SCREENSHOTS, PROFILE } = process.env;
const ZONE = 'YRD';

let passed = 0;
function check(condition, what) {
  if (!condition) throw new Error(`check failed: ${what}`);
  passed += 1;
  console.log(`browser: ok - ${what}`);
}

async function api(query, variables = {}, token = null) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(`${base}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(`API errors: ${JSON.stringify(body.errors)}`);
  return body.data;
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
  foreign.push(socket.url());
  socket.close();
});
const pageErrors = [];

try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (error) => pageErrors.push(String(error)));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(`console: ${message.text()}`);
  });

  // ------------------------------------------------------------ dashboard
  await page.goto(`${base}/`);
  await page.waitForSelector('body[data-loaded]');
  await page.selectOption('#zone', ZONE);
  await page.waitForSelector(`body[data-loaded="${ZONE}"]`);
  check((await page.textContent('h1')).includes('区域协同看板'), 'the dashboard opens in Chinese');

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

  // Change and publish that guide through the API, then refresh.
  const before = await page.$eval(cellSelector, (td) => ({ distance: td.dataset.distance, timeLimit: td.dataset.timeLimit }));
  const token = provinceToken(region);
  const guide = (
    await api(
      `query($region: String!, $matter: String!) { guide(region: $region, matter: $matter) {
        revision timeLimitDays fee materials channels legalBasis guaranteeLevel } }`,
      { region, matter },
    )
  ).guide;
  const newLimit = Math.min(250, guide.timeLimitDays + 37);
  const saved = (
    await api(
      `mutation($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }`,
      {
        input: {
          region,
          matter,
          timeLimitDays: newLimit,
          fee: guide.fee,
          materials: guide.materials,
          channels: guide.channels,
          legalBasis: guide.legalBasis,
          guaranteeLevel: guide.guaranteeLevel,
          expectedRevision: guide.revision,
        },
      },
      token,
    )
  ).saveGuide;
  await api(
    `mutation($region: String!, $matter: String!, $revision: Int!) {
      publishGuide(region: $region, matter: $matter, expectedRevision: $revision) { status } }`,
    { region, matter, revision: saved.revision },
    token,
  );
  await page.click('#refresh');
  await page.waitForSelector(`${cellSelector}[data-time-limit="${newLimit}"]`);
  const after = await page.$eval(cellSelector, (td) => ({ distance: td.dataset.distance, colour: td.style.background }));
  check(
    after.distance !== before.distance,
    `after publishing ${region}'s guide for ${matter} (${before.timeLimit} → ${newLimit} days) and refreshing, the cell changed (distance ${before.distance} → ${after.distance}, colour ${after.colour})`,
  );

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
