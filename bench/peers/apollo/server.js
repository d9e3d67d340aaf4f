// Apollo Server 5 with DataLoader and hand-written SQL over Concord's
// PostgreSQL tables: the peer a team would write by hand. It serves just
// the part of Concord's schema that the pages of bench/queries/ read, under
// the same names, so that the same query text runs against both.
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/db PORT=18281 node server.js
//
// Every relation is loaded by a DataLoader made per request, so a page
// costs one statement per relation per level whatever its size. An
// anonymous reader sees only published guides and procedures and no draft
// standard, as in Concord.
import { ApolloServer } from "@apollo/server";
import { startStandaloneServer } from "@apollo/server/standalone";
import DataLoader from "dataloader";
import pg from "pg";

const port = Number(process.env.PORT || 18281);
// Concord's own pool holds 8 connections; the peer gets as many.
const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PG_POOL || 8),
  ssl: false,
});

const typeDefs = `#graphql
  type Query {
    region(code: String!): Region
    zone(code: String!): Zone
    guides(filter: GuideFilterInput, first: Int): ServiceGuideConnection!
    standards(filter: StandardFilterInput, first: Int): StandardConnection!
  }

  input GuideFilterInput { region: String, zone: String, matter: String, status: GuideStatus }
  input GuidePageFilterInput { matter: String, status: GuideStatus }
  input StandardFilterInput { text: String, status: StandardStatus }

  enum GuideStatus { DRAFT PUBLISHED }
  enum Channel { COUNTER ONLINE MOBILE CROSS_PROVINCE }
  enum StandardLevel { NATIONAL INDUSTRY LOCAL REGIONAL GROUP }
  enum StandardStatus { DRAFT IN_FORCE SUPERSEDED WITHDRAWN }

  type Region {
    code: String!
    nameZh: String!
    nameEn: String!
    zones: [Zone!]!
    guides(filter: GuidePageFilterInput, first: Int): ServiceGuideConnection!
  }

  type Zone {
    code: String!
    nameZh: String!
    nameEn: String!
    members: [Region!]!
  }

  type Category { code: String!, nameZh: String!, nameEn: String! }

  type ServiceMatter {
    code: String!
    nameZh: String!
    nameEn: String!
    category: Category
  }

  type ProcedureStep { position: Int!, name: String!, actor: String!, timeLimitDays: Int! }
  type OperatingProcedure { steps: [ProcedureStep!]!, status: GuideStatus! }

  type ServiceGuide {
    regionCode: String!
    matterCode: String!
    matter: ServiceMatter
    timeLimitDays: Int!
    fee: String!
    feeFen: Int!
    materials: [String!]!
    channels: [Channel!]!
    status: GuideStatus!
    procedure: OperatingProcedure
  }
  type ServiceGuideEdge { node: ServiceGuide! }
  type ServiceGuideConnection { totalCount: Int!, edges: [ServiceGuideEdge!]!, nodes: [ServiceGuide!]! }

  type Standard {
    code: String!
    titleZh: String!
    titleEn: String!
    level: StandardLevel!
    status: StandardStatus!
    matters: [ServiceMatter!]!
  }
  type StandardEdge { node: Standard! }
  type StandardConnection { totalCount: Int!, edges: [StandardEdge!]!, nodes: [Standard!]! }
`;

// Page sizes as Concord's: 20 unless given, at most 100.
function pageSize(first) {
  if (first == null) return 20;
  if (first < 0) throw new Error("first must not be negative");
  return Math.min(first, 100);
}

// A Relay connection over the promised rows of a page. graphql-js calls
// each function only when the query selects its field, and calls them all
// at once, so the count's statement runs beside the page's.
function connection(page, count) {
  // A query that selects only `totalCount` never reads the page; its
  // failure must not go unhandled.
  page.catch(() => {});
  return {
    edges: async () => (await page).map((node) => ({ node })),
    nodes: () => page,
    totalCount: count,
  };
}

async function rows(text, values) {
  return (await pool.query(text, values)).rows;
}

// Groups ROWS by FIELD in the order of KEYS, as DataLoader wants them.
function groupBy(keys, list, field) {
  const groups = new Map(keys.map((k) => [k, []]));
  for (const row of list) groups.get(row[field])?.push(row);
  return keys.map((k) => groups.get(k));
}

function byKey(keys, list, field) {
  const found = new Map(list.map((row) => [row[field], row]));
  return keys.map((k) => found.get(k) ?? null);
}

const GUIDE = `g.region_code, g.matter_code, g.time_limit_days, g.fee_fen, g.materials, g.channels, g.status`;

function loaders() {
  // One loader of nested guide pages per page size, since a page's size is
  // part of the statement.
  const guidePages = new Map();
  return {
    matter: new DataLoader(async (codes) =>
      byKey(codes, await rows(
        `SELECT code, name_zh, name_en, category_code FROM service_matter WHERE code = ANY($1)`, [codes]), "code")),
    category: new DataLoader(async (codes) =>
      byKey(codes, await rows(
        `SELECT code, name_zh, name_en FROM category WHERE code = ANY($1)`, [codes]), "code")),
    zonesOfRegion: new DataLoader(async (regions) =>
      groupBy(regions, await rows(
        `SELECT m.region_code, z.code, z.name_zh, z.name_en
           FROM zone_member m JOIN zone z ON z.code = m.zone_code
          WHERE m.region_code = ANY($1) ORDER BY z.code`, [regions]), "region_code")),
    membersOfZone: new DataLoader(async (zones) =>
      groupBy(zones, await rows(
        `SELECT m.zone_code, r.code, r.name_zh, r.name_en
           FROM zone_member m JOIN region r ON r.code = m.region_code
          WHERE m.zone_code = ANY($1) ORDER BY r.code`, [zones]), "zone_code")),
    mattersOfStandard: new DataLoader(async (standards) =>
      groupBy(standards, await rows(
        `SELECT sm.standard_code, m.code, m.name_zh, m.name_en, m.category_code
           FROM standard_matter sm JOIN service_matter m ON m.code = sm.matter_code
          WHERE sm.standard_code = ANY($1) ORDER BY m.code`, [standards]), "standard_code")),
    // Keyed by "region matter"; the key of a guide and of its procedure.
    procedure: new DataLoader(async (keys) => {
      const regions = keys.map((k) => k.split(" ")[0]);
      const matters = keys.map((k) => k.split(" ")[1]);
      const list = await rows(
        `SELECT p.region_code || ' ' || p.matter_code AS key, p.steps, p.status
           FROM operating_procedure p
           JOIN unnest($1::text[], $2::text[]) AS k(region_code, matter_code)
             ON p.region_code = k.region_code AND p.matter_code = k.matter_code
          WHERE p.status = 'PUBLISHED'`, [regions, matters]);
      return byKey(keys, list, "key");
    }),
    guidePage(first) {
      if (!guidePages.has(first)) {
        guidePages.set(first, new DataLoader(async (regions) =>
          groupBy(regions, await rows(
            `SELECT ${GUIDE}
               FROM unnest($1::text[]) AS r(code)
               CROSS JOIN LATERAL (
                 SELECT * FROM service_guide g
                  WHERE g.region_code = r.code AND g.status = 'PUBLISHED'
                  ORDER BY g.matter_code LIMIT $2) g`, [regions, first]), "region_code")));
      }
      return guidePages.get(first);
    },
    guideCount: new DataLoader(async (regions) => {
      const list = await rows(
        `SELECT region_code, count(*)::int AS n FROM service_guide
          WHERE region_code = ANY($1) AND status = 'PUBLISHED' GROUP BY region_code`, [regions]);
      return byKey(regions, list, "region_code").map((row) => row?.n ?? 0);
    }),
  };
}

// The WHERE clause of a top-level guide page; anonymous readers see
// published guides only, so asking for drafts finds none.
function guideWhere(filter) {
  const where = [`g.status = 'PUBLISHED'`];
  const values = [];
  if (filter?.status === "DRAFT") where.push("false");
  if (filter?.region != null) {
    values.push(filter.region);
    where.push(`g.region_code = $${values.length}`);
  }
  if (filter?.zone != null) {
    values.push(filter.zone);
    where.push(`g.region_code IN (SELECT region_code FROM zone_member WHERE zone_code = $${values.length})`);
  }
  if (filter?.matter != null) {
    values.push(filter.matter);
    where.push(`g.matter_code = $${values.length}`);
  }
  return { where: where.join(" AND "), values };
}

// A case-insensitive substring match, as Concord's: the term's `%`, `_`
// and `\` are taken literally.
function standardWhere(filter) {
  const where = [`s.status <> 'DRAFT'`];
  const values = [];
  if (filter?.status != null) {
    values.push(filter.status);
    where.push(`s.status = $${values.length}`);
  }
  if (filter?.text != null) {
    values.push(filter.text.replace(/[\\%_]/g, (c) => "\\" + c));
    const p = `'%' || lower($${values.length}) || '%'`;
    where.push(`(lower(s.title_zh) LIKE ${p} OR lower(s.title_en) LIKE ${p} OR lower(s.code) LIKE ${p})`);
  }
  return { where: where.join(" AND "), values };
}

function fee(fen) {
  const n = BigInt(fen);
  return `${n / 100n}.${String(n % 100n).padStart(2, "0")}`;
}

const resolvers = {
  Query: {
    region: async (_, { code }) =>
      (await rows(`SELECT code, name_zh, name_en FROM region WHERE code = $1`, [code]))[0] ?? null,
    zone: async (_, { code }) =>
      (await rows(`SELECT code, name_zh, name_en FROM zone WHERE code = $1`, [code]))[0] ?? null,
    guides: (_, { filter, first }) => {
      const { where, values } = guideWhere(filter);
      const page = rows(
        `SELECT ${GUIDE} FROM service_guide g WHERE ${where}
          ORDER BY g.region_code, g.matter_code LIMIT $${values.length + 1}`, [...values, pageSize(first)]);
      return connection(page, async () =>
        (await rows(`SELECT count(*)::int AS n FROM service_guide g WHERE ${where}`, values))[0].n);
    },
    standards: (_, { filter, first }) => {
      const { where, values } = standardWhere(filter);
      const page = rows(
        `SELECT s.code, s.title_zh, s.title_en, s.level, s.status FROM standard s WHERE ${where}
          ORDER BY s.code LIMIT $${values.length + 1}`, [...values, pageSize(first)]);
      return connection(page, async () =>
        (await rows(`SELECT count(*)::int AS n FROM standard s WHERE ${where}`, values))[0].n);
    },
  },
  Region: {
    nameZh: (r) => r.name_zh,
    nameEn: (r) => r.name_en,
    zones: (r, _, { load }) => load.zonesOfRegion.load(r.code),
    guides: (r, { filter, first }, { load }) => {
      // The nested page narrows by status only; other filters are not
      // needed by the benchmark's pages.
      if (filter?.matter != null) throw new Error("Region.guides(filter: {matter}) is not served by this peer");
      if (filter?.status === "DRAFT") return connection(Promise.resolve([]), 0);
      const page = load.guidePage(pageSize(first)).load(r.code);
      return connection(page, () => load.guideCount.load(r.code));
    },
  },
  Zone: {
    nameZh: (z) => z.name_zh,
    nameEn: (z) => z.name_en,
    members: (z, _, { load }) => load.membersOfZone.load(z.code),
  },
  Category: {
    nameZh: (c) => c.name_zh,
    nameEn: (c) => c.name_en,
  },
  ServiceMatter: {
    nameZh: (m) => m.name_zh,
    nameEn: (m) => m.name_en,
    category: (m, _, { load }) => load.category.load(m.category_code),
  },
  OperatingProcedure: {
    steps: (p) => p.steps.map((s, i) => ({ position: i + 1, ...s })),
  },
  ServiceGuide: {
    regionCode: (g) => g.region_code,
    matterCode: (g) => g.matter_code,
    timeLimitDays: (g) => g.time_limit_days,
    fee: (g) => fee(g.fee_fen),
    feeFen: (g) => Number(g.fee_fen),
    matter: (g, _, { load }) => load.matter.load(g.matter_code),
    procedure: (g, _, { load }) => load.procedure.load(`${g.region_code} ${g.matter_code}`),
  },
  Standard: {
    titleZh: (s) => s.title_zh,
    titleEn: (s) => s.title_en,
    matters: (s, _, { load }) => load.mattersOfStandard.load(s.code),
  },
};

const server = new ApolloServer({ typeDefs, resolvers });
const { url } = await startStandaloneServer(server, {
  listen: { host: "127.0.0.1", port },
  context: async () => ({ load: loaders() }),
});
console.log(`apollo peer ready at ${url}`);
