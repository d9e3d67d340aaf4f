// The supergraph for the federation end-to-end test: Concord + headcount,
// composed with @apollo/composition and served by @apollo/gateway.
//
// Usage: node gateway.mjs CONCORD_URL HEADCOUNT_URL [PORT]
//   (or CONCORD_URL / HEADCOUNT_URL / GATEWAY_PORT in the environment)
//   e.g. node gateway.mjs http://127.0.0.1:8080/graphql http://127.0.0.1:4001/ 4000
// SUPERGRAPH_OUT=FILE also writes the composed supergraph SDL to FILE.
import { writeFileSync } from 'node:fs';
import { composeServices } from '@apollo/composition';
import { ApolloGateway } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { parse } from 'graphql';

const concordUrl = process.argv[2] ?? process.env.CONCORD_URL;
const headcountUrl = process.argv[3] ?? process.env.HEADCOUNT_URL;
const port = Number(process.argv[4] ?? process.env.GATEWAY_PORT ?? 4000);
const host = process.env.GATEWAY_HOST ?? '127.0.0.1';
if (!concordUrl || !headcountUrl) {
  console.error('usage: node gateway.mjs CONCORD_URL HEADCOUNT_URL [PORT]');
  process.exit(2);
}

// A subgraph's federation SDL, as `_service { sdl }` reports it. Concord's
// /graphql wants `content-type: application/json`.
async function fetchSdl(name, url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body: JSON.stringify({ query: '{ _service { sdl } }' }),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`${name}: ${url} answered HTTP ${res.status} with non-JSON: ${text.slice(0, 500)}`);
  }
  const sdl = body?.data?._service?.sdl;
  if (!res.ok || body.errors || typeof sdl !== 'string') {
    throw new Error(`${name}: _service { sdl } failed (HTTP ${res.status}): ${text.slice(0, 2000)}`);
  }
  return sdl;
}

const subgraphs = [
  { name: 'concord', url: concordUrl },
  { name: 'headcount', url: headcountUrl },
];
for (const s of subgraphs) {
  s.typeDefs = parse(await fetchSdl(s.name, s.url));
}

const composed = composeServices(subgraphs);
if (composed.errors && composed.errors.length > 0) {
  console.error(`composition FAILED with ${composed.errors.length} error(s):`);
  for (const e of composed.errors) {
    const code = e.extensions?.code ? `[${e.extensions.code}] ` : '';
    console.error(`  - ${code}${e.message}`);
  }
  process.exit(1);
}
for (const h of composed.hints ?? []) {
  console.error(`composition hint [${h.definition.code}]: ${h.message}`);
}
console.error(`composition ok: ${subgraphs.map((s) => s.name).join(' + ')}, ${composed.hints?.length ?? 0} hint(s)`);
if (process.env.SUPERGRAPH_OUT) {
  writeFileSync(process.env.SUPERGRAPH_OUT, composed.supergraphSdl);
}

const gateway = new ApolloGateway({ supergraphSdl: composed.supergraphSdl });
const server = new ApolloServer({ gateway });
const { url } = await startStandaloneServer(server, { listen: { port, host } });
console.log(`gateway ready at ${url}`);
