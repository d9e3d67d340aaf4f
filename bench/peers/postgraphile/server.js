// PostGraphile 4, run as a library over Concord's PostgreSQL tables: the
// peer that compiles each request into one SQL statement. Its schema is
// generated from the tables, so its pages are written in its own terms
// (queries/ beside this file).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/db PORT=18282 node server.js
"use strict";

const http = require("http");
const pg = require("pg");
const { postgraphile } = require("postgraphile");
const { makePgSmartTagsFromFilePlugin } = require("postgraphile/plugins");
const PgSimplifyInflectorPlugin = require("@graphile-contrib/pg-simplify-inflector");
const ConnectionFilterPlugin = require("postgraphile-plugin-connection-filter");

const port = Number(process.env.PORT || 18282);
// Concord's own pool holds 8 connections; the peer gets as many.
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PG_POOL || 8),
  ssl: false,
});

const handler = postgraphile(pool, "public", {
  appendPlugins: [
    PgSimplifyInflectorPlugin,
    ConnectionFilterPlugin,
    // Concord's tables have no foreign key from a procedure to its guide;
    // the tags file declares one, so that a guide can select its procedure.
    makePgSmartTagsFromFilePlugin(`${__dirname}/postgraphile.tags.json5`),
  ],
  graphqlRoute: "/graphql",
  disableDefaultMutations: true,
  dynamicJson: true,
  setofFunctionsContainNulls: false,
  ignoreRBAC: false,
  disableQueryLog: true,
  enableQueryBatching: false,
  graphiql: false,
  // The plain filter operators only; the search needs `includesInsensitive`.
  graphileBuildOptions: { connectionFilterRelations: false, connectionFilterComputedColumns: false },
});

http.createServer(handler).listen(port, "127.0.0.1", () => {
  console.log(`postgraphile peer ready at http://127.0.0.1:${port}/graphql`);
});
