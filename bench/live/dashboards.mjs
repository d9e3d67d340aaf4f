// The distinct dashboard subscriptions of the subscription benchmark: what
// a regional or zonal dashboard keeps open, 50 of them. Each document starts
// with `subscription`, so that bench/run can send the same read as an HTTP
// query (to count, through the response cache, which answers a commit
// touched).

const HEATMAP = `subscription ZoneHeatmap($zone: String!) {
  zoneAlignment(zone: $zone) {
    averageScore
    matters { matter { code } score bestPractice cells { region hasGuide timeLimitDays fee } }
  }
}`;

const ALIGNMENT = `subscription MatterAlignment($zone: String!, $matter: String!) {
  alignment(zone: $zone, matter: $matter) {
    matter { code nameZh }
    score
    scoreParts { coverage timeLimit fee materials channels }
    timeLimit { min max median }
    fee { min max median }
    commonMaterials
    bestPractice { region { code } }
    members { region { code } guide { timeLimitDays fee channels revision } }
    missing { code }
  }
}`;

const REGION = `subscription RegionHeader($code: String!) {
  region(code: $code) { code nameZh nameEn abbreviation pilot zones { code nameZh } }
}`;

const GUIDES = `subscription RegionGuides($region: String!) {
  guides(filter: { region: $region }, first: 20) {
    totalCount
    edges { node { matterCode revision timeLimitDays fee materials channels updatedAt } }
  }
}`;

const STANDARDS = `subscription StandardsSearch($text: String!) {
  standards(filter: { text: $text }, first: 20) {
    totalCount
    edges { node { code titleZh level status } }
  }
}`;

const COVERAGE = `subscription RegionCoverage($region: String!) {
  coverage(region: $region) { region total covered share missingMatters }
}`;

const VIOLATIONS = `subscription ZoneViolations($zone: String!) {
  baselineViolations(zone: $zone) { region matter rule message }
}`;

// Search terms over the generated standards' titles
// ("{就业|社会保险|职业技能|劳动关系}服务规范 第{n}号"): every title, a
// quarter, a twentieth, and one.
const SEARCH_TERMS = ['服务', '社会保险', '就业', '第2', '第17号'];

async function graphql(httpUrl, query, variables) {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (!response.ok || body.errors) {
    throw new Error(`${query.split('\n')[0]}: HTTP ${response.status} ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

// The plan: the dashboards, and the matters whose guides the commits change
// (the first of each region's guide page, so that a commit shows in the
// region's guide list, its zone's heatmap and that matter's alignment).
export async function buildPlan(httpUrl, { commitRegions, matterCount = 4 }) {
  const { zones } = await graphql(httpUrl, '{ zones { code members { code } } }');
  const zoneCodes = ['JJJ', 'YRD', 'GBA', 'CCEC'];
  for (const code of zoneCodes) {
    if (!zones.some((zone) => zone.code === code)) {
      throw new Error(`the data has no zone ${code} (zones: ${zones.map((z) => z.code).join(', ')})`);
    }
  }
  const zoneOf = new Map();
  for (const zone of zones) for (const member of zone.members) if (!zoneOf.has(member.code)) zoneOf.set(member.code, zone.code);
  for (const region of commitRegions) {
    if (!zoneOf.has(region)) throw new Error(`commit region ${region} is in none of the zones`);
  }
  const page = await graphql(
    httpUrl,
    `query($r: String!, $n: Int!) { guides(filter: { region: $r }, first: $n) { edges { node { matterCode } } } }`,
    { r: commitRegions[0], n: matterCount },
  );
  const matters = page.guides.edges.map((edge) => edge.node.matterCode);
  if (matters.length < matterCount) throw new Error(`region ${commitRegions[0]} has fewer than ${matterCount} guides`);

  // The regions a dashboard looks at: each commit region, then the other
  // members of the zones, in zone order.
  const regions = [...commitRegions];
  for (const code of zoneCodes) {
    for (const member of zones.find((zone) => zone.code === code).members) {
      if (!regions.includes(member.code)) regions.push(member.code);
    }
  }
  const dashboards = [];
  const add = (name, query, variables) => dashboards.push({ name, query, variables });
  for (const zone of zoneCodes) add(`zoneAlignment(${zone})`, HEATMAP, { zone });
  for (const zone of zoneCodes) {
    for (const matter of matters) add(`alignment(${zone}, ${matter})`, ALIGNMENT, { zone, matter });
  }
  for (const code of regions.slice(0, 8)) add(`region(${code})`, REGION, { code });
  for (const region of regions.slice(0, 8)) add(`guides(region: ${region})`, GUIDES, { region });
  for (const text of SEARCH_TERMS) add(`standards(text: ${text})`, STANDARDS, { text });
  for (const region of regions.slice(0, 5)) add(`coverage(${region})`, COVERAGE, { region });
  for (const zone of zoneCodes) add(`baselineViolations(${zone})`, VIOLATIONS, { zone });
  return {
    dashboards,
    matters,
    zones: Object.fromEntries(commitRegions.map((region) => [region, zoneOf.get(region)])),
  };
}
