// What the Node peers of the end-to-end suites (tests/browser and
// tests/federation) share. It imports no package, so that each suite's own
// node_modules serves.

/**
 * POSTs a GraphQL request to `url`, with `token` as a bearer token when
 * given, and answers its `data`. Throws, quoting the response, on anything
 * but a 200 with JSON and no errors.
 */
export async function post(url, query, variables, token) {
  const headers = { 'content-type': 'application/json', accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`HTTP ${res.status}, not JSON: ${text.slice(0, 500)}`);
  }
  if (res.status !== 200 || body.errors) throw new Error(`HTTP ${res.status}: ${text.slice(0, 2000)}`);
  return body.data;
}

/** The fields of a guide that `saveGuideInput` carries over: query them. */
export const SAVED_GUIDE_FIELDS = 'revision timeLimitDays fee materials channels legalBasis guaranteeLevel';

/**
 * The SaveGuideInput that gives `region`'s guide for `matter`, as read with
 * SAVED_GUIDE_FIELDS, a new time limit and keeps everything else.
 */
export function saveGuideInput(region, matter, guide, timeLimitDays) {
  return {
    region,
    matter,
    timeLimitDays,
    fee: guide.fee,
    materials: guide.materials,
    channels: guide.channels,
    legalBasis: guide.legalBasis,
    guaranteeLevel: guide.guaranteeLevel,
    expectedRevision: guide.revision,
  };
}

/**
 * Runs one of `checks` as the command line names it: `node SCRIPT CHECK URL`.
 * A check answers { name, ok, detail, note? }; this prints "ok - …" and exits
 * 0 when it holds, else "not ok - …" with the detail and exits 1. A thrown
 * error is a failure named by `label(which)`; a wrong call exits 2.
 */
export async function runCheck(checks, { script, urlName, label = (which) => which }) {
  const [which, url] = process.argv.slice(2);
  if (!checks[which] || !url) {
    console.error(`usage: node ${script} ${Object.keys(checks).join('|')} ${urlName}`);
    process.exit(2);
  }
  try {
    const r = await checks[which](url);
    console.log(`${r.ok ? 'ok' : 'not ok'} - ${r.name}${r.ok && r.note ? ` (${r.note})` : ''}`);
    if (!r.ok) console.log(r.detail.replace(/^/gm, '    '));
    process.exit(r.ok ? 0 : 1);
  } catch (e) {
    console.log(`not ok - ${label(which)}: ${e.message}`);
    process.exit(1);
  }
}
