// Colours of the map. The colours a printed sheet shares (land use, facility kinds, zones, the
// key village, violations) live in symbology.json, read by the server's sheet renderer too.

import symbology from './symbology.json';

// 三调 land-use palette (first-level classes, keyed by the first two digits of DLBM, 湿地 as class
// 00). Source: the customary colours of the 土地利用现状图 of the Third National Land Survey —
// 《第三次全国国土调查技术规程》TD/T 1055-2019, 附录 “土地利用现状图图式” (the 图示 standard the
// 三调 maps follow, discussed in 《第三次全国国土调查土地利用现状图的优化设计》, 测绘地理信息,
// html.rhhz.net/CHDLXX): 耕地 pale yellow, 园地 orange-yellow, 林地 green, 草地 yellow-green,
// 湿地 blue-green, 商服 / 住宅 / 公共服务 reds and pinks, 工矿 brown, 特殊用地 purple-grey,
// 交通 grey, 水域 light blue, 其他土地 beige-grey. The RGB values (symbology.json) follow those hues for
// screen display; they are not copied from the 规程's CMYK table (which was not available when
// this was written), so check them against the 规程's appendix before printing official maps.
export const LAND_CLASSES = symbology.land_classes;
export const LAND_FALLBACK = symbology.land_fallback;

/** 三调 工作分类 puts these second-level codes in the 湿地 (00) first-level class. */
export const WETLAND_CODES = ['0303', '0304', '0306', '0402', '0603', '1105', '1106', '1108'];

/** Names of the 三调 second-level codes (第三次全国国土调查工作分类). */
export const LAND_CODE_NAMES = {
  '0101': '水田', '0102': '水浇地', '0103': '旱地',
  '0201': '果园', '0202': '茶园', '0203': '橡胶园', '0204': '其他园地',
  '0301': '乔木林地', '0302': '竹林地', '0303': '红树林地', '0304': '森林沼泽',
  '0305': '灌木林地', '0306': '灌丛沼泽', '0307': '其他林地',
  '0401': '天然牧草地', '0402': '沼泽草地', '0403': '人工牧草地', '0404': '其他草地',
  '05H1': '商业服务业设施用地', '0508': '物流仓储用地',
  '0601': '工业用地', '0602': '采矿用地', '0603': '盐田',
  '0701': '城镇住宅用地', '0702': '农村宅基地',
  '08H1': '机关团体新闻出版用地', '08H2': '科教文卫用地', '0809': '公用设施用地', '0810': '公园与绿地',
  '09': '特殊用地',
  '1001': '铁路用地', '1002': '轨道交通用地', '1003': '公路用地', '1004': '城镇村道路用地',
  '1005': '交通服务场站用地', '1006': '农村道路', '1007': '机场用地', '1008': '港口码头用地',
  '1009': '管道运输用地',
  '1101': '河流水面', '1102': '湖泊水面', '1103': '水库水面', '1104': '坑塘水面', '1105': '沿海滩涂',
  '1106': '内陆滩涂', '1107': '沟渠', '1108': '沼泽地', '1109': '水工建筑用地', '1110': '冰川及永久积雪',
  '1201': '空闲地', '1202': '设施农用地', '1203': '田坎', '1204': '盐碱地', '1205': '沙地',
  '1206': '裸土地', '1207': '裸岩石砾地',
};

/** First-level class of a DLBM code, 湿地 codes as '00'. */
export function landClassOf(code) {
  const c = String(code ?? '').trim();
  if (WETLAND_CODES.includes(c)) return '00';
  return c.slice(0, 2);
}

export function landClassInfo(cls) {
  return LAND_CLASSES.find((c) => c.cls === cls) ?? { cls, name: cls, color: LAND_FALLBACK };
}

/** MapLibre expression: parcel fill colour from `dlbm`. */
export function parcelColorExpression() {
  const prefix = ['slice', ['to-string', ['get', 'dlbm']], 0, 2];
  const byPrefix = ['match', prefix];
  for (const c of LAND_CLASSES) if (c.cls !== '00') byPrefix.push(c.cls, c.color);
  byPrefix.push(LAND_FALLBACK);
  return [
    'case',
    ['in', ['to-string', ['get', 'dlbm']], ['literal', WETLAND_CODES]],
    landClassInfo('00').color,
    byPrefix,
  ];
}

// Townships: ColorBrewer Set3 (Cynthia Brewer, colorbrewer2.org), the 12-class qualitative pastel
// scheme — 沂源县 has 12 towns; cycles after that.
export const TOWN_COLORS = [
  '#8dd3c7', '#ffffb3', '#bebada', '#fb8072', '#80b1d3', '#fdb462',
  '#b3de69', '#fccde5', '#d9d9d9', '#bc80bd', '#ccebc5', '#ffed6f',
];

// Leading industries (主导产业).
export const INDUSTRIES = [
  { value: '苹果', color: '#d94c45' },
  { value: '蔬菜', color: '#63ad5c' },
  { value: '食用菌', color: '#a97c55' },
  { value: '桃', color: '#f3a0bd' },
  { value: '畜牧', color: '#e6b545' },
  { value: '乡村旅游', color: '#4f9fd4' },
  { value: '粮食', color: '#eadb8a' },
  { value: '工业', color: '#8b8fa6' },
];
export const INDUSTRY_OTHER = '#d5d5d5';

export const STRONG_COLOR = '#c8553d';
export const NORMAL_COLOR = '#a7bfd1';

// Facilities (设施): one colour and glyph per kind (icons drawn in icons.js).
export const FACILITY_KINDS = symbology.facility_kinds;
export const FACILITY_OTHER = symbology.facility_other;

// Other members (其他成员): enterprises, schools, communities.
export const MEMBER_KINDS = [
  { value: '企业', color: '#6a4c93', glyph: 'factory' },
  { value: '学校', color: '#1d4e89', glyph: 'flag' },
  { value: '社区', color: '#b5651d', glyph: 'house' },
];
export const MEMBER_OTHER = { value: null, color: '#6b7280', glyph: 'dot' };

export const GREENHOUSE_KINDS = [
  { value: '塑料大棚', color: '#d7e8f6' },
  { value: '日光温室', color: '#b3d3ee' },
  { value: '连栋温室', color: '#8dbbe3' },
];
export const GREENHOUSE_OTHER = '#e4eef7';
export const GREENHOUSE_LINE = '#3f77ad';

export const ROAD_CLASSES = [
  { value: '县道', color: '#e3913f', width: [8, 1.2, 12, 2.6, 16, 6] },
  { value: '村道', color: '#8d939b', width: [8, 0.4, 12, 1.1, 16, 3.2] },
];
export const ROAD_OTHER = { color: '#a3a8ae', width: [8, 0.4, 12, 1, 16, 3] };

export const HIGHLIGHT_COLOR = '#ff5a1f';
export const BACKGROUND_COLOR = '#f4f2ec';

// Zones (片区). The server gives every zone a small `colour` index from a map colouring in which
// neighbouring zones differ (usually 0..5); the index picks one of these eight. Mid-light hues that
// stay apart from each other under the village fill's opacity, and none of them red or grey: red
// is kept for violations, grey for villages in no zone. Indices beyond 7 cycle.
export const ZONE_COLORS = symbology.zone_colors;
export const ZONE_LINE = symbology.zone_line; // dissolved zone outlines
export const ZONE_SELECTED = '#1d5b87'; // the zone picked in the list (the page's accent)
export const KEY_VILLAGE_COLOR = symbology.key_village; // 中心村 star
export const VIOLATION_COLOR = symbology.violation; // zones breaking a constraint, villages an error names
export const UNASSIGNED_COLOR = symbology.unassigned; // villages the zoning leaves out

export function zoneColor(index) {
  const i = Number(index);
  return Number.isInteger(i) && i >= 0 ? ZONE_COLORS[i % ZONE_COLORS.length] : UNASSIGNED_COLOR;
}

// Facility analyses (设施分析). Coverage colours the villages pale green (covered) or orange
// (uncovered, also hatched and outlined orange-red so that they stand out at any zoom); service
// areas are teal around existing facilities and violet around new sites, which are violet
// numbered markers; the key-village ranking is outlined in the page's accent blue.
export const COVERED_COLOR = '#bfe3b4';
export const UNCOVERED_COLOR = '#f59a4a';
export const UNCOVERED_LINE = '#d9480f';
export const AREA_EXISTING = '#0f8b7d';
export const AREA_NEW = '#7b3fc4';
export const NEW_SITE_COLOR = '#6d28d9';
export const RANK_COLOR = '#1d5b87';
export const MEDIAN_COLOR = '#c2410c';
