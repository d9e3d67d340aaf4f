// A tiny second subgraph for the federation end-to-end test: it adds
// `headcount` to Concord's Region entity, joined on Region's key `code`.
//
// Usage: node headcount.mjs [PORT]   (or HEADCOUNT_PORT=PORT; default 4001)
//
// The numbers below are ILLUSTRATIVE test data, made up for this test. They
// are NOT official statistics of any HR&SS department.
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';
import { pathToFileURL } from 'node:url';

// ILLUSTRATIVE: HR&SS staff at public service points, by GB/T 2260 region code.
export const HEADCOUNT = {
  '310000': 4120, // Shanghai
  '320000': 9350, // Jiangsu
  '330000': 8240, // Zhejiang
  '340000': 6710, // Anhui
  '110000': 3980, // Beijing
  '120000': 2150, // Tianjin
  '130000': 7020, // Hebei
};

const typeDefs = parse(/* GraphQL */ `
  extend schema
    @link(url: "https://specs.apollo.dev/federation/v2.5", import: ["@key"])

  type Region @key(fields: "code") {
    code: String! # the key shared with Concord (its description is Concord's)
    """
    HR&SS staff at public service points in the region. ILLUSTRATIVE test
    numbers, not official statistics; null when the region is unknown here.
    """
    headcount: Int
  }
`);

const resolvers = {
  Region: {
    __resolveReference({ code }) {
      return { code, headcount: HEADCOUNT[code] ?? null };
    },
  },
};

export const schema = buildSubgraphSchema({ typeDefs, resolvers });

// Serve only when run as a script (run.sh imports HEADCOUNT to check answers).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? process.env.HEADCOUNT_PORT ?? 4001);
  const host = process.env.HEADCOUNT_HOST ?? '127.0.0.1';
  const server = new ApolloServer({ schema });
  const { url } = await startStandaloneServer(server, { listen: { port, host } });
  console.log(`headcount subgraph ready at ${url}`);
}
