// The two assertions of the federation end-to-end test (run.sh runs them).
//
// node check.mjs gateway GATEWAY_URL    one query through the gateway that
//                                       needs both subgraphs
// node check.mjs entities CONCORD_URL   _entities straight against Concord
//
// Exit 0 and "ok - ..." when it holds; exit 1 and "not ok - ..." otherwise.
import { post, runCheck } from '../lib.mjs';
import { HEADCOUNT } from './headcount.mjs';

// The English names Concord seeds for the Yangtze River Delta members.
const YRD = {
  '310000': 'Shanghai',
  '320000': 'Jiangsu',
  '330000': 'Zhejiang',
  '340000': 'Anhui',
};

function same(actual, expected) {
  return JSON.stringify(actual) === JSON.stringify(expected);
}

const checks = {
  async gateway(url) {
    const name = 'gateway: zone(YRD) members with nameEn (concord) and headcount (headcount subgraph)';
    const data = await post(url, '{ zone(code: "YRD") { members { code nameEn headcount } } }');
    const members = data?.zone?.members;
    const expected = Object.entries(YRD).map(([code, nameEn]) => ({
      code,
      nameEn,
      headcount: HEADCOUNT[code],
    }));
    const sorted = Array.isArray(members) ? [...members].sort((a, b) => a.code.localeCompare(b.code)) : members;
    const headcountsKnown = expected.every((m) => Number.isInteger(m.headcount));
    return {
      name,
      ok: headcountsKnown && Array.isArray(members) && members.length === 4 && same(sorted, expected),
      detail: `got ${JSON.stringify(data)}\nwant members ${JSON.stringify(expected)}`,
    };
  },

  async entities(url) {
    const name = 'concord: _entities Region 330000 -> Zhejiang, 999999 -> null';
    const data = await post(
      url,
      'query ($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Region { code nameEn } } }',
      { r: [{ __typename: 'Region', code: '330000' }, { __typename: 'Region', code: '999999' }] },
    );
    const expected = [{ __typename: 'Region', code: '330000', nameEn: 'Zhejiang' }, null];
    return {
      name,
      ok: same(data?._entities, expected),
      detail: `got ${JSON.stringify(data)}\nwant _entities ${JSON.stringify(expected)}`,
    };
  },
};

await runCheck(checks, { script: 'check.mjs', urlName: 'URL' });
