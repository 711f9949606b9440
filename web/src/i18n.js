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

/** Locale for number formatting: Chinese grouping in both languages keeps numbers comparable. */
export function fmt(n, digits = 0) {
  if (n == null || !Number.isFinite(Number(n))) return '—';
  return Number(n).toLocaleString('zh-CN', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}
