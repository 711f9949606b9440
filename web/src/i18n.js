// UI strings, Chinese first. `t(key, vars)` looks a key up in the current language; elements
// with data-i18n / data-i18n-placeholder / data-i18n-title are refreshed by applyStatic().
// Data values (village, town names) stay as the server sends them.

const zh = {
  title: '联村片区规划 · 村庄地图',
  searchPlaceholder: '搜索村名或村代码…',
  searchNone: '没有匹配的村庄',
  searchUnavailable: '村庄列表未加载，无法搜索',
  layers: '图层',
  legend: '图例',
  colourBy: '村庄着色',
  modeTown: '按乡镇',
  modeIndustry: '按主导产业',
  modeStrong: '按强弱',
  close: '关闭',
  langButton: 'EN',
  langButtonTitle: 'Switch to English',

  layer_villages: '村界',
  layer_parcels: '图斑',
  layer_greenhouses: '大棚',
  layer_facilities: '设施',
  layer_roads: '道路',
  layer_members: '其他成员',
  layerZoomHint: '放大至 {z} 级显示',

  legendVillages: '村庄（{mode}）',
  legendParcels: '三调地类',
  legendGreenhouses: '大棚',
  legendFacilities: '设施',
  legendRoads: '道路',
  legendMembers: '其他成员',
  legendSelected: '选中村庄',
  legendNoTowns: '乡镇列表未加载',
  strongVillage: '强村',
  normalVillage: '一般村',
  unknown: '未知',
  other: '其他',

  panelLoading: '正在加载…',
  panelNotFound: '未找到村代码为 {code} 的村庄（404）。',
  panelError: '村庄信息加载失败：{msg}',
  town: '乡镇',
  code: '村代码',
  population: '人口',
  households: '户数',
  partyMembers: '党员',
  collectiveIncome: '村集体收入',
  industry: '主导产业',
  strongWeak: '强弱',
  area: '面积',
  cultivated: '耕地',
  construction: '建设用地',
  density: '人口密度',
  landUse: '土地利用（三调）',
  landUseDetail: '二级地类明细',
  landUseNone: '无图斑数据',
  greenhouses: '大棚',
  greenhouseCount: '{n} 个',
  greenhouseArea: '占地',
  facilities: '设施',
  facilitiesNone: '无',
  unitPerson: '人',
  unitHousehold: '户',
  unitWan: '万元',
  unitMu: '亩',
  unitKm2: 'km²',
  unitPerKm2: '人/km²',
  parcelHint: '图斑面积合计',

  errNetwork: '无法连接服务器：{what}',
  errHttp: '服务器错误 {status}：{what}',
  errVillagesList: '村庄列表',
  errTileJson: '图层 {layer} 的瓦片信息',
  errNoVillages: '村界图层不可用，地图无法显示村庄。',
  errConfig: '地图配置',
  errMap: '地图渲染出错：{msg}',
  errWebgl: '浏览器不支持 WebGL，无法显示地图。',

  modeZone: '按片区',
  zonesTitle: '片区方案',
  minMembers: '最少村数',
  maxMembers: '最多村数',
  popFloor: '人口下限',
  popCeiling: '人口上限',
  withinTown: '不跨乡镇',
  seed: '随机种子',
  noLimit: '不限',
  propose: '生成方案',
  importZoning: '导入方案评价',
  importZoningTitle: '读取方案文件并按上面的约束评价：JSON（生成的方案、{"labels": …} 或 {村代码: 片区}）或 CSV（村代码,片区）',
  clearZoning: '清除',
  busyPropose: '正在生成方案…',
  busyEvaluate: '正在评价方案…',
  zonesEmpty: '生成一个方案，或导入已有方案进行评价。',
  zonesFromProposal: '生成的方案',
  zonesFromFile: '导入：{name}',
  sumZones: '{n} 个片区',
  sumViolations: '{n} 处违反约束',
  sumViolation1: '1 处违反约束',
  sumViolationZones: '（{n} 个片区）',
  sumNoViolation: '全部满足约束',
  sumDisconnected: '{n} 个不连通',
  sumUnassigned: '{n} 个村未分配',
  sumSeconds: '用时 {s} 秒',
  sumTimeLimit: '已达时间上限',
  sumObjective: '目标函数 {v}',
  zoneMembers: '{n} 村',
  zoneMember1: '1 村',
  zoneViolations: '{n} 处违反',
  zoneViolation1: '1 处违反',
  zoneKicker: '片区',
  zoneKeyVillage: '核心村',
  zoneMemberList: '成员村',
  zonePopulation: '人口',
  zoneIncome: '集体收入合计',
  zoneGini: '收入基尼系数',
  zoneIncomeRange: '村集体收入',
  zoneCompactness: '紧凑度 (Polsby-Popper)',
  zoneFarthest: '核心村到最远成员',
  zoneArea: '面积',
  zoneStrong: '强村',
  zoneConnected: '连片',
  zoneParts: '{n} 块',
  zoneExplanation: '方案说明',
  zoneBinding: '起作用的约束',
  zoneViolationList: '违反的约束',
  zoneLocked: '锁定',
  zoneOtherMembers: '其他成员',
  villageZone: '所属片区',
  villageNoZone: '不在任何片区（未分配）',
  showZone: '查看片区',
  yes: '是',
  no: '否',
  legendZones: '片区',
  legendZoneColours: '片区着色（相邻片区不同色）',
  legendZoneBoundary: '片区边界',
  legendKeyVillage: '核心村',
  legendViolation: '违反约束的片区',
  legendUnassigned: '未分配的村',
  legendProblem: '无法满足的请求涉及的村',
  errPropose: '生成片区方案',
  errEvaluate: '评价片区方案',
  errInfeasible: '无法满足约束「{constraint}」：{detail}（涉及 {n} 个村，已在地图上用红色标出）',
  errFile: '无法读取方案文件 {name}：{msg}',
  errFileEmpty: '文件中没有“村代码, 片区”记录',
  errFileJson: '不是有效的 JSON（{msg}）',
  errFileShape: 'JSON 应为方案 {"zones": […]}、{"labels": {…}} 或 {村代码: 片区}',
  c_pop_floor: '人口下限',
  c_pop_ceiling: '人口上限',
  c_min_members: '最少村数',
  c_max_members: '最多村数',
  c_strong: '须含强村',
  c_disconnected: '连片',
  c_within_town: '不跨乡镇',
  c_bounds: '成员数与人口约束',
  c_zones: '片区数',
  b_AtMaxMembers: '成员数已达上限 {v}',
  b_AtMinMembers: '成员数为下限 {v}',
  b_NearFloor: '人口接近下限 {v}',
  b_NearCeiling: '人口接近上限 {v}',
  b_SingleStrong: '仅含 1 个强村',
  b_WholeGroup: '所在连通区域（{v} 个村）只够组成这一个片区',
  b_WithinTown: '限于本乡镇',
  b_Locked: '锁定片区，按现有方案保留',
};

const en = {
  title: 'Joint-village planning · Village map',
  searchPlaceholder: 'Search village name or code…',
  searchNone: 'No matching village',
  searchUnavailable: 'Village list not loaded; search unavailable',
  layers: 'Layers',
  legend: 'Legend',
  colourBy: 'Colour villages',
  modeTown: 'By township',
  modeIndustry: 'By leading industry',
  modeStrong: 'By strength',
  close: 'Close',
  langButton: '中文',
  langButtonTitle: '切换到中文',

  layer_villages: 'Village boundaries',
  layer_parcels: 'Land parcels',
  layer_greenhouses: 'Greenhouses',
  layer_facilities: 'Facilities',
  layer_roads: 'Roads',
  layer_members: 'Other members',
  layerZoomHint: 'visible from zoom {z}',

  legendVillages: 'Villages ({mode})',
  legendParcels: 'Land use (3rd land survey)',
  legendGreenhouses: 'Greenhouses',
  legendFacilities: 'Facilities',
  legendRoads: 'Roads',
  legendMembers: 'Other members',
  legendSelected: 'Selected village',
  legendNoTowns: 'Township list not loaded',
  strongVillage: 'Strong village',
  normalVillage: 'Ordinary village',
  unknown: 'Unknown',
  other: 'Other',

  panelLoading: 'Loading…',
  panelNotFound: 'No village with code {code} (404).',
  panelError: 'Could not load the village: {msg}',
  town: 'Township',
  code: 'Code',
  population: 'Population',
  households: 'Households',
  partyMembers: 'Party members',
  collectiveIncome: 'Collective income',
  industry: 'Leading industry',
  strongWeak: 'Strength',
  area: 'Area',
  cultivated: 'Cultivated land',
  construction: 'Construction land',
  density: 'Population density',
  landUse: 'Land use (3rd land survey)',
  landUseDetail: 'Second-level classes',
  landUseNone: 'No parcel data',
  greenhouses: 'Greenhouses',
  greenhouseCount: '{n}',
  greenhouseArea: 'area',
  facilities: 'Facilities',
  facilitiesNone: 'None',
  unitPerson: '',
  unitHousehold: '',
  unitWan: '×10⁴ CNY',
  unitMu: 'mu',
  unitKm2: 'km²',
  unitPerKm2: '/km²',
  parcelHint: 'total parcel area',

  errNetwork: 'Cannot reach the server: {what}',
  errHttp: 'Server error {status}: {what}',
  errVillagesList: 'village list',
  errTileJson: 'tile info of layer {layer}',
  errNoVillages: 'The village layer is unavailable; villages cannot be shown.',
  errConfig: 'map configuration',
  errMap: 'Map rendering error: {msg}',
  errWebgl: 'This browser does not support WebGL; the map cannot be shown.',

  modeZone: 'By zone',
  zonesTitle: 'Zones',
  minMembers: 'Min. villages',
  maxMembers: 'Max. villages',
  popFloor: 'Min. population',
  popCeiling: 'Max. population',
  withinTown: 'Within township',
  seed: 'Random seed',
  noLimit: 'none',
  propose: 'Propose',
  importZoning: 'Evaluate file',
  importZoningTitle: 'Read a zoning and evaluate it under the bounds above: JSON (a proposal, {"labels": …} or {code: zone}) or CSV (village code, zone)',
  clearZoning: 'Clear',
  busyPropose: 'Proposing zones…',
  busyEvaluate: 'Evaluating…',
  zonesEmpty: 'Propose zones, or load an existing zoning to evaluate it.',
  zonesFromProposal: 'Proposal',
  zonesFromFile: 'File: {name}',
  sumZones: '{n} zones',
  sumViolations: '{n} violations',
  sumViolation1: '1 violation',
  sumViolationZones: ' (in {n} zones)',
  sumNoViolation: 'all constraints met',
  sumDisconnected: '{n} disconnected',
  sumUnassigned: '{n} villages unassigned',
  sumSeconds: '{s} s',
  sumTimeLimit: 'stopped by the time limit',
  sumObjective: 'objective {v}',
  zoneMembers: '{n} villages',
  zoneMember1: '1 village',
  zoneViolations: '{n} violations',
  zoneViolation1: '1 violation',
  zoneKicker: 'Zone',
  zoneKeyVillage: 'Key village',
  zoneMemberList: 'Member villages',
  zonePopulation: 'Population',
  zoneIncome: 'Collective income',
  zoneGini: 'Income Gini',
  zoneIncomeRange: 'Village income',
  zoneCompactness: 'Compactness (Polsby-Popper)',
  zoneFarthest: 'Key village to farthest member',
  zoneArea: 'Area',
  zoneStrong: 'Strong villages',
  zoneConnected: 'Contiguous',
  zoneParts: '{n} parts',
  zoneExplanation: 'Explanation',
  zoneBinding: 'Binding constraints',
  zoneViolationList: 'Violations',
  zoneLocked: 'locked',
  zoneOtherMembers: 'Other members',
  villageZone: 'Zone',
  villageNoZone: 'In no zone (unassigned)',
  showZone: 'Show zone',
  yes: 'yes',
  no: 'no',
  legendZones: 'Zones',
  legendZoneColours: 'Zone colours (neighbours differ)',
  legendZoneBoundary: 'Zone boundary',
  legendKeyVillage: 'Key village',
  legendViolation: 'Zone breaking a constraint',
  legendUnassigned: 'Unassigned village',
  legendProblem: 'Villages of an infeasible request',
  errPropose: 'zone proposal',
  errEvaluate: 'zoning evaluation',
  errInfeasible: 'Constraint “{constraint}” cannot be met: {detail} ({n} villages involved, marked red on the map)',
  errFile: 'Cannot read the zoning file {name}: {msg}',
  errFileEmpty: 'no “village code, zone” rows in the file',
  errFileJson: 'not valid JSON ({msg})',
  errFileShape: 'the JSON should be a proposal {"zones": […]}, {"labels": {…}} or {code: zone}',
  c_pop_floor: 'population floor',
  c_pop_ceiling: 'population ceiling',
  c_min_members: 'minimum villages',
  c_max_members: 'maximum villages',
  c_strong: 'strong village required',
  c_disconnected: 'contiguity',
  c_within_town: 'within township',
  c_bounds: 'member and population bounds',
  c_zones: 'number of zones',
  b_AtMaxMembers: 'at the maximum of {v} villages',
  b_AtMinMembers: 'at the minimum of {v} villages',
  b_NearFloor: 'population near the floor {v}',
  b_NearCeiling: 'population near the ceiling {v}',
  b_SingleStrong: 'a single strong village',
  b_WholeGroup: 'its connected group ({v} villages) makes just this zone',
  b_WithinTown: 'kept within its township',
  b_Locked: 'locked zone, kept as given',
};

// English names of data values (industry, facility and member kinds, 三调 classes).
const valueNamesEn = {
  苹果: 'Apple',
  蔬菜: 'Vegetables',
  食用菌: 'Edible fungi',
  桃: 'Peach',
  畜牧: 'Livestock',
  乡村旅游: 'Rural tourism',
  粮食: 'Grain',
  工业: 'Industry',
  党群服务中心: 'Party & community service centre',
  卫生室: 'Village clinic',
  养老服务中心: 'Elderly care centre',
  冷库: 'Cold store',
  农事服务中心: 'Farm service centre',
  企业: 'Enterprise',
  学校: 'School',
  社区: 'Community',
  塑料大棚: 'Plastic tunnel',
  日光温室: 'Solar greenhouse',
  连栋温室: 'Multi-span greenhouse',
  县道: 'County road',
  村道: 'Village road',
  湿地: 'Wetland',
  耕地: 'Cultivated land',
  园地: 'Garden land',
  林地: 'Forest land',
  草地: 'Grassland',
  商业服务业用地: 'Commercial & service',
  工矿用地: 'Industrial & mining',
  住宅用地: 'Residential',
  公共管理与公共服务用地: 'Public administration & services',
  特殊用地: 'Special use',
  交通运输用地: 'Transport',
  水域及水利设施用地: 'Water & water facilities',
  其他土地: 'Other land',
};

const dicts = { zh, en };
let lang = 'zh';
const listeners = new Set();

export function getLang() {
  return lang;
}

export function t(key, vars = {}) {
  const s = dicts[lang][key] ?? zh[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (_, k) => (vars[k] ?? `{${k}}`));
}

/** The display name of a data value (e.g. an industry) in the current language. */
export function tv(value) {
  if (value == null || value === '') return t('unknown');
  if (lang === 'en') return valueNamesEn[value] ?? String(value);
  return String(value);
}

export function setLang(next) {
  if (!dicts[next] || next === lang) return;
  lang = next;
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
  applyStatic();
  for (const fn of listeners) fn(lang);
}

export function onLangChange(fn) {
  listeners.add(fn);
}

export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) {
    el.placeholder = t(el.dataset.i18nPlaceholder);
  }
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
}

const CJK = /[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]/;

/**
 * The current language's half of a bilingual server text. The zone analyses write "中文 / English"
 * (sometimes just "中文 English"); a text without both halves is returned whole.
 */
export function pickLang(text) {
  const s = String(text ?? '').trim();
  let zhPart = null;
  let enPart = null;
  const slash = s.indexOf(' / ');
  if (slash > 0 && CJK.test(s.slice(0, slash))) {
    zhPart = s.slice(0, slash).trim();
    enPart = s.slice(slash + 3).trim();
  } else {
    const m = s.match(/^(.*[\u3000-\u303f\u3400-\u9fff\uff00-\uffef])\s+([A-Za-z][^\u3400-\u9fff]*)$/);
    if (m) [zhPart, enPart] = [m[1].trim(), m[2].trim()];
  }
  if (zhPart == null || !enPart) return s;
  return lang === 'en' ? enPart : zhPart;
}

/** Locale for number formatting: Chinese grouping in both languages keeps numbers comparable. */
export function fmt(n, digits = 0) {
  if (n == null || !Number.isFinite(Number(n))) return '—';
  return Number(n).toLocaleString('zh-CN', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
