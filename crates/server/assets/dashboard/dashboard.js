// Concord's zone dashboard. It reads only the public GraphQL API at
// /graphql, by query and, over a WebSocket there, by subscription, so it
// doubles as a reference client; every chart is SVG drawn here, so the page
// loads nothing but this file and its stylesheet.

const TEXT = {
  title: {
    zh: '人社基本公共服务标准 · 区域协同看板',
    en: 'HR&SS public-service standards · zone dashboard',
  },
  skip: {
    zh: '跳到热力图',
    en: 'Skip to the heatmap',
  },
  zone: {
    zh: '区域',
    en: 'Zone',
  },
  refresh: {
    zh: '刷新',
    en: 'Refresh',
  },
  live: {
    zh: {
      connecting: '正在连接实时更新',
      live: '实时',
      offline: '未实时 · 正在重连',
    },
    en: {
      connecting: 'Connecting live updates',
      live: 'Live',
      offline: 'Not live · reconnecting',
    },
  },
  liveNote: {
    zh: {
      connecting: '正在打开实时连接；页面先通过查询加载。',
      live: '数据变化时，页面自动更新。',
      offline: '实时连接已断开，正在自动重连；在此期间请用“刷新”获取最新数据。',
    },
    en: {
      connecting: 'Opening the live connection; meanwhile the page loads by query.',
      live: 'The page updates itself when the data changes.',
      offline: 'The live connection is down and being reopened; meanwhile, Refresh fetches the latest data.',
    },
  },
  graphiql: {
    zh: 'GraphiQL 查询',
    en: 'GraphiQL',
  },
  heatmap: {
    zh: '对齐热力图',
    en: 'Alignment heatmap',
  },
  heatmapNote: {
    zh:
      '每格是一个成员对一个事项的服务指南；颜色表示与本区域最佳实践（★）的距离：0 为与最佳实践相同，1 为相差最远。方向键在格间移动，回车打开并列对比。',
    en:
      "Each cell is one member's guide for one matter, coloured by its distance from the zone's best practice (★): 0 is the same as the best practice, 1 the farthest. Arrow keys move between cells; Enter opens the side-by-side view.",
  },
  category: {
    zh: '类别',
    en: 'Category',
  },
  allCategories: {
    zh: '全部类别',
    en: 'All categories',
  },
  sort: {
    zh: '排序',
    en: 'Sort',
  },
  sortScoreAsc: {
    zh: '得分从低到高',
    en: 'Score, lowest first',
  },
  sortScoreDesc: {
    zh: '得分从高到低',
    en: 'Score, highest first',
  },
  sortName: {
    zh: '按名称',
    en: 'Name',
  },
  matter: {
    zh: '事项',
    en: 'Matter',
  },
  score: {
    zh: '对齐得分',
    en: 'Score',
  },
  newest: {
    zh: '最新',
    en: 'newest',
  },
  freshness: {
    zh: '数据新鲜度',
    en: 'Freshness',
  },
  freshnessNote: {
    zh: '每个成员在本节点上最新一份已发布指南的更新时间。',
    en: "When each member's newest published guide held by this node last changed.",
  },
  member: {
    zh: '成员',
    en: 'Member',
  },
  newestData: {
    zh: '最新数据',
    en: 'Newest data',
  },
  guidesHeld: {
    zh: '已发布指南',
    en: 'Published guides',
  },
  syncTitle: {
    zh: '同步状态',
    en: 'Sync status',
  },
  syncNeedsToken: {
    zh: '同步状态需要 SYNC_AGENT 或 NATIONAL_ADMIN 令牌（见下方“访问令牌”）。',
    en: 'The sync status needs a SYNC_AGENT or NATIONAL_ADMIN token (see “Access token” below).',
  },
  syncNone: {
    zh: '本节点没有同步任何对等节点：所有数据都在本地写入。',
    en: 'This node syncs from no peer: all its data was written here.',
  },
  peer: {
    zh: '对等节点',
    en: 'Peer',
  },
  lastSuccess: {
    zh: '上次成功',
    en: 'Last success',
  },
  lag: {
    zh: '待同步',
    en: 'Lag',
  },
  lastError: {
    zh: '上次错误',
    en: 'Last error',
  },
  token: {
    zh: '访问令牌',
    en: 'Access token',
  },
  tokenNote: {
    zh: '同步状态需要 SYNC_AGENT 或 NATIONAL_ADMIN 令牌；令牌只保存在本标签页中。',
    en: 'The sync status needs a SYNC_AGENT or NATIONAL_ADMIN token; it is kept in this tab only.',
  },
  tokenLabel: {
    zh: 'Bearer 令牌',
    en: 'Bearer token',
  },
  tokenSave: {
    zh: '使用令牌',
    en: 'Use token',
  },
  coverage: {
    zh: '覆盖率',
    en: 'Coverage',
  },
  businessCoverage: {
    zh: '业务覆盖率（各成员）',
    en: 'Business coverage, per member',
  },
  businessCoverageNote: {
    zh: '有已发布指南和操作规程的事项占目录事项的比例。',
    en: 'The share of catalogue matters with a published guide and procedure.',
  },
  regionCoverage: {
    zh: '区域覆盖率（各事项）',
    en: 'Region coverage, per matter',
  },
  regionCoverageNote: {
    zh: '全国有已发布指南和操作规程的地区占全部地区的比例。',
    en: 'The share of all regions with a published guide and procedure.',
  },
  regions: {
    zh: '地区',
    en: 'Regions',
  },
  equalization: {
    zh: '均等化指数',
    en: 'Equalization index',
  },
  equalizationNote: {
    zh: '各成员取值的变异系数（标准差 ÷ 均值），越低越均等。',
    en: "The coefficient of variation of the members' values (standard deviation ÷ mean); lower is more equal.",
  },
  period: {
    zh: '期间',
    en: 'Period',
  },
  cv: {
    zh: '变异系数',
    en: 'Coefficient of variation',
  },
  mean: {
    zh: '均值',
    en: 'Mean',
  },
  now: {
    zh: '现行',
    en: 'now',
  },
  currentOnly: {
    zh: '取自现行已发布指南；接口只提供当前值，没有历史。',
    en: 'From the published guides in force; the API has the current value only, no history.',
  },
  noPeriods: {
    zh: '本区域还没有评价数据。',
    en: 'This zone has no evaluations yet.',
  },
  dataTable: {
    zh: '数据表',
    en: 'Data table',
  },
  violations: {
    zh: '底线违规',
    en: 'Baseline violations',
  },
  noViolations: {
    zh: '没有违反国家底线标准的已发布指南。',
    en: 'No published guide breaks its national baseline.',
  },
  rule: {
    zh: '规则',
    en: 'Rule',
  },
  detail: {
    zh: '详情',
    en: 'Detail',
  },
  baseline: {
    zh: '底线',
    en: 'Baseline',
  },
  actual: {
    zh: '实际',
    en: 'Actual',
  },
  close: {
    zh: '关闭',
    en: 'Close',
  },
  footer: {
    zh:
      '本页只通过公开的 GraphQL 接口（/graphql）读取数据，所有文件均由本服务器提供。示例数据为说明性数据，并非官方文本。',
    en:
      'This page reads only the public GraphQL API (/graphql), and every file it loads comes from this server. The sample data is illustrative, not official text.',
  },
  licences: {
    zh: '第三方许可：',
    en: 'Third-party licences:',
  },
  loading: {
    zh: '正在加载…',
    en: 'Loading…',
  },
  updated: {
    zh: '已更新',
    en: 'Updated',
  },
  failed: {
    zh: '加载失败：',
    en: 'Loading failed:',
  },
  members: {
    zh: '成员',
    en: 'Members',
  },
  averageScore: {
    zh: '平均对齐得分',
    en: 'Average alignment score',
  },
  distance: {
    zh: '与最佳实践的距离',
    en: 'Distance from best practice',
  },
  best: {
    zh: '最佳实践',
    en: 'Best practice',
  },
  noGuide: {
    zh: '无已发布指南',
    en: 'No published guide',
  },
  timeLimit: {
    zh: '办理时限',
    en: 'Time limit',
  },
  fee: {
    zh: '收费',
    en: 'Fee',
  },
  materials: {
    zh: '申请材料',
    en: 'Materials',
  },
  materialCount: {
    zh: '材料数',
    en: 'Materials',
  },
  channels: {
    zh: '办理渠道',
    en: 'Channels',
  },
  procedure: {
    zh: '操作规程',
    en: 'Procedure',
  },
  revision: {
    zh: '版本',
    en: 'Revision',
  },
  updatedAt: {
    zh: '更新时间',
    en: 'Updated',
  },
  days: {
    zh: (n) => `${n} 个工作日`,
    en: (n) => `${n} working days`,
  },
  daysShort: {
    zh: (n) => `${n}日`,
    en: (n) => `${n}d`,
  },
  yuan: {
    zh: (n) => `${n} 元`,
    en: (n) => `¥${n}`,
  },
  items: {
    zh: (n) => `${n} 项`,
    en: (n) => `${n} items`,
  },
  scoreParts: {
    zh: '得分构成',
    en: 'Score parts',
  },
  spread: {
    zh: '时限范围',
    en: 'Time-limit range',
  },
  commonMaterials: {
    zh: '共同材料',
    en: 'Common materials',
  },
  collaborative: {
    zh: '协同标准',
    en: 'Collaborative standard',
  },
  compliant: {
    zh: '符合',
    en: 'compliant',
  },
  notCompliant: {
    zh: '不符合',
    en: 'not compliant',
  },
  legendLow: {
    zh: '0 相同',
    en: '0 same',
  },
  legendHigh: {
    zh: '1 最远',
    en: '1 farthest',
  },
  legendMissing: {
    zh: '无指南',
    en: 'no guide',
  },
  extra: {
    zh: '多于最佳实践',
    en: 'more than the best practice',
  },
  lacking: {
    zh: '最佳实践有而此处没有',
    en: 'in the best practice, missing here',
  },
  differs: {
    zh: '与最佳实践不同',
    en: 'differs from the best practice',
  },
  marks: {
    zh: '≠ 与最佳实践不同；+ 最佳实践没有的；− 最佳实践有而此处没有的。括号内为与最佳实践之差。',
    en: '≠ differs from the best practice; + not in the best practice; − in the best practice but missing here. In brackets: the difference from the best practice.',
  },
  rules: {
    zh: { TIME_LIMIT: '办理时限超出底线', FEE: '收费超出底线', CHANNEL: '缺少必备渠道' },
    en: { TIME_LIMIT: 'Time limit above baseline', FEE: 'Fee above baseline', CHANNEL: 'Required channel missing' },
  },
  parts: {
    zh: { coverage: '覆盖', timeLimit: '时限', fee: '收费', materials: '材料', channels: '渠道' },
    en: { coverage: 'coverage', timeLimit: 'time limit', fee: 'fee', materials: 'materials', channels: 'channels' },
  },
  metrics: {
    zh: {
      SATISFACTION: '满意度',
      AVERAGE_DAYS: '平均办理天数',
      TIME_LIMIT: '承诺办理时限',
      FEE: '收费',
    },
    en: {
      SATISFACTION: 'Satisfaction',
      AVERAGE_DAYS: 'Average days taken',
      TIME_LIMIT: 'Promised time limit',
      FEE: 'Fee',
    },
  },
  channelNames: {
    zh: { COUNTER: '窗口', ONLINE: '网上', MOBILE: '移动端', CROSS_PROVINCE: '跨省通办' },
    en: { COUNTER: 'Counter', ONLINE: 'Online', MOBILE: 'Mobile', CROSS_PROVINCE: 'Cross-province' },
  },
};

const state = {
  lang: localStorage.getItem('concord-lang') === 'en' ? 'en' : 'zh',
  zones: [],
  regions: new Map(),
  categories: [],
  zone: null,
  matrix: null,
  freshness: new Map(),
  coverage: null,
  regionCoverage: new Map(),
  equalization: null,
  violations: null,
  sync: null,
  detail: null,
  freshnessPages: new Map(),
  equalizationPeriods: null,
  equalizationAnswers: new Map(),
  focus: { row: 0, col: 0 },
  generation: 0,
  status: null,
  // How the zone shown was loaded: 'live' (subscribed), 'fetch' (over HTTP) or null (not yet).
  source: null,
  shown: false,
  // The zone's loading from subscriptions: the keys of the reads not yet answered.
  load: null,
  // What the live indicator says: 'connecting' until the first socket settles, then 'live' or 'offline'.
  liveShown: 'connecting',
};

const $ = (id) => document.getElementById(id);
const t = (key) => TEXT[key][state.lang];
const locale = () => (state.lang === 'zh' ? 'zh-CN' : 'en-GB');
const number = (value, digits = 2) =>
  new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(value);
// Fees come as the API's Decimal: a string of yuan such as "12.50", shown
// as written. Arithmetic on them is done in whole fen, read from the
// digits, so no binary float ever stands between the API and the page.
const fen = (decimal) => {
  const [whole, fraction = ''] = decimal.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
};
const yuanOfFen = (n) => `${Math.trunc(n / 100)}.${String(n % 100).padStart(2, '0')}`;
const percent = (share) =>
  new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(share);
const when = (iso) =>
  iso ? new Date(iso).toLocaleString(locale(), { dateStyle: 'medium', timeStyle: 'short' }) : '—';
const named = (row) => (row ? (state.lang === 'zh' ? row.nameZh : row.nameEn || row.nameZh) : '');
const regionName = (code) => named(state.regions.get(code)) || code;
const channelName = (channel) => t('channelNames')[channel] || channel;

/** Makes an element: h('td', { class: 'x', dataset: {...} }, child, …). */
function h(tag, attributes = {}, ...children) {
  const svg = ['svg', 'g', 'line', 'polyline', 'circle', 'text', 'rect', 'path', 'title'].includes(tag);
  const element = svg
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name === 'text') element.textContent = value;
    else if (name.startsWith('on')) element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

class ApiError extends Error {}

/** POSTs one operation to /graphql; returns `{ data, errors }`. */
async function graphql(query, variables = {}) {
  const headers = {
    'content-type': 'application/json',
    accept: 'application/graphql-response+json, application/json',
  };
  const token = sessionStorage.getItem('concord-token');
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch('/graphql', {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json().catch(() => null);
  if (!body) throw new ApiError(`HTTP ${response.status}`);
  if (!body.data) throw new ApiError((body.errors || []).map((e) => e.message).join('; '));
  return body;
}

/** Asks `field($v)` once per value, as aliases, at most 25 to a request (the API allows 30). */
async function aliased(values, type, field) {
  const chunks = [];
  for (let i = 0; i < values.length; i += 25) chunks.push(values.slice(i, i + 25));
  const answers = await Promise.all(
    chunks.map((chunk) => {
      const vars = chunk.map((_, i) => `$v${i}: ${type}`).join(', ');
      const body = chunk.map((_, i) => `a${i}: ${field(`$v${i}`)}`).join('\n');
      const variables = Object.fromEntries(chunk.map((value, i) => [`v${i}`, value]));
      return graphql(`query(${vars}) {\n${body}\n}`, variables);
    }),
  );
  return answers.flatMap((answer, c) => chunks[c].map((_, i) => answer.data[`a${i}`]));
}

// ---------------------------------------------------------------- the socket

/** How long a new socket may take to be acknowledged before it counts as failed. */
const ACK_TIMEOUT_MS = 4000;
/** How often the socket is checked for messages; the server pings every 15 s unless configured otherwise. */
const HEARTBEAT_MS = 20000;
/** The waits before opening the socket again: doubling from the first to the last. */
const RETRY_FIRST_MS = 1000;
const RETRY_LAST_MS = 30000;

/**
 * A graphql-transport-ws client over one WebSocket to this host's /graphql.
 * Its state is 'connecting', 'live' (acknowledged) or 'offline' (waiting to
 * open it again), and `onState` hears every change. A subscription belongs
 * to the socket it was made on: when that goes, its subscriptions end
 * without a word, and whoever made them subscribes again once the state is
 * 'live' again.
 */
class LiveSocket {
  constructor(onState) {
    this.onState = onState;
    this.state = 'connecting';
    this.socket = null;
    this.cleanup = () => {};
    this.sinks = new Map();
    this.lastId = 0;
    this.failures = 0;
    this.timer = 0;
  }

  /** Opens a socket now, closing the one there was. */
  connect() {
    clearTimeout(this.timer);
    this.close();
    this.setState('connecting');
    let socket;
    try {
      socket = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/graphql`, 'graphql-transport-ws');
    } catch {
      this.failed();
      return;
    }
    this.socket = socket;
    // A socket that carries nothing for a whole heartbeat is sent a ping;
    // if nothing answers by the next, it is dead, however open it looks.
    let heard = true;
    let pinged = false;
    const ack = setTimeout(() => this.drop(socket), ACK_TIMEOUT_MS);
    const heartbeat = setInterval(() => {
      if (heard) {
        heard = false;
      } else if (pinged) {
        this.drop(socket);
      } else if (socket.readyState === WebSocket.OPEN) {
        pinged = true;
        this.send({ type: 'ping' });
      }
    }, HEARTBEAT_MS);
    this.cleanup = () => {
      clearTimeout(ack);
      clearInterval(heartbeat);
    };
    socket.addEventListener('open', () => {
      const token = sessionStorage.getItem('concord-token');
      this.send({ type: 'connection_init', payload: token ? { authorization: `Bearer ${token}` } : {} });
    });
    socket.addEventListener('message', (event) => {
      if (this.socket !== socket) return;
      heard = true;
      pinged = false;
      this.receive(socket, event.data, () => clearTimeout(ack));
    });
    socket.addEventListener('close', () => this.drop(socket));
  }

  /** Opens the socket again with the token as it is now. */
  restart() {
    this.failures = 0;
    this.connect();
  }

  /** Opens the socket now rather than when the wait ends, if it is down. */
  retry() {
    if (this.state === 'offline') this.restart();
  }

  /** Closes the socket, if there is one, without opening another. */
  close() {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    this.cleanup();
    this.sinks.clear();
    socket.close(1000);
  }

  receive(socket, text, acknowledged) {
    let message = null;
    try {
      message = JSON.parse(text);
    } catch {
      // Not JSON: dropped below with any other message that has no type.
    }
    if (typeof message?.type !== 'string') {
      this.drop(socket);
      return;
    }
    if (message.type === 'connection_ack') {
      acknowledged();
      this.failures = 0;
      this.setState('live');
    } else if (message.type === 'ping') {
      this.send({ type: 'pong' });
    } else if (message.type === 'next') {
      this.sinks.get(message.id)?.next(message.payload || {});
    } else if (message.type === 'error') {
      const sink = this.sinks.get(message.id);
      this.sinks.delete(message.id);
      sink?.refused(message.payload);
    } else if (message.type === 'complete') {
      this.sinks.delete(message.id);
    }
  }

  /**
   * Subscribes on the socket that is up: `sink.next` gets each `{ data,
   * errors }`, `sink.refused` the errors of a subscription the server
   * refused. Returns what ends it. Nothing happens unless the state is 'live'.
   */
  subscribe(query, variables, sink) {
    if (this.state !== 'live') return () => {};
    this.lastId += 1;
    const id = String(this.lastId);
    this.sinks.set(id, sink);
    this.send({ id, type: 'subscribe', payload: { query, variables } });
    return () => {
      if (this.sinks.delete(id)) this.send({ id, type: 'complete' });
    };
  }

  send(message) {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  /** The socket failed or went quiet: closes it and opens another after a wait. */
  drop(socket) {
    if (this.socket !== socket) return;
    this.close();
    this.failed();
  }

  failed() {
    this.failures += 1;
    const wait = Math.min(RETRY_LAST_MS, RETRY_FIRST_MS * 2 ** (this.failures - 1));
    // Spread out, so that the pages a restarted server dropped do not all come back at once.
    this.timer = setTimeout(() => this.connect(), wait * (0.75 + Math.random() / 2));
    this.setState('offline');
  }

  setState(next) {
    if (next === this.state) return;
    this.state = next;
    this.onState(next);
  }
}

// ---------------------------------------------------------------- colours

// Cividis (Nuñez, Anderton and Renslow, 2018): blue to yellow with lightness
// rising evenly, so it reads the same with any colour-vision deficiency and
// in greyscale. Stops at 0, 1/8, …, 1.
const CIVIDIS = [
  [0, 34, 78], [18, 53, 112], [59, 73, 108], [87, 93, 109], [112, 113, 115],
  [138, 134, 120], [165, 156, 116], [195, 179, 105], [254, 232, 56],
];

/** The colour of a distance in [0, 1]: bright for 0 (the best practice), dark for 1. */
function colour(distance) {
  const x = (1 - Math.min(1, Math.max(0, distance))) * (CIVIDIS.length - 1);
  const i = Math.min(CIVIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const rgb = CIVIDIS[i].map((c, k) => Math.round(c + (CIVIDIS[i + 1][k] - c) * f));
  const luminance = (0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]) / 255;
  return { background: `rgb(${rgb.join(' ')})`, ink: luminance > 0.5 ? '#111' : '#fff' };
}

/**
 * How far a cell is from its row's best practice, in [0, 1]: the mean of
 * four parts, each 0 when equal to the best practice — the time-limit, fee
 * and material-count gaps over the row's largest value, and the share of
 * channels in one of the two guides but not both.
 */
function distance(cell, best, row) {
  if (!cell.hasGuide || !best) return null;
  const value = (c, field) => (field === 'fee' ? fen(c.fee) : c[field]);
  const largest = (field) => Math.max(0, ...row.cells.filter((c) => c.hasGuide).map((c) => value(c, field)));
  const gap = (field) => {
    const top = largest(field);
    return top > 0 ? Math.abs(value(cell, field) - value(best, field)) / top : 0;
  };
  const mine = new Set(cell.channels);
  const theirs = new Set(best.channels);
  const union = new Set([...mine, ...theirs]);
  const shared = [...mine].filter((c) => theirs.has(c)).length;
  const channels = union.size ? 1 - shared / union.size : 0;
  return (gap('timeLimitDays') + gap('fee') + gap('materialCount') + channels) / 4;
}

/**
 * Replaces a section's content with a new rendering of it, keeping what the
 * reader did to the old one: how far it and its boxes were scrolled, which
 * <details> were open and which element had the focus, matched by data-key.
 */
function replaceKeeping(container, ...children) {
  const keyed = () => [...container.querySelectorAll('[data-key]')];
  const before = new Map(keyed().map((e) => [e.dataset.key, { open: e.open, top: e.scrollTop, left: e.scrollLeft }]));
  const focused = container.contains(document.activeElement) ? document.activeElement.dataset?.key : undefined;
  const { scrollTop, scrollLeft } = container;
  container.replaceChildren(...children);
  if (scrollTop || scrollLeft) container.scrollTo(scrollLeft, scrollTop);
  for (const element of keyed()) {
    const was = before.get(element.dataset.key);
    if (was?.open) element.open = true;
    if (was?.top || was?.left) element.scrollTo(was.left, was.top);
  }
  if (focused !== undefined) container.querySelector(`[data-key="${CSS.escape(focused)}"]`)?.focus();
}

// ---------------------------------------------------------------- tooltip

const tip = $('tip');

function showTip(target, text) {
  tip.textContent = text;
  tip.hidden = false;
  const box = target.getBoundingClientRect();
  const width = tip.offsetWidth;
  const left = Math.min(window.innerWidth - width - 8, Math.max(8, box.left + box.width / 2 - width / 2));
  const above = box.top - tip.offsetHeight - 6;
  tip.style.left = `${left + window.scrollX}px`;
  tip.style.top = `${(above > 0 ? above : box.bottom + 6) + window.scrollY}px`;
}

function hideTip() {
  tip.hidden = true;
}

/** Shows `text()` while the element is hovered or focused. */
function withTip(element, text) {
  const show = () => showTip(element, text());
  element.addEventListener('mouseenter', show);
  element.addEventListener('focus', show);
  element.addEventListener('mouseleave', hideTip);
  element.addEventListener('blur', hideTip);
  return element;
}

// ---------------------------------------------------------------- loading

/** Shows `text(key)`, and `detail` after it, as the page's status; kept to be shown again in the other language. */
function setStatus(key, detail = '', failed = false) {
  state.status = { key, detail, failed };
  const message = detail ? `${t(key)} ${detail}` : t(key);
  const status = $('status');
  // Unchanged text is left alone, so that a screen reader does not read it out again.
  if (status.textContent === message && status.classList.contains('error') === failed) return;
  status.textContent = message;
  status.classList.toggle('error', failed);
  status.setAttribute('role', failed ? 'alert' : 'status');
}

async function loadReference() {
  const { data } = await graphql(`{
    regions { code nameZh nameEn }
    zones { code nameZh nameEn members { code } }
    categories { code nameZh nameEn }
  }`);
  state.regions = new Map(data.regions.map((r) => [r.code, r]));
  state.zones = data.zones;
  state.categories = data.categories;
}

// Every read the dashboard makes, as [variable declarations, root field with
// its selection]. operation() turns one into a query to POST or, the same
// read, a subscription whose answers the server sends as they change.
const COVERAGE = '{ total covered share }';
const READS = {
  matrix: [
    '$zone: String!',
    `zoneAlignment(zone: $zone) {
      averageScore
      members { code }
      matters {
        matter { code nameZh nameEn category { code } }
        score bestPractice
        cells { region hasGuide timeLimitDays fee materialCount channels }
      }
    }`,
  ],
  violations: [
    '$zone: String!',
    `baselineViolations(zone: $zone) {
      region matter rule message
      nationalItem { nameZh nameEn maxTimeLimitDays maxFee requiredChannels }
    }`,
  ],
  businessCoverage: ['$region: String!', `coverage(region: $region) ${COVERAGE}`],
  regionCoverage: ['$matter: String!', `coverage(matter: $matter) ${COVERAGE}`],
  published: [
    '$region: String!, $after: String',
    `guides(filter: { region: $region, status: PUBLISHED }, first: 100, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes { updatedAt }
    }`,
  ],
  equalization: [
    '$metric: EqualizationMetric!, $zone: String, $period: String',
    'equalization(metric: $metric, zone: $zone, period: $period) { coefficientOfVariation mean }',
  ],
  sync: ['', 'syncStatus { peer applied lag lastSuccess lastError }'],
  alignment: [
    '$zone: String!, $matter: String!',
    `alignment(zone: $zone, matter: $matter) {
      matter { code nameZh nameEn }
      score
      scoreParts { coverage timeLimit fee materials channels }
      timeLimit { min max median }
      commonMaterials
      bestPractice { region { code } }
      members {
        region { code }
        guide {
          timeLimitDays fee materials channels revision updatedAt
          procedure { steps { position name actor timeLimitDays } }
        }
      }
      collaborativeStandard { code status }
      compliance { region compliant }
    }`,
  ],
};

/** A read as an operation: `query`, or `subscription` for its live answers. */
function operation(kind, [declarations, field]) {
  return `${kind}${declarations ? `(${declarations})` : ''} {\n${field}\n}`;
}

/** The equalization metrics charted per period, and those with a current value only. */
const SERIES = ['SATISFACTION', 'AVERAGE_DAYS'];
const CURRENT = ['TIME_LIMIT', 'FEE'];

/** A map with only `keys`, in their order: answers arrive in any order, sections list in a fixed one. */
function ordered(map, keys) {
  return new Map(keys.filter((key) => map.has(key)).map((key) => [key, map.get(key)]));
}

const zoneMembers = (zone) => state.zones.find((z) => z.code === zone).members.map((m) => m.code);

async function loadMatrix(zone) {
  const { data } = await graphql(operation('query', READS.matrix), { zone });
  return data.zoneAlignment;
}

async function loadViolations(zone) {
  const { data } = await graphql(operation('query', READS.violations), { zone });
  return data.baselineViolations;
}

/** Business coverage of each member. */
async function loadCoverage(members) {
  const answers = await aliased(members, 'String', (v) => `coverage(region: ${v}) ${COVERAGE}`);
  return new Map(members.map((code, i) => [code, answers[i]]));
}

/** Region coverage of each matter. */
async function loadRegionCoverage(matters) {
  const answers = await aliased(matters, 'String', (v) => `coverage(matter: ${v}) ${COVERAGE}`);
  return new Map(matters.map((code, i) => [code, answers[i]]));
}

/** A member's freshness from the pages of its published guides: their count and newest change. */
function freshnessOf(pages) {
  let newest = null;
  for (const page of pages) {
    for (const { updatedAt } of page.nodes) if (!newest || updatedAt > newest) newest = updatedAt;
  }
  return { newest, count: pages[0]?.totalCount ?? 0 };
}

/** Per member: how many published guides this node holds and the newest change among them. */
async function loadFreshness(members) {
  const fresh = members.map(async (region) => {
    const pages = [];
    let after = null;
    do {
      const { data } = await graphql(operation('query', READS.published), { region, after });
      pages.push(data.guides);
      after = data.guides.pageInfo.hasNextPage ? data.guides.pageInfo.endCursor : null;
    } while (after);
    return [region, freshnessOf(pages)];
  });
  return new Map(await Promise.all(fresh));
}

/** The node's sync peers, or why they cannot be read. */
async function loadSync() {
  if (!sessionStorage.getItem('concord-token')) return { needsToken: true };
  try {
    const { data } = await graphql(operation('query', READS.sync));
    return { peers: data.syncStatus };
  } catch {
    return { needsToken: true };
  }
}

/**
 * The periods of the zone's evaluations, the last twelve: the API answers
 * the equalization index one period at a time, so they come from the
 * evaluations themselves (their first pages).
 */
async function loadPeriods(zone) {
  const periods = new Set();
  let after = null;
  for (let page = 0; page < 3; page += 1) {
    const { data } = await graphql(
      `query($zone: String!, $after: String) {
        evaluations(filter: { zone: $zone }, first: 100, after: $after) {
          pageInfo { hasNextPage endCursor }
          nodes { period }
        }
      }`,
      { zone, after },
    );
    for (const { period } of data.evaluations.nodes) periods.add(period);
    if (!data.evaluations.pageInfo.hasNextPage) break;
    after = data.evaluations.pageInfo.endCursor;
  }
  return [...periods].sort().slice(-12);
}

/**
 * The equalization section's data from the answers, keyed `METRIC/period`
 * for the series and `METRIC` for the current values. TIME_LIMIT and FEE
 * are computed from the guides in force and have no history.
 */
function equalizationOf(periods, answers) {
  const series = Object.fromEntries(
    SERIES.map((metric) => [
      metric,
      periods.flatMap((period) => {
        const answer = answers.get(`${metric}/${period}`);
        return answer && answer.coefficientOfVariation !== null
          ? [{ period, cv: answer.coefficientOfVariation, mean: answer.mean }]
          : [];
      }),
    ]),
  );
  const current = Object.fromEntries(CURRENT.filter((metric) => answers.has(metric)).map((metric) => [metric, answers.get(metric)]));
  return { series, current };
}

/** The equalization index over time, each (metric, period) as one aliased field. */
async function loadEqualization(zone) {
  const periods = await loadPeriods(zone);
  const asks = [
    ...periods.flatMap((period) => SERIES.map((metric) => ({ key: `${metric}/${period}`, metric, period }))),
    ...CURRENT.map((metric) => ({ key: metric, metric, period: null })),
  ];
  const answers = new Map();
  for (let i = 0; i < asks.length; i += 24) {
    const chunk = asks.slice(i, i + 24);
    const fields = chunk
      .map(({ metric }, k) => `a${k}: equalization(metric: ${metric}, zone: $zone, period: $p${k}) { coefficientOfVariation mean }`)
      .join('\n');
    const vars = chunk.map((_, k) => `$p${k}: String`).join(', ');
    const variables = { zone, ...Object.fromEntries(chunk.map((ask, k) => [`p${k}`, ask.period])) };
    const { data } = await graphql(`query($zone: String, ${vars}) {\n${fields}\n}`, variables);
    chunk.forEach((ask, k) => answers.set(ask.key, data[`a${k}`]));
  }
  return equalizationOf(periods, answers);
}

/**
 * Loads everything about the current zone over HTTP, once: how the page
 * loads while the socket is down. Sections render as their answers arrive.
 */
async function refresh() {
  const zone = state.zone;
  const generation = ++state.generation;
  const current = () => generation === state.generation;
  const members = zoneMembers(zone);
  state.source = 'fetch';
  setStatus('loading');
  $('refresh').disabled = true;
  const section = (promise, apply) =>
    promise.then((value) => {
      if (current()) apply(value);
    });
  try {
    await Promise.all([
      section(
        loadMatrix(zone).then(async (matrix) => {
          if (current()) {
            state.matrix = matrix;
            renderSummary();
            renderHeatmap();
            if (state.detail) await openDetail(state.detail.matter, state.detail.region, false);
          }
          return loadRegionCoverage(matrix.matters.map((row) => row.matter.code));
        }),
        (coverage) => {
          state.regionCoverage = coverage;
          renderRegionCoverage();
        },
      ),
      section(loadViolations(zone), (violations) => {
        state.violations = violations;
        renderViolations();
      }),
      section(loadCoverage(members), (coverage) => {
        state.coverage = coverage;
        renderCoverage();
      }),
      section(loadFreshness(members), (freshness) => {
        state.freshness = freshness;
        renderFreshness();
        renderHeatmap();
      }),
      section(loadSync(), (sync) => {
        state.sync = sync;
        renderSync();
      }),
      section(loadEqualization(zone), (equalization) => {
        state.equalization = equalization;
        renderEqualization();
      }),
    ]);
    if (current()) loaded(zone);
  } catch (error) {
    if (current()) setStatus('failed', error.message, true);
  } finally {
    if (current()) $('refresh').disabled = false;
  }
}

/** Says the zone's sections are all current. */
function loaded(zone) {
  setStatus('updated', new Date().toLocaleTimeString(locale()));
  document.body.dataset.loaded = zone;
}

// ---------------------------------------------------------------- live updates

// While the socket is up, each section's reads are subscriptions: their
// first answers load the zone, and later ones re-render only the sections
// they change. Otherwise the zone loads once over HTTP (refresh), and again
// when the user presses Refresh.

const live = new LiveSocket(onLive);

/** The subscriptions of the zone shown, by key; see watch(). */
const watches = new Map();

/**
 * Subscribes to one read under `key` (replacing what was there) and hands
 * each answer's data to `apply`. A subscription the server refuses for
 * being over a limit (its count per connection, say) is asked once over
 * HTTP instead, by `ask` when given; an answer with errors goes to `fail`.
 * Subscriptions made while the zone loads count towards its loading.
 */
function watch(key, read, variables, apply, { fail = showFailure, ask } = {}) {
  unwatch(key);
  const entry = { load: state.load, variables, answered: false, stop: null };
  entry.load?.waiting.add(key);
  const current = () => watches.get(key) === entry;
  const answered = () => {
    if (entry.answered) {
      updatedLive();
    } else {
      entry.answered = true;
      settle(entry.load, key);
    }
  };
  const fetchOnce = () =>
    (ask ? ask() : graphql(operation('query', read), variables).then((body) => body.data)).then(
      (data) => current() && apply(data),
      (error) => current() && fail(error.message),
    );
  entry.stop = live.subscribe(operation('subscription', read), variables, {
    next: ({ data, errors }) => {
      if (!current()) return;
      if (data) apply(data);
      else fail((errors || []).map((e) => e.message).join('; '));
      answered();
    },
    refused: (errors) => {
      if (!current()) return;
      const message = (errors || []).map((e) => e.message).join('; ');
      const overLimit = (errors || []).some((e) => e.extensions?.code === 'LIMIT_EXCEEDED');
      (overLimit ? fetchOnce() : Promise.resolve(fail(message))).finally(() => {
        if (current()) answered();
      });
    },
  });
  watches.set(key, entry);
}

function unwatch(key) {
  const entry = watches.get(key);
  if (!entry) return;
  entry.stop();
  watches.delete(key);
  settle(entry.load, key);
}

/** Ends every subscription of the zone shown; their answers in flight are dropped. */
function stopWatches() {
  for (const entry of watches.values()) entry.stop();
  watches.clear();
  state.load = null;
}

/** A read of the zone that was answered (or failed) for the first time. */
function settle(load, key) {
  if (!load || state.load !== load) return;
  load.waiting.delete(key);
  if (load.waiting.size) return;
  state.load = null;
  flushRenders();
  $('refresh').disabled = false;
  if (!state.status?.failed) loaded(load.zone);
}

function showFailure(message) {
  setStatus('failed', message, true);
}

/** A later answer changed a section: says when, unless the zone is still loading. */
function updatedLive() {
  if (!state.load) setStatus('updated', new Date().toLocaleTimeString(locale()));
}

const dirty = new Set();
let frame = 0;

/** Renders each section once per frame, however many answers changed it. */
function later(...renders) {
  for (const render of renders) dirty.add(render);
  if (!frame) frame = requestAnimationFrame(flushRenders);
}

function flushRenders() {
  cancelAnimationFrame(frame);
  frame = 0;
  const renders = [...dirty];
  dirty.clear();
  for (const render of renders) render();
}

/** Subscribes to every read of the zone shown; its sections load from the first answers. */
function subscribeZone() {
  stopWatches();
  const zone = state.zone;
  const members = zoneMembers(zone);
  const load = { zone, waiting: new Set() };
  state.source = 'live';
  // An HTTP load still under way is overtaken: its answers are older.
  state.generation += 1;
  state.load = load;
  setStatus('loading');
  $('refresh').disabled = true;
  watch('matrix', READS.matrix, { zone }, ({ zoneAlignment }) => {
    state.matrix = zoneAlignment;
    later(renderSummary, renderHeatmap, renderRegionCoverage, renderViolations);
    watchRegionCoverage();
  });
  watch('violations', READS.violations, { zone }, ({ baselineViolations }) => {
    state.violations = baselineViolations;
    later(renderViolations);
  });
  for (const region of members) {
    watch(`coverage ${region}`, READS.businessCoverage, { region }, ({ coverage }) => {
      state.coverage = ordered(new Map(state.coverage || []).set(region, coverage), members);
      later(renderCoverage);
    });
    watchFreshness(region, members, 0, null);
  }
  for (const metric of CURRENT) {
    watch(`equalization ${metric}`, READS.equalization, { metric, zone }, ({ equalization }) => {
      state.equalizationAnswers.set(metric, equalization);
      showEqualization();
    });
  }
  if (sessionStorage.getItem('concord-token')) {
    const needsToken = () => {
      state.sync = { needsToken: true };
      later(renderSync);
    };
    watch('sync', READS.sync, {}, ({ syncStatus }) => {
      state.sync = { peers: syncStatus };
      later(renderSync);
    }, { fail: needsToken });
  } else {
    state.sync = { needsToken: true };
    later(renderSync);
  }
  if (state.detail) watchDetail(false);
  // The periods are not a live read: they are asked once, then each
  // (metric, period) is subscribed to.
  load.waiting.add('periods');
  loadPeriods(zone)
    .then(
      (periods) => {
        if (state.load !== load) return;
        state.equalizationPeriods = periods;
        for (const period of periods) {
          for (const metric of SERIES) {
            watch(`equalization ${metric}/${period}`, READS.equalization, { metric, zone, period }, ({ equalization }) => {
              state.equalizationAnswers.set(`${metric}/${period}`, equalization);
              showEqualization();
            });
          }
        }
        showEqualization();
      },
      (error) => state.load === load && showFailure(error.message),
    )
    .finally(() => settle(load, 'periods'));
}

function showEqualization() {
  // The series wait for the periods, rather than show "no evaluations" until then.
  if (!state.equalizationPeriods) return;
  state.equalization = equalizationOf(state.equalizationPeriods, state.equalizationAnswers);
  later(renderEqualization);
}

/** Keeps one region-coverage subscription per matter of the matrix. */
function watchRegionCoverage() {
  const prefix = 'region-coverage ';
  const matters = new Set(state.matrix.matters.map((row) => row.matter.code));
  for (const key of [...watches.keys()]) {
    if (key.startsWith(prefix) && !matters.has(key.slice(prefix.length))) {
      unwatch(key);
      state.regionCoverage.delete(key.slice(prefix.length));
    }
  }
  for (const matter of matters) {
    if (watches.has(prefix + matter)) continue;
    watch(
      prefix + matter,
      READS.regionCoverage,
      { matter },
      ({ coverage }) => {
        state.regionCoverage.set(matter, coverage);
        later(renderRegionCoverage);
      },
      { ask: () => askRegionCoverage(matter) },
    );
  }
}

let regionCoverageAsks = [];

/**
 * Region coverage over HTTP for a matter whose subscription was refused.
 * A zone with many matters can pass the server's subscriptions per
 * connection; their refusals come together, so they are asked together,
 * as aliased fields.
 */
function askRegionCoverage(matter) {
  return new Promise((resolve, reject) => {
    if (!regionCoverageAsks.length) {
      setTimeout(() => {
        const asks = regionCoverageAsks;
        regionCoverageAsks = [];
        loadRegionCoverage([...new Set(asks.map((a) => a.matter))]).then(
          (answers) => asks.forEach((a) => a.resolve({ coverage: answers.get(a.matter) })),
          (error) => asks.forEach((a) => a.reject(error)),
        );
      });
    }
    regionCoverageAsks.push({ matter, resolve, reject });
  });
}

/**
 * Subscribes to page `index` (from `after`) of a member's published guides,
 * and to the pages after it while there are any: the member's freshness
 * is computed from them all.
 */
function watchFreshness(region, members, index, after) {
  const key = (i) => `freshness ${region} ${i}`;
  watch(key(index), READS.published, { region, after }, ({ guides }) => {
    const pages = state.freshnessPages.get(region) || [];
    pages[index] = guides;
    const next = watches.get(key(index + 1));
    if (guides.pageInfo.hasNextPage) {
      if (next?.variables.after !== guides.pageInfo.endCursor) {
        watchFreshness(region, members, index + 1, guides.pageInfo.endCursor);
      }
    } else {
      for (let i = index + 1; watches.has(key(i)); i += 1) unwatch(key(i));
      pages.length = index + 1;
    }
    state.freshnessPages.set(region, pages);
    if ([...pages].every(Boolean)) {
      state.freshness = ordered(new Map(state.freshness).set(region, freshnessOf(pages)), members);
      later(renderFreshness, renderHeatmap);
    }
  });
}

/** Keeps the side-by-side view of the open dialog live; opens the dialog on the first answer when `show`. */
function watchDetail(show) {
  const { matter } = state.detail;
  let opening = show;
  watch('detail', READS.alignment, { zone: state.zone, matter }, ({ alignment }) => {
    if (state.detail?.matter !== matter) return;
    showDetail(alignment, opening);
    opening = false;
  });
}

/** The socket came up, went down or is being opened again. */
function onLive(now) {
  if (now !== 'connecting') state.liveShown = now;
  renderLive();
  if (!state.shown) return;
  if (now === 'live') {
    subscribeZone();
  } else {
    // The subscriptions went with the socket.
    stopWatches();
    if (now === 'offline' && state.source !== 'fetch') refresh();
  }
}

/**
 * Loads the zone shown: from subscriptions while the socket is up, else
 * over HTTP. While a socket is being opened, onLive loads it one way or the
 * other when that settles.
 */
function loadZone() {
  stopWatches();
  state.generation += 1;
  state.source = null;
  state.shown = true;
  setStatus('loading');
  $('refresh').disabled = true;
  if (live.state === 'live') subscribeZone();
  else if (live.state === 'offline') refresh();
}

// ---------------------------------------------------------------- rendering

function applyLanguage() {
  document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
  document.title = `Concord · ${t('title')}`;
  for (const element of document.querySelectorAll('[data-i18n]')) {
    element.textContent = t(element.dataset.i18n);
  }
  const button = $('language');
  button.textContent = state.lang === 'zh' ? 'English' : '中文';
  button.lang = state.lang === 'zh' ? 'en' : 'zh-CN';
  $('zone').replaceChildren(
    ...state.zones.map((zone) =>
      h('option', { value: zone.code, selected: zone.code === state.zone }, `${named(zone)} (${zone.code})`),
    ),
  );
  const category = $('category').value;
  $('category').replaceChildren(
    h('option', { value: '' }, t('allCategories')),
    ...state.categories.map((c) => h('option', { value: c.code, selected: c.code === category }, named(c))),
  );
  if (state.status) setStatus(state.status.key, state.status.detail, state.status.failed);
  renderLive();
  renderLegend();
  renderSummary();
  renderHeatmap();
  renderFreshness();
  renderSync();
  renderCoverage();
  renderRegionCoverage();
  renderEqualization();
  renderViolations();
  if (state.detail && $('detail').open) renderDetail();
}

/** The live indicator: whether the page follows the data by itself. */
function renderLive() {
  const indicator = $('live');
  indicator.dataset.state = state.liveShown;
  indicator.textContent = t('live')[state.liveShown];
  indicator.title = t('liveNote')[state.liveShown];
}

function renderLegend() {
  const stops = [0, 0.25, 0.5, 0.75, 1].map((d) => {
    const { background, ink } = colour(d);
    const swatch = h('span', { class: 'swatch' }, number(d));
    swatch.style.background = background;
    swatch.style.color = ink;
    return swatch;
  });
  $('legend').replaceChildren(
    h('span', {}, `${t('distance')}: `),
    ...stops,
    h('span', { class: 'swatch missing' }, t('legendMissing')),
  );
}

function renderSummary() {
  const zone = state.zones.find((z) => z.code === state.zone);
  if (!zone) return;
  $('zone-title').textContent = `${named(zone)} (${zone.code})`;
  const members = zone.members.map((m) => regionName(m.code)).join(state.lang === 'zh' ? '、' : ', ');
  const score = state.matrix ? ` · ${t('averageScore')}: ${number(state.matrix.averageScore, 3)}` : '';
  $('zone-summary').textContent = `${t('members')}: ${members}${score}`;
}

/** The matrix rows to show, filtered by category and sorted. */
function visibleRows() {
  if (!state.matrix) return [];
  const category = $('category').value;
  const rows = state.matrix.matters.filter((row) => !category || row.matter.category?.code === category);
  const sort = $('sort').value;
  const byName = (a, b) => named(a.matter).localeCompare(named(b.matter), locale());
  rows.sort((a, b) => {
    if (sort === 'name') return byName(a, b);
    const diff = sort === 'score-asc' ? a.score - b.score : b.score - a.score;
    return diff || byName(a, b);
  });
  return rows;
}

function cellText(row, cell) {
  const parts = [`${regionName(cell.region)} · ${named(row.matter)}`];
  if (!cell.hasGuide) return `${parts[0]}: ${t('noGuide')}`;
  const best = row.cells.find((c) => c.region === row.bestPractice);
  const d = distance(cell, best, row);
  if (cell.region === row.bestPractice) parts.push(`★ ${t('best')}`);
  parts.push(`${t('distance')}: ${number(d, 2)}`);
  parts.push(`${t('timeLimit')}: ${t('days')(cell.timeLimitDays)}`);
  parts.push(`${t('fee')}: ${t('yuan')(cell.fee)}`);
  parts.push(`${t('materialCount')}: ${t('items')(cell.materialCount)}`);
  parts.push(`${t('channels')}: ${cell.channels.map(channelName).join('、')}`);
  return parts.join('; ');
}

function renderHeatmap() {
  const box = $('heatmap-box');
  if (!state.matrix) {
    box.replaceChildren();
    return;
  }
  const members = state.matrix.members.map((m) => m.code);
  const rows = visibleRows();
  // The focused cell keeps its matter and member when a new answer moves them.
  const focusRow = rows.findIndex((r) => r.matter.code === state.focus.matter);
  const focusCol = members.indexOf(state.focus.region);
  if (focusRow >= 0) state.focus.row = focusRow;
  if (focusCol >= 0) state.focus.col = focusCol;
  state.focus.row = Math.min(state.focus.row, Math.max(0, rows.length - 1));
  const head = h(
    'tr',
    {},
    h('th', { scope: 'col' }, t('matter')),
    h('th', { scope: 'col' }, t('score')),
    members.map((code) => {
      const fresh = state.freshness.get(code);
      return h(
        'th',
        { scope: 'col', dataset: { region: code } },
        regionName(code),
        h('small', {}, `${t('newest')}: ${fresh ? when(fresh.newest) : '…'}`),
      );
    }),
  );
  const body = rows.map((row, r) => {
    const best = row.cells.find((c) => c.region === row.bestPractice);
    const scoreBar = h('span', { class: 'bar', 'aria-hidden': 'true' });
    scoreBar.style.width = `${Math.round(row.score * 100)}%`;
    return h(
      'tr',
      { dataset: { matter: row.matter.code } },
      h('th', { scope: 'row' }, named(row.matter), h('small', {}, row.matter.code)),
      h('td', { class: 'score' }, h('span', { class: 'track' }, scoreBar), number(row.score, 3)),
      row.cells.map((cell, c) => {
        const d = distance(cell, best, row);
        const isBest = cell.region === row.bestPractice;
        const label = cellText(row, cell);
        const td = h(
          'td',
          {
            class: cell.hasGuide ? 'cell' : 'cell missing',
            tabindex: r === state.focus.row && c === state.focus.col ? '0' : '-1',
            'aria-label': label,
            dataset: {
              region: cell.region,
              matter: row.matter.code,
              row: r,
              col: c,
              timeLimit: cell.hasGuide ? cell.timeLimitDays : '',
              distance: d === null ? '' : d.toFixed(4),
            },
            onclick: () => {
              state.focus = { row: r, col: c, matter: row.matter.code, region: cell.region };
              openDetail(row.matter.code, cell.region, true);
            },
          },
          cell.hasGuide ? `${isBest ? '★ ' : ''}${t('daysShort')(cell.timeLimitDays)}` : '—',
        );
        if (d !== null) {
          const { background, ink } = colour(d);
          td.style.background = background;
          td.style.color = ink;
        }
        return withTip(td, () => label);
      }),
    );
  });
  const table = h(
    'table',
    { id: 'heatmap', class: 'heatmap', role: 'grid', 'aria-labelledby': 'heatmap-title', 'aria-rowcount': rows.length + 1 },
    h('thead', {}, head),
    h('tbody', {}, body),
  );
  table.addEventListener('keydown', onGridKey);
  const hadFocus = box.contains(document.activeElement);
  // The cell a tip belongs to is about to go.
  if (hadFocus || box.matches(':hover')) hideTip();
  replaceKeeping(box, table);
  if (hadFocus) focusCell(state.focus.row, state.focus.col);
}

function focusCell(row, col) {
  const cell = document.querySelector(`#heatmap td.cell[data-row="${row}"][data-col="${col}"]`);
  if (!cell) return;
  for (const other of document.querySelectorAll('#heatmap td.cell[tabindex="0"]')) other.tabIndex = -1;
  cell.tabIndex = 0;
  cell.focus();
  state.focus = { row, col, matter: cell.dataset.matter, region: cell.dataset.region };
}

function onGridKey(event) {
  const cell = event.target.closest('td.cell');
  if (!cell) return;
  const row = Number(cell.dataset.row);
  const col = Number(cell.dataset.col);
  const rows = document.querySelectorAll('#heatmap tbody tr').length;
  const cols = state.matrix.members.length;
  const moves = {
    ArrowUp: [row - 1, col],
    ArrowDown: [row + 1, col],
    ArrowLeft: [row, col - 1],
    ArrowRight: [row, col + 1],
    Home: [row, 0],
    End: [row, cols - 1],
    PageUp: [Math.max(0, row - 10), col],
    PageDown: [Math.min(rows - 1, row + 10), col],
  };
  if (event.key in moves) {
    const [r, c] = moves[event.key];
    if (r >= 0 && r < rows && c >= 0 && c < cols) focusCell(r, c);
    event.preventDefault();
  } else if (event.key === 'Enter' || event.key === ' ') {
    event.preventDefault();
    cell.click();
  }
}

// ---------------------------------------------------------------- side by side

async function openDetail(matter, region, show) {
  const zone = state.zone;
  state.detail = { matter, region, alignment: state.detail?.matter === matter ? state.detail.alignment : null };
  if (live.state === 'live' && state.source === 'live') {
    watchDetail(show);
    return;
  }
  const { data } = await graphql(operation('query', READS.alignment), { zone, matter });
  if (zone !== state.zone || state.detail?.matter !== matter) return;
  showDetail(data.alignment, show);
}

function showDetail(alignment, show) {
  state.detail.alignment = alignment;
  renderDetail();
  const dialog = $('detail');
  if (show && !dialog.open) {
    dialog.showModal();
    $('detail-close').focus();
  }
}

/** ` (+2)`: how far a value is above (or below) the best practice's, or nothing when equal. */
function gap(value, bestValue) {
  if (bestValue === undefined || value === bestValue) return '';
  const difference = value - bestValue;
  return ` (${difference > 0 ? '+' : '−'}${number(Math.abs(difference))})`;
}

/** How a fee differs from the best practice's, in yuan, exactly. */
function feeGap(value, bestValue) {
  if (bestValue === undefined || value === bestValue) return '';
  const difference = fen(value) - fen(bestValue);
  return ` (${difference > 0 ? '+' : '−'}${yuanOfFen(Math.abs(difference))})`;
}

/** One guide field, with how it differs from the best practice. */
function fieldCell(region, field, value, content, differs) {
  return h(
    'td',
    {
      class: differs ? 'diff' : undefined,
      dataset: { region, field, value: JSON.stringify(value) },
    },
    differs ? h('span', { class: 'mark', title: t('differs') }, '≠ ') : null,
    content,
  );
}

/** A list compared with the best practice's: extra entries marked +, lacking ones −. */
function listCell(region, field, items, bestItems, show) {
  const best = new Set(bestItems || []);
  const mine = new Set(items);
  const extra = items.filter((item) => bestItems && !best.has(item));
  const lacking = (bestItems || []).filter((item) => !mine.has(item));
  const list = h(
    'ul',
    { class: 'plain' },
    items.map((item) =>
      h('li', { class: extra.includes(item) ? 'extra' : undefined }, extra.includes(item) ? `+ ${show(item)}` : show(item)),
    ),
    lacking.map((item) => h('li', { class: 'lacking', title: t('lacking') }, `− ${show(item)}`)),
  );
  return fieldCell(region, field, items, list, extra.length + lacking.length > 0);
}

function renderDetail() {
  const alignment = state.detail?.alignment;
  if (!alignment) return;
  const bestCode = alignment.bestPractice?.region?.code;
  const best = alignment.members.find((m) => m.region?.code === bestCode)?.guide;
  $('detail-title').textContent = `${named(alignment.matter)} (${alignment.matter.code})`;
  const parts = Object.entries(alignment.scoreParts)
    .map(([part, value]) => `${t('parts')[part]} ${number(value, 2)}`)
    .join(' · ');
  const compliance = new Map(alignment.compliance.map((c) => [c.region, c.compliant]));
  const summary = h(
    'dl',
    { class: 'facts' },
    h('dt', {}, t('score')),
    h('dd', {}, number(alignment.score, 3)),
    h('dt', {}, t('scoreParts')),
    h('dd', {}, parts),
    alignment.timeLimit && [
      h('dt', {}, t('spread')),
      h('dd', {}, `${number(alignment.timeLimit.min)} – ${number(alignment.timeLimit.max)}`),
    ],
    h('dt', {}, t('commonMaterials')),
    h('dd', {}, alignment.commonMaterials.join('、') || '—'),
    alignment.collaborativeStandard && [
      h('dt', {}, t('collaborative')),
      h('dd', {}, `${alignment.collaborativeStandard.code} (${alignment.collaborativeStandard.status})`),
    ],
  );
  const members = alignment.members.map((m) => m.region.code);
  const headRow = h(
    'tr',
    {},
    h('th', { scope: 'col' }, ''),
    members.map((code) =>
      h(
        'th',
        {
          scope: 'col',
          class: [code === bestCode ? 'best' : '', code === state.detail.region ? 'chosen' : ''].join(' ').trim() || undefined,
          dataset: { region: code },
        },
        regionName(code),
        code === bestCode ? h('small', {}, `★ ${t('best')}`) : null,
        compliance.has(code) ? h('small', {}, compliance.get(code) ? t('compliant') : t('notCompliant')) : null,
      ),
    ),
  );
  const row = (label, render) =>
    h(
      'tr',
      {},
      h('th', { scope: 'row' }, label),
      alignment.members.map(({ region, guide }) =>
        guide ? render(region.code, guide) : h('td', { class: 'none', dataset: { region: region.code } }, t('noGuide')),
      ),
    );
  const stepText = (s) => `${s.name}（${s.actor}，${t('daysShort')(s.timeLimitDays)}）`;
  const bestSteps = best?.procedure?.steps.map(stepText);
  const table = h(
    'table',
    { id: 'detail-table', class: 'side' },
    h('thead', {}, headRow),
    h(
      'tbody',
      {},
      row(t('timeLimit'), (code, g) =>
        fieldCell(
          code,
          'timeLimitDays',
          g.timeLimitDays,
          `${t('days')(g.timeLimitDays)}${gap(g.timeLimitDays, best?.timeLimitDays)}`,
          best && g.timeLimitDays !== best.timeLimitDays,
        ),
      ),
      row(t('fee'), (code, g) =>
        fieldCell(code, 'fee', g.fee, `${t('yuan')(g.fee)}${feeGap(g.fee, best?.fee)}`, best && g.fee !== best.fee),
      ),
      row(t('materials'), (code, g) => listCell(code, 'materials', g.materials, best?.materials, (m) => m)),
      row(t('channels'), (code, g) => listCell(code, 'channels', g.channels, best?.channels, channelName)),
      row(t('procedure'), (code, g) =>
        listCell(code, 'procedure', (g.procedure?.steps || []).map(stepText), bestSteps, (s) => s),
      ),
      row(t('revision'), (code, g) => h('td', { dataset: { region: code } }, `${g.revision} · ${when(g.updatedAt)}`)),
    ),
  );
  replaceKeeping(
    $('detail-body'),
    summary,
    h('p', { class: 'note' }, t('marks')),
    h('div', { class: 'scroll', dataset: { key: 'side' } }, table),
  );
}

// ---------------------------------------------------------------- other sections

function bar(share) {
  const fill = h('span', { class: 'bar', 'aria-hidden': 'true' });
  fill.style.width = `${Math.round(share * 100)}%`;
  return h('span', { class: 'track' }, fill);
}

function renderFreshness() {
  if (!state.freshness.size) return;
  $('freshness').replaceChildren(
    h(
      'table',
      { class: 'plain-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('member')), h('th', { scope: 'col' }, t('newestData')), h('th', { scope: 'col' }, t('guidesHeld')))),
      h(
        'tbody',
        {},
        [...state.freshness].map(([code, fresh]) =>
          h('tr', { dataset: { region: code } }, h('th', { scope: 'row' }, regionName(code)), h('td', {}, when(fresh.newest)), h('td', {}, fresh.count)),
        ),
      ),
    ),
  );
}

function renderSync() {
  const sync = state.sync;
  if (!sync) return;
  if (sync.needsToken) {
    $('sync').replaceChildren(h('p', { class: 'note' }, t('syncNeedsToken')));
  } else if (!sync.peers.length) {
    $('sync').replaceChildren(h('p', { class: 'note' }, t('syncNone')));
  } else {
    $('sync').replaceChildren(
      h(
        'table',
        { class: 'plain-table' },
        h('thead', {}, h('tr', {}, [t('peer'), t('lastSuccess'), t('lag'), t('lastError')].map((c) => h('th', { scope: 'col' }, c)))),
        h(
          'tbody',
          {},
          sync.peers.map((p) =>
            h('tr', {}, h('th', { scope: 'row' }, p.peer), h('td', {}, when(p.lastSuccess)), h('td', {}, p.lag ?? '—'), h('td', {}, p.lastError || '—')),
          ),
        ),
      ),
    );
  }
}

function renderCoverage() {
  if (!state.coverage) return;
  $('business-coverage').replaceChildren(
    h(
      'table',
      { class: 'plain-table' },
      h(
        'tbody',
        {},
        [...state.coverage].map(([code, c]) =>
          h(
            'tr',
            { dataset: { region: code } },
            h('th', { scope: 'row' }, regionName(code)),
            h('td', { class: 'meter' }, bar(c.share), `${percent(c.share)} (${c.covered}/${c.total})`),
          ),
        ),
      ),
    ),
  );
}

function renderRegionCoverage() {
  if (!state.regionCoverage.size) return;
  const rows = visibleRows().filter((row) => state.regionCoverage.has(row.matter.code));
  replaceKeeping(
    $('region-coverage'),
    h(
      'table',
      { class: 'plain-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('matter')), h('th', { scope: 'col' }, t('regions')))),
      h(
        'tbody',
        {},
        rows.map((row) => {
          const c = state.regionCoverage.get(row.matter.code);
          return h(
            'tr',
            { dataset: { matter: row.matter.code } },
            h('th', { scope: 'row' }, named(row.matter)),
            h('td', { class: 'meter' }, bar(c.share), `${percent(c.share)} (${c.covered}/${c.total})`),
          );
        }),
      ),
    ),
  );
}

/** A line chart of one metric's index per period, drawn as SVG; each point is focusable. */
function lineChart(metric, points) {
  const width = 420;
  const height = 200;
  const pad = { left: 48, right: 28, top: 16, bottom: 36 };
  const top = Math.max(...points.map((p) => p.cv)) * 1.15 || 1;
  const x = (i) => pad.left + (points.length === 1 ? (width - pad.left - pad.right) / 2 : (i * (width - pad.left - pad.right)) / (points.length - 1));
  const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
  const ticks = [0, top / 2, top];
  const label = `${t('metrics')[metric]}: ${t('cv')}`;
  const svg = h(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'group', 'aria-label': label },
    ticks.map((v) =>
      h(
        'g',
        { class: 'tick', 'aria-hidden': 'true' },
        h('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v) }),
        h('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, number(v, 3)),
      ),
    ),
    h('polyline', { class: 'line', points: points.map((p, i) => `${x(i)},${y(p.cv)}`).join(' '), 'aria-hidden': 'true' }),
    points.map((p, i) => {
      const text = `${p.period}: ${t('cv')} ${number(p.cv, 4)}; ${t('mean')} ${number(p.mean, 2)}`;
      const dot = h('circle', {
        cx: x(i),
        cy: y(p.cv),
        r: 5,
        tabindex: '0',
        role: 'img',
        'aria-label': text,
        class: 'point',
        dataset: { key: `${metric} ${p.period}` },
      });
      return withTip(dot, () => text);
    }),
    points.map((p, i) => h('text', { x: x(i), y: height - 12, 'text-anchor': 'middle', 'aria-hidden': 'true' }, p.period)),
  );
  const table = h(
    'details',
    { dataset: { key: `table ${metric}` } },
    h('summary', {}, t('dataTable')),
    h(
      'table',
      { class: 'plain-table' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('period')), h('th', { scope: 'col' }, t('cv')), h('th', { scope: 'col' }, t('mean')))),
      h('tbody', {}, points.map((p) => h('tr', {}, h('th', { scope: 'row' }, p.period), h('td', {}, number(p.cv, 4)), h('td', {}, number(p.mean, 2))))),
    ),
  );
  return h('figure', { class: 'chart-box', dataset: { metric } }, h('figcaption', {}, label), svg, table);
}

function renderEqualization() {
  const eq = state.equalization;
  if (!eq) return;
  const charts = Object.entries(eq.series).map(([metric, points]) =>
    points.length ? lineChart(metric, points) : h('figure', { class: 'chart-box' }, h('figcaption', {}, t('metrics')[metric]), h('p', { class: 'note' }, t('noPeriods'))),
  );
  const cards = Object.entries(eq.current).map(([metric, value]) =>
    h(
      'figure',
      { class: 'chart-box card', dataset: { metric } },
      h('figcaption', {}, `${t('metrics')[metric]}: ${t('cv')}`),
      h('p', { class: 'big' }, value.coefficientOfVariation === null ? '—' : number(value.coefficientOfVariation, 4)),
      h('p', {}, `${t('now')} · ${t('mean')} ${value.mean === null ? '—' : number(value.mean, 2)}`),
      h('p', { class: 'note' }, t('currentOnly')),
    ),
  );
  replaceKeeping($('equalization'), ...charts, ...cards);
}

function violationText(v) {
  if (state.lang === 'en') return v.message;
  const row = state.matrix?.matters.find((m) => m.matter.code === v.matter);
  const cell = row?.cells.find((c) => c.region === v.region);
  const item = v.nationalItem;
  if (v.rule === 'TIME_LIMIT') return `${t('actual')} ${t('days')(cell?.timeLimitDays ?? '?')}，${t('baseline')} ${t('days')(item.maxTimeLimitDays)}`;
  if (v.rule === 'FEE') return `${t('actual')} ${t('yuan')(cell?.fee ?? '?')}，${t('baseline')} ${t('yuan')(item.maxFee)}`;
  return `${t('baseline')}：${item.requiredChannels.map(channelName).join('、')}；${t('actual')}：${(cell?.channels || []).map(channelName).join('、')}`;
}

function renderViolations() {
  if (!state.violations) return;
  const matters = new Map((state.matrix?.matters || []).map((row) => [row.matter.code, row.matter]));
  $('violations').replaceChildren(
    state.violations.length
      ? h(
          'table',
          { class: 'plain-table', id: 'violation-table' },
          h('thead', {}, h('tr', {}, [t('member'), t('matter'), t('rule'), t('detail')].map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            state.violations.map((v) =>
              h(
                'tr',
                { dataset: { region: v.region, matter: v.matter, rule: v.rule } },
                h('th', { scope: 'row' }, regionName(v.region)),
                h('td', {}, matters.has(v.matter) ? named(matters.get(v.matter)) : v.matter),
                h('td', {}, t('rules')[v.rule] || v.rule),
                h('td', {}, violationText(v)),
              ),
            ),
          ),
        )
      : h('p', { class: 'note' }, t('noViolations')),
  );
}

// ---------------------------------------------------------------- start

function chooseZone(code) {
  state.zone = code;
  state.matrix = null;
  state.detail = null;
  state.freshness = new Map();
  state.freshnessPages = new Map();
  state.coverage = null;
  state.regionCoverage = new Map();
  state.equalization = null;
  state.equalizationPeriods = null;
  state.equalizationAnswers = new Map();
  state.violations = null;
  for (const id of ['freshness', 'business-coverage', 'region-coverage', 'equalization', 'violations']) {
    $(id).replaceChildren();
  }
  state.focus = { row: 0, col: 0 };
  history.replaceState(null, '', `#zone=${code}`);
  renderSummary();
  renderHeatmap();
  loadZone();
}

async function start() {
  applyLanguage();
  setStatus('loading');
  renderLive();
  // Opened while the reference data loads, so that the zone can load live.
  live.connect();
  try {
    await loadReference();
  } catch (error) {
    setStatus('failed', error.message, true);
    return;
  }
  const wanted = new URLSearchParams(location.hash.slice(1)).get('zone');
  state.zone = state.zones.some((z) => z.code === wanted) ? wanted : state.zones[0]?.code;
  applyLanguage();
  $('zone').addEventListener('change', (event) => chooseZone(event.target.value));
  $('refresh').addEventListener('click', () => {
    // A reader who asks for fresh data while the socket is down also asks for it back.
    live.retry();
    loadZone();
  });
  $('language').addEventListener('click', () => {
    state.lang = state.lang === 'zh' ? 'en' : 'zh';
    localStorage.setItem('concord-lang', state.lang);
    applyLanguage();
  });
  for (const id of ['category', 'sort']) {
    $(id).addEventListener('change', () => {
      state.focus = { row: 0, col: 0 };
      renderHeatmap();
      renderRegionCoverage();
    });
  }
  $('detail-close').addEventListener('click', () => $('detail').close());
  $('detail').addEventListener('close', () => {
    hideTip();
    state.detail = null;
    unwatch('detail');
    focusCell(state.focus.row, state.focus.col);
  });
  $('token-save').addEventListener('click', () => {
    const token = $('token-input').value.trim();
    if (token) sessionStorage.setItem('concord-token', token);
    else sessionStorage.removeItem('concord-token');
    $('token-input').value = '';
    // The socket runs as the token given when it opened.
    live.restart();
    loadZone();
  });
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') hideTip();
  });
  // Closed when the page is left, so that the back-forward cache may keep
  // it; opened again if the page comes back from there.
  window.addEventListener('pagehide', () => live.close());
  window.addEventListener('pageshow', (event) => {
    if (event.persisted) live.restart();
  });
  window.addEventListener('online', () => live.retry());
  if (state.zone) chooseZone(state.zone);
}

start();
