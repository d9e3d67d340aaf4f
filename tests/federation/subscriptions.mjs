// The subscription checks of the Node suite (run.sh runs them): a client
// built on graphql-ws's createClient, over the `ws` WebSocket, against
// Concord's /graphql.
//
// node subscriptions.mjs heatmap CONCORD_URL    an anonymous zoneAlignment(YRD)
//     gets its answer, then Zhejiang's new time limit within 1 s of a publish
// node subscriptions.mjs elsewhere CONCORD_URL  a commit that touches only
//     440000 sends the YRD subscriber nothing for 1.5 s
// node subscriptions.mjs refused CONCORD_URL    an anonymous subscription to
//     drafts ends in an error with extensions.code FORBIDDEN
// node subscriptions.mjs drafts CONCORD_URL     a PROVINCE_ADMIN of 330000,
//     token in connectionParams, sees its own new draft appear
//
// PROVINCE_TOKEN_330000 and PROVINCE_TOKEN_440000 in the environment hold
// PROVINCE_ADMIN tokens for those regions, signed with the server's secret.
// Exit 0 and "ok - ..." when the check holds; exit 1 and "not ok - ..." otherwise.
import { performance } from 'node:perf_hooks';
import { createClient } from 'graphql-ws';
import { WebSocket } from 'ws';
import { SAVED_GUIDE_FIELDS, post, runCheck, saveGuideInput } from '../lib.mjs';

const MATTER = 'SI-CARD-APPLICATION';
// How long to wait for an answer whose timing is not what is checked.
const SETTLE_MS = 5000;

const HEATMAP = `subscription { zoneAlignment(zone: "YRD") {
  averageScore matters { matter { code } cells { region timeLimitDays } } } }`;
const DRAFTS = `subscription { guides(filter: { region: "330000", status: DRAFT }) {
  nodes { matterCode timeLimitDays status } } }`;

function tokenOf(region) {
  const token = process.env[`PROVINCE_TOKEN_${region}`];
  if (!token) throw new Error(`PROVINCE_TOKEN_${region} is not set`);
  return token;
}

// A different time limit than `days`, still within 1 to 250.
const changed = (days) => (days > 200 ? days - 7 : days + 7);

// Saves `region`'s guide for `matter` with a new time limit, as its province
// admin, keeping everything else; publishes it too when `publish`. Answers
// the new time limit and when the last mutation's response came.
async function changeGuide(url, region, matter, { publish }) {
  const token = tokenOf(region);
  const { guide } = await post(
    url,
    `query($r: String!, $m: String!) { guide(region: $r, matter: $m) { ${SAVED_GUIDE_FIELDS} } }`,
    { r: region, m: matter },
    token,
  );
  if (!guide) throw new Error(`${region} has no guide for ${matter}`);
  const days = changed(guide.timeLimitDays);
  const { saveGuide } = await post(
    url,
    'mutation($input: SaveGuideInput!) { saveGuide(input: $input) { revision } }',
    { input: saveGuideInput(region, matter, guide, days) },
    token,
  );
  if (publish) {
    await post(
      url,
      'mutation($r: String!, $m: String!, $e: Int!) { publishGuide(region: $r, matter: $m, expectedRevision: $e) { status } }',
      { r: region, m: matter, e: saveGuide.revision },
      token,
    );
  }
  return { days, at: performance.now() };
}

// A graphql-ws client of Concord's /graphql; `token` goes in the
// connection_init payload. One attempt only, so that a refused connection
// fails the check instead of being retried.
function connect(url, token) {
  return createClient({
    url: url.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: token ? { authorization: `Bearer ${token}` } : undefined,
    retryAttempts: 0,
  });
}

// Subscribes and records every answer with the time it arrived, and how the
// subscription ended, if it did. client.dispose() ends it.
function watch(client, query) {
  const answers = [];
  let ended = null;
  let wake = () => {};
  client.subscribe(
    { query },
    {
      next(payload) {
        answers.push({ at: performance.now(), payload });
        wake();
      },
      error(error) {
        ended = { error };
        wake();
      },
      complete() {
        ended = { complete: true };
        wake();
      },
    },
  );
  return {
    answers,
    get ended() {
      return ended;
    },
    // Resolves at the next answer or end, or at `deadline` (performance.now() ms).
    settle(deadline) {
      return new Promise((resolve) => {
        const timer = setTimeout(resolve, Math.max(0, deadline - performance.now()));
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    },
    // The first answer from index `from` on that passes `test`, waiting
    // until `deadline`; null when none came by then or the subscription ended.
    async until(test, deadline, from = 0) {
      for (let i = from; ; ) {
        for (; i < answers.length; i++) {
          if (test(answers[i].payload)) return answers[i];
        }
        if (ended || performance.now() >= deadline) return null;
        await this.settle(deadline);
      }
    },
  };
}

function describe(ended) {
  if (!ended) return 'it is still open';
  if (ended.complete) return 'it completed';
  const { error } = ended;
  if (Array.isArray(error)) return `error ${JSON.stringify(error)}`;
  if (error && typeof error.code === 'number') return `the socket closed: ${error.code} ${error.reason}`;
  return `error ${error}`;
}

// How long after (or, when the answer beat the HTTP response, before) a mutation answered.
const lag = (ms) => (ms < 0 ? `${Math.round(-ms)} ms before` : `${Math.round(ms)} ms after`);

// The time limit the heatmap shows for `region` on MATTER.
function daysIn(payload, region) {
  const matter = payload?.data?.zoneAlignment?.matters?.find((m) => m.matter.code === MATTER);
  return matter?.cells?.find((cell) => cell.region === region)?.timeLimitDays;
}

// What an answer shows of MATTER, for failure messages: the heatmap is long.
function cardCells(payload) {
  if (payload?.errors) return `errors ${JSON.stringify(payload.errors)}`;
  const matter = payload?.data?.zoneAlignment?.matters?.find((m) => m.matter.code === MATTER);
  return matter ? JSON.stringify(matter.cells) : `no ${MATTER} in ${JSON.stringify(payload).slice(0, 500)}`;
}

// Subscribes to the YRD heatmap and waits for its first answer.
async function heatmap(client) {
  const sub = watch(client, HEATMAP);
  const first = await sub.until(() => true, performance.now() + SETTLE_MS);
  if (!first) throw new Error(`no first heatmap within ${SETTLE_MS} ms: ${describe(sub.ended)}`);
  if (typeof first.payload?.data?.zoneAlignment?.averageScore !== 'number' || daysIn(first.payload, '330000') == null) {
    throw new Error(`the first heatmap has no score or no Zhejiang cell for ${MATTER}: ${cardCells(first.payload)}`);
  }
  return sub;
}

const checks = {
  async heatmap(url) {
    const name = `subscriptions: zoneAlignment(YRD) answers, then shows Zhejiang's newly published ${MATTER} time limit within 1 s`;
    const client = connect(url);
    try {
      const sub = await heatmap(client);
      const before = daysIn(sub.answers[0].payload, '330000');
      const published = await changeGuide(url, '330000', MATTER, { publish: true });
      const shown = await sub.until((p) => daysIn(p, '330000') === published.days, published.at + 1000, 1);
      return {
        name,
        ok: shown !== null,
        note: shown && `${before} -> ${published.days} days, ${lag(shown.at - published.at)} publishGuide answered`,
        detail: `want Zhejiang at ${published.days} days (was ${before}) within 1 s of the publish; ${describe(sub.ended)}\n${MATTER} in each answer:\n${sub.answers.map((a) => `${lag(a.at - published.at)} publishGuide answered: ${cardCells(a.payload)}`).join('\n')}`,
      };
    } finally {
      await client.dispose();
    }
  },

  async elsewhere(url) {
    const name = 'subscriptions: a commit that only touches 440000 sends the YRD subscriber nothing for 1.5 s; a 330000 publish still arrives';
    const client = connect(url);
    try {
      const sub = await heatmap(client);
      // Guangdong is not in the Yangtze River Delta.
      const guangdong = await changeGuide(url, '440000', MATTER, { publish: true });
      await sub.until(() => true, guangdong.at + 1500, 1);
      const meanwhile = sub.answers.slice(1);
      const quiet = meanwhile.length === 0 && !sub.ended;
      // Silence proves nothing if the subscription had died: a Zhejiang commit must still arrive.
      const zhejiang = await changeGuide(url, '330000', MATTER, { publish: true });
      const alive = await sub.until((p) => daysIn(p, '330000') === zhejiang.days, zhejiang.at + SETTLE_MS, 1);
      return {
        name,
        ok: quiet && alive !== null,
        detail: quiet
          ? `nothing came for 1.5 s, but no answer showed Zhejiang at ${zhejiang.days} days within ${SETTLE_MS} ms either; ${describe(sub.ended)}`
          : `within 1.5 s of the 440000 publish: ${meanwhile.length} answers (${describe(sub.ended)}); ${MATTER} in the first of them: ${cardCells(meanwhile[0]?.payload)}`,
      };
    } finally {
      await client.dispose();
    }
  },

  async refused(url) {
    const name = 'subscriptions: an anonymous subscription to 330000 drafts is refused with FORBIDDEN';
    const client = connect(url);
    try {
      const sub = watch(client, 'subscription { guides(filter: { region: "330000", status: DRAFT }) { nodes { matterCode } } }');
      await sub.until(() => false, performance.now() + SETTLE_MS);
      const error = sub.ended?.error;
      return {
        name,
        ok: sub.answers.length === 0 && Array.isArray(error) && error[0]?.extensions?.code === 'FORBIDDEN',
        detail: `want no answer and an error with extensions.code FORBIDDEN; got ${sub.answers.length} answers, ${describe(sub.ended)}`,
      };
    } finally {
      await client.dispose();
    }
  },

  async drafts(url) {
    const name = 'subscriptions: a PROVINCE_ADMIN of 330000 (token in connectionParams) sees its own new draft appear';
    const matter = 'SI-PENSION-TRANSFER';
    const client = connect(url, tokenOf('330000'));
    try {
      const sub = watch(client, DRAFTS);
      const first = await sub.until(() => true, performance.now() + SETTLE_MS);
      if (!first) throw new Error(`no first answer within ${SETTLE_MS} ms: ${describe(sub.ended)}`);
      const isDraft = (days) => (p) =>
        p?.data?.guides?.nodes?.some((g) => g.matterCode === matter && g.timeLimitDays === days && g.status === 'DRAFT');
      const saved = await changeGuide(url, '330000', matter, { publish: false });
      const shown = await sub.until(isDraft(saved.days), saved.at + SETTLE_MS, 1);
      return {
        name,
        ok: !isDraft(saved.days)(first.payload) && shown !== null,
        detail: `want a DRAFT of ${matter} at ${saved.days} days, absent at first; first ${JSON.stringify(first.payload)}, last ${JSON.stringify(sub.answers.at(-1).payload)}; ${describe(sub.ended)}`,
      };
    } finally {
      await client.dispose();
    }
  },
};

await runCheck(checks, {
  script: 'subscriptions.mjs',
  urlName: 'CONCORD_URL',
  label: (which) => `subscriptions ${which}`,
});
