// Sources and style layers of the map, and the expressions that colour them.
import {
  AREA_EXISTING, AREA_NEW, BACKGROUND_COLOR, COVERED_COLOR, FACILITY_KINDS, FACILITY_OTHER,
  GREENHOUSE_KINDS, GREENHOUSE_LINE, GREENHOUSE_OTHER, HIGHLIGHT_COLOR, INDUSTRIES, INDUSTRY_OTHER,
  MEDIAN_COLOR, MEMBER_KINDS, MEMBER_OTHER, KEY_VILLAGE_COLOR, NEW_SITE_COLOR, NORMAL_COLOR, RANK_COLOR,
  ROAD_CLASSES, ROAD_OTHER, STRONG_COLOR, TOWN_COLORS, UNASSIGNED_COLOR, UNCOVERED_COLOR, UNCOVERED_LINE,
  VIOLATION_COLOR, ZONE_COLORS, ZONE_LINE, ZONE_SELECTED, parcelColorExpression,
} from './palette.js';
import {
  badgeCanvas, canvasImageData, hatchCanvas, keyVillageCanvas, labelImage, numberedMarkerImage, targetCanvas,
} from './icons.js';

/** The vector layers the server may publish, in drawing order of their main layers. */
export const DATA_LAYERS = ['villages', 'parcels', 'greenhouses', 'roads', 'members', 'facilities'];
/** Order in the layer list. */
export const LIST_ORDER = ['villages', 'parcels', 'greenhouses', 'facilities', 'roads', 'members'];

export const VILLAGE_FILL = 'villages-fill';
/** The dissolved zone outlines (the test queries this layer). */
export const ZONE_LINE_LAYER = 'zones-line';
/** Facility analyses: service areas, new sites (numbered), the ranking's table rows on the map. */
export const FAC_AREA_LAYER = 'fac-areas-fill';
export const FAC_NEW_SITE_LAYER = 'fac-sites-new';
export const FAC_UNCOVERED_LAYER = 'fac-uncovered-fill';

const NO_CODE = '\u0000';
const EMPTY_FC = { type: 'FeatureCollection', features: [] };

/**
 * Where zones live on the villages source: the MVT layer name (for feature-state) and the codes
 * that currently carry a zone colour (to clear them again).
 */
const zoneState = { sourceLayer: 'villages', coloured: [] };
/** The codes that carry a coverage state (`cov`) of a facility analysis. */
const facState = { coloured: [] };

/** Style layers that belong to each toggleable data layer. */
export const LAYER_GROUPS = {
  villages: ['villages-fill', 'villages-line', 'town-labels', 'village-labels'],
  parcels: ['parcels-fill', 'parcels-line'],
  greenhouses: ['greenhouses-fill', 'greenhouses-line'],
  roads: ['roads-casing', 'roads-line'],
  members: ['members-fill', 'members-line', 'members-icon'],
  facilities: ['facilities-icon'],
};

const RATIO = Math.min(3, Math.max(2, Math.ceil(window.devicePixelRatio || 1)));

export function baseStyle() {
  return {
    version: 8,
    sources: {},
    layers: [{ id: 'background', type: 'background', paint: { 'background-color': BACKGROUND_COLOR } }],
  };
}

export function facilityImageId(kind) {
  return `fac:${kind ?? 'other'}`;
}
export function memberImageId(kind) {
  return `mem:${kind ?? 'other'}`;
}

function addIcons(map) {
  for (const k of [...FACILITY_KINDS, FACILITY_OTHER]) {
    map.addImage(facilityImageId(k.value), canvasImageData(badgeCanvas(k, 'circle', 22, RATIO)), { pixelRatio: RATIO });
  }
  for (const k of [...MEMBER_KINDS, MEMBER_OTHER]) {
    map.addImage(memberImageId(k.value), canvasImageData(badgeCanvas(k, 'square', 22, RATIO)), { pixelRatio: RATIO });
  }
  // Village (vl:) and town (tl:) name labels are drawn when the map first needs them.
  map.addImage('zone-key', canvasImageData(keyVillageCanvas(KEY_VILLAGE_COLOR, 22, RATIO)), { pixelRatio: RATIO });
  map.addImage('hatch:violation', canvasImageData(hatchCanvas('rgba(217,45,32,0.7)', { size: 8, width: 1.4, background: 'rgba(217,45,32,0.08)', ratio: RATIO })), { pixelRatio: RATIO });
  map.addImage('hatch:unassigned', canvasImageData(hatchCanvas('rgba(82,96,109,0.55)', { size: 6, width: 1, background: 'rgba(255,255,255,0.35)', ratio: RATIO })), { pixelRatio: RATIO });
  map.addImage('hatch:uncovered', canvasImageData(hatchCanvas('rgba(217,72,15,0.75)', { size: 7, width: 1.5, background: 'rgba(245,154,74,0.18)', ratio: RATIO })), { pixelRatio: RATIO });
  map.addImage('fac-median', canvasImageData(targetCanvas(MEDIAN_COLOR, 32, RATIO)), { pixelRatio: RATIO });
  // Numbered markers are drawn on demand too: new facility sites (facn:) and ranked villages (rank:).
  map.setMissingStyleImageResolver((id) => {
    if (map.hasImage(id)) return;
    if (id.startsWith('facn:')) {
      map.addImage(id, numberedMarkerImage(id.slice(5), { color: NEW_SITE_COLOR, shape: 'diamond', size: 26, ratio: RATIO }), { pixelRatio: RATIO });
    } else if (id.startsWith('rank:')) {
      map.addImage(id, numberedMarkerImage(id.slice(5), { color: RANK_COLOR, size: 22, ratio: RATIO }), { pixelRatio: RATIO });
    } else if (id.startsWith('vl:')) {
      map.addImage(id, labelImage(id.slice(3), { size: 12, weight: 500, ratio: RATIO }), { pixelRatio: RATIO });
    } else if (id.startsWith('tl:')) {
      map.addImage(
        id,
        labelImage(id.slice(3), { size: 15, weight: 700, color: '#34414e', ratio: RATIO, spacing: 2 }),
        { pixelRatio: RATIO },
      );
    }
  });
}

function matchExpr(prop, entries, fallback, pick = (e) => e.color) {
  if (!entries.length) return fallback;
  const m = ['match', ['to-string', ['get', prop]]];
  for (const e of entries) m.push(e.value, pick(e));
  m.push(fallback);
  return m;
}

/** Town → colour, in the order of `towns` (sorted by town code). */
export function townColors(towns) {
  return towns.map((town, i) => ({ value: town, color: TOWN_COLORS[i % TOWN_COLORS.length] }));
}

/**
 * Zone colouring reads the feature-state `zc` (the zone's colour index, set per village by
 * showZoning()): a state change repaints only the affected tiles, without recompiling a
 * per-village `match` over thousands of codes. Villages without the state are unassigned.
 */
function zoneColorExpression() {
  const m = ['match', ['coalesce', ['feature-state', 'zc'], -1]];
  ZONE_COLORS.forEach((c, i) => m.push(i, c));
  m.push(UNASSIGNED_COLOR);
  return m;
}

/**
 * Coverage colouring (facility analyses) reads the feature-state `cov` set by showFacilities():
 * 1 covered, 0 not; villages without it (not in the analysis) stay grey.
 */
function coverageColorExpression() {
  return ['match', ['coalesce', ['feature-state', 'cov'], -1], 1, COVERED_COLOR, 0, UNCOVERED_COLOR, UNASSIGNED_COLOR];
}

export function villageColorExpression(mode, towns) {
  if (mode === 'zone') return zoneColorExpression();
  if (mode === 'coverage') return coverageColorExpression();
  if (mode === 'industry') return matchExpr('industry', INDUSTRIES, INDUSTRY_OTHER);
  if (mode === 'strong') {
    const s = ['get', 'strong'];
    return ['case', ['any', ['==', s, true], ['==', s, 1], ['==', s, 'true']], STRONG_COLOR, NORMAL_COLOR];
  }
  return matchExpr('town', townColors(towns), '#c9d3dc');
}

function vectorSource(tj, extra = {}) {
  const src = { type: 'vector', tiles: tj.tiles, minzoom: tj.minzoom ?? 0, maxzoom: tj.maxzoom ?? 14, ...extra };
  if (Array.isArray(tj.bounds) && tj.bounds.length === 4) src.bounds = tj.bounds;
  if (tj.attribution) src.attribution = tj.attribution;
  return src;
}

function sourceLayerOf(layer, tj) {
  // The MVT layer is named like the layer; trust the TileJSON if it says otherwise.
  const ids = (tj.vector_layers ?? []).map((v) => v.id);
  return ids.length && !ids.includes(layer) ? ids[0] : layer;
}

/**
 * Adds every source and layer. `tilejson` maps layer id → TileJSON (absent layers missing);
 * `villages` is the /villages list (may be empty); `basemap` an XYZ raster URL or null.
 */
export function addLayers(map, { tilejson, villages, towns, basemap, mode }) {
  addIcons(map);

  if (typeof basemap === 'string' && basemap) {
    map.addSource('basemap', { type: 'raster', tiles: [basemap], tileSize: 256, maxzoom: 19 });
    map.addLayer({ id: 'basemap', type: 'raster', source: 'basemap', paint: { 'raster-opacity': 0.85 } });
  }

  const has = (l) => Boolean(tilejson[l]);
  // Villages are addressed by their code (feature-state of the zone colouring).
  for (const l of DATA_LAYERS) if (has(l)) map.addSource(l, vectorSource(tilejson[l], l === 'villages' ? { promoteId: 'code' } : {}));
  const sl = (l) => sourceLayerOf(l, tilejson[l]);
  if (has('villages')) zoneState.sourceLayer = sl('villages');
  const minz = (l) => tilejson[l]?.minzoom ?? 0;

  if (has('villages')) {
    map.addLayer({
      id: 'villages-fill',
      type: 'fill',
      source: 'villages',
      'source-layer': sl('villages'),
      paint: {
        'fill-color': villageColorExpression(mode, towns),
        'fill-opacity': ['interpolate', ['linear'], ['zoom'], 8, 0.7, 12, 0.5, 13.5, 0.22],
      },
    });
  }

  if (has('parcels')) {
    map.addLayer({
      id: 'parcels-fill',
      type: 'fill',
      source: 'parcels',
      'source-layer': sl('parcels'),
      minzoom: minz('parcels'),
      paint: {
        'fill-color': parcelColorExpression(),
        'fill-opacity': ['interpolate', ['linear'], ['zoom'], minz('parcels'), 0.55, minz('parcels') + 1.5, 0.88],
      },
    });
    map.addLayer({
      id: 'parcels-line',
      type: 'line',
      source: 'parcels',
      'source-layer': sl('parcels'),
      minzoom: Math.max(minz('parcels'), 13),
      paint: {
        'line-color': '#7d7462',
        'line-opacity': ['interpolate', ['linear'], ['zoom'], 13, 0.15, 16, 0.45],
        'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.3, 16, 0.8],
      },
    });
  }

  if (has('greenhouses')) {
    map.addLayer({
      id: 'greenhouses-fill',
      type: 'fill',
      source: 'greenhouses',
      'source-layer': sl('greenhouses'),
      minzoom: minz('greenhouses'),
      paint: { 'fill-color': matchExpr('kind', GREENHOUSE_KINDS, GREENHOUSE_OTHER), 'fill-opacity': 0.95 },
    });
    map.addLayer({
      id: 'greenhouses-line',
      type: 'line',
      source: 'greenhouses',
      'source-layer': sl('greenhouses'),
      minzoom: minz('greenhouses'),
      paint: { 'line-color': GREENHOUSE_LINE, 'line-width': ['interpolate', ['linear'], ['zoom'], 13, 0.5, 17, 1.4] },
    });
  }

  if (has('roads')) {
    // A zoom expression may only be the outermost one: build per-class widths inside one interpolate.
    const stops = [8, 12, 16];
    const widthAt = (i) => {
      const m = ['match', ['to-string', ['get', 'class']]];
      for (const r of ROAD_CLASSES) m.push(r.value, r.width[2 * i + 1]);
      m.push(ROAD_OTHER.width[2 * i + 1]);
      return m;
    };
    const lineWidth = ['interpolate', ['exponential', 1.4], ['zoom']];
    stops.forEach((z, i) => lineWidth.push(z, widthAt(i)));
    const casingWidth = ['interpolate', ['exponential', 1.4], ['zoom']];
    stops.forEach((z, i) => casingWidth.push(z, ['+', widthAt(i), 1.6]));
    map.addLayer({
      id: 'roads-casing',
      type: 'line',
      source: 'roads',
      'source-layer': sl('roads'),
      minzoom: Math.max(minz('roads'), 11),
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: { 'line-color': '#ffffff', 'line-opacity': 0.85, 'line-width': casingWidth },
    });
    map.addLayer({
      id: 'roads-line',
      type: 'line',
      source: 'roads',
      'source-layer': sl('roads'),
      minzoom: minz('roads'),
      layout: { 'line-join': 'round', 'line-cap': 'round' },
      paint: {
        'line-color': matchExpr('class', ROAD_CLASSES, ROAD_OTHER.color),
        'line-width': lineWidth,
        // Village roads stay faint at county scale, where they would hide the village colours.
        'line-opacity': [
          'interpolate', ['linear'], ['zoom'],
          9, ['match', ['to-string', ['get', 'class']], '县道', 0.9, 0.3],
          12, ['match', ['to-string', ['get', 'class']], '县道', 1, 0.85],
        ],
      },
    });
  }

  if (has('members')) {
    const poly = ['==', ['geometry-type'], 'Polygon'];
    map.addLayer({
      id: 'members-fill',
      type: 'fill',
      source: 'members',
      'source-layer': sl('members'),
      minzoom: minz('members'),
      filter: poly,
      paint: { 'fill-color': matchExpr('kind', MEMBER_KINDS, MEMBER_OTHER.color), 'fill-opacity': 0.35 },
    });
    map.addLayer({
      id: 'members-line',
      type: 'line',
      source: 'members',
      'source-layer': sl('members'),
      minzoom: minz('members'),
      filter: poly,
      paint: { 'line-color': matchExpr('kind', MEMBER_KINDS, MEMBER_OTHER.color), 'line-width': 1.2 },
    });
  }

  if (has('villages')) {
    map.addLayer({
      id: 'villages-line',
      type: 'line',
      source: 'villages',
      'source-layer': sl('villages'),
      layout: { 'line-join': 'round' },
      paint: {
        'line-color': ['interpolate', ['linear'], ['zoom'], 9, '#ffffff', 12, '#5d6873'],
        'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.6, 12, 1.2, 16, 2.2],
        'line-opacity': 0.9,
      },
    });
    addZoneLayers(map, sl('villages'));
    addFacilityAreaLayers(map, sl('villages'));
    // Selected village: a wide soft halo under a crisp line (filter set by setHighlight()).
    const none = ['==', ['get', 'code'], '\u0000'];
    map.addLayer({
      id: 'villages-highlight-fill',
      type: 'fill',
      source: 'villages',
      'source-layer': sl('villages'),
      filter: none,
      paint: { 'fill-color': HIGHLIGHT_COLOR, 'fill-opacity': 0.12 },
    });
    map.addLayer({
      id: 'villages-highlight-halo',
      type: 'line',
      source: 'villages',
      'source-layer': sl('villages'),
      filter: none,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': '#ffffff', 'line-width': 6, 'line-opacity': 0.9, 'line-blur': 1 },
    });
    map.addLayer({
      id: 'villages-highlight-line',
      type: 'line',
      source: 'villages',
      'source-layer': sl('villages'),
      filter: none,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': HIGHLIGHT_COLOR, 'line-width': 2.6 },
    });
  }

  if (has('members')) {
    map.addLayer({
      id: 'members-icon',
      type: 'symbol',
      source: 'members',
      'source-layer': sl('members'),
      minzoom: minz('members'),
      filter: ['==', ['geometry-type'], 'Point'],
      layout: {
        'icon-image': matchExpr('kind', MEMBER_KINDS, memberImageId(null), (e) => memberImageId(e.value)),
        'icon-size': ['interpolate', ['linear'], ['zoom'], 10, 0.6, 14, 1],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
      },
    });
  }

  if (has('facilities')) {
    map.addLayer({
      id: 'facilities-icon',
      type: 'symbol',
      source: 'facilities',
      'source-layer': sl('facilities'),
      minzoom: minz('facilities'),
      layout: {
        'icon-image': matchExpr('kind', FACILITY_KINDS, facilityImageId(null), (e) => facilityImageId(e.value)),
        'icon-size': ['interpolate', ['linear'], ['zoom'], 10, 0.5, 12, 0.65, 14, 0.85, 16, 1],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true, // names win the collision tests, icons are always drawn
        'symbol-sort-key': ['match', ['to-string', ['get', 'kind']], '党群服务中心', 0, '卫生室', 1, 2],
      },
    });
  }

  // Names: points from /villages (one label per village, not one per tile piece).
  if (has('villages') && villages.length) {
    map.addSource('village-labels', { type: 'geojson', data: villageLabelPoints(villages) });
    map.addSource('town-labels', { type: 'geojson', data: townLabelPoints(villages) });
    map.addLayer({
      id: 'town-labels',
      type: 'symbol',
      source: 'town-labels',
      maxzoom: 11,
      layout: {
        'icon-image': ['concat', 'tl:', ['get', 'town']],
        'icon-allow-overlap': false,
        'icon-padding': 4,
      },
      paint: { 'icon-opacity': ['interpolate', ['linear'], ['zoom'], 10.4, 1, 11, 0] },
    });
    map.addLayer({
      id: 'village-labels',
      type: 'symbol',
      source: 'village-labels',
      minzoom: 10.5,
      layout: {
        'icon-image': ['concat', 'vl:', ['get', 'name']],
        'icon-allow-overlap': false,
        'icon-padding': 2,
        'symbol-sort-key': ['-', 0, ['to-number', ['get', 'population'], 0]],
      },
      paint: { 'icon-opacity': ['interpolate', ['linear'], ['zoom'], 10.5, 0, 11, 1] },
    });
  }

  // 中心村 stars on top of everything (points at the /villages centroids, set by showZoning()).
  if (has('villages')) {
    map.addSource('zone-keys', { type: 'geojson', data: EMPTY_FC });
    map.addLayer({
      id: 'zone-keys',
      type: 'symbol',
      source: 'zone-keys',
      layout: {
        'icon-image': 'zone-key',
        'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.7, 11, 0.9, 14, 1.1],
        // Above the point, so that the village's name label (centred on it) stays readable.
        'icon-anchor': 'bottom',
        'icon-offset': [0, -3],
        'icon-allow-overlap': true,
        'icon-ignore-placement': true,
      },
    });
  }
  addFacilitySiteLayers(map);
}

/**
 * The zone overlay, above the village boundaries and below the selected-village highlight:
 * unassigned villages hatched grey, zones with violations hatched red, a white casing under a dark
 * outline for every dissolved zone (with a blue band under the outline of the zone picked in the
 * list), a red dashed outline for the violating ones, and a red outline for the villages an
 * infeasible request names.
 */
function addZoneLayers(map, sourceLayer) {
  const villages = { source: 'villages', 'source-layer': sourceLayer };
  const none = ['==', ['get', 'code'], NO_CODE];
  map.addSource('zones', { type: 'geojson', data: EMPTY_FC });
  map.addLayer({ id: 'villages-unassigned', type: 'fill', ...villages, filter: none, paint: { 'fill-pattern': 'hatch:unassigned' } });
  map.addLayer({
    id: 'zones-violation-fill',
    type: 'fill',
    source: 'zones',
    filter: ['==', ['get', 'bad'], true],
    paint: { 'fill-pattern': 'hatch:violation', 'fill-opacity': ['interpolate', ['linear'], ['zoom'], 8, 0.9, 14, 0.5] },
  });
  map.addLayer({
    id: 'zones-casing',
    type: 'line',
    source: 'zones',
    layout: { 'line-join': 'round' },
    paint: { 'line-color': '#ffffff', 'line-opacity': 0.85, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 3, 12, 5, 16, 7] },
  });
  map.addLayer({
    id: 'zones-selected',
    type: 'line',
    source: 'zones',
    filter: ['==', ['get', 'id'], NO_CODE],
    layout: { 'line-join': 'round' },
    paint: { 'line-color': ZONE_SELECTED, 'line-opacity': 0.75, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 5, 12, 8, 16, 11] },
  });
  map.addLayer({
    id: ZONE_LINE_LAYER,
    type: 'line',
    source: 'zones',
    layout: { 'line-join': 'round' },
    paint: { 'line-color': ZONE_LINE, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.3, 12, 2.2, 16, 3.4] },
  });
  map.addLayer({
    id: 'zones-violation-line',
    type: 'line',
    source: 'zones',
    filter: ['==', ['get', 'bad'], true],
    layout: { 'line-join': 'round' },
    paint: {
      'line-color': VIOLATION_COLOR,
      'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.8, 12, 2.8, 16, 4],
      'line-dasharray': [2.2, 1.4],
    },
  });
  map.addLayer({ id: 'villages-problem-fill', type: 'fill', ...villages, filter: none, paint: { 'fill-color': VIOLATION_COLOR, 'fill-opacity': 0.14 } });
  map.addLayer({
    id: 'villages-problem-line',
    type: 'line',
    ...villages,
    filter: none,
    layout: { 'line-join': 'round' },
    paint: { 'line-color': VIOLATION_COLOR, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.4, 12, 2.4, 16, 3.2] },
  });
}

/**
 * The facility-analysis overlay under the selected-village highlight: uncovered villages hatched
 * and outlined orange-red, the villages of a key-village ranking outlined blue, the service areas
 * (teal around existing facilities, violet around new sites; low fill opacity so that the
 * villages' coverage colours show through, overlaps getting darker) and, for p-median / p-center,
 * thin lines from each village to the facility that serves it. `sourceLayer` null: no villages
 * source (only the GeoJSON layers).
 */
function addFacilityAreaLayers(map, sourceLayer) {
  const none = ['==', ['get', 'code'], NO_CODE];
  for (const id of ['fac-areas', 'fac-spider', 'fac-sites', 'fac-marks']) map.addSource(id, { type: 'geojson', data: EMPTY_FC });
  const isNew = ['!', ['to-boolean', ['get', 'existing']]];
  if (sourceLayer) {
    const villages = { source: 'villages', 'source-layer': sourceLayer };
    map.addLayer({ id: FAC_UNCOVERED_LAYER, type: 'fill', ...villages, filter: none, paint: { 'fill-pattern': 'hatch:uncovered' } });
    map.addLayer({
      id: 'fac-uncovered-line',
      type: 'line',
      ...villages,
      filter: none,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': UNCOVERED_LINE, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1, 12, 1.8, 16, 2.6] },
    });
    map.addLayer({
      id: 'fac-ranked-line',
      type: 'line',
      ...villages,
      filter: none,
      layout: { 'line-join': 'round' },
      paint: { 'line-color': RANK_COLOR, 'line-width': ['interpolate', ['linear'], ['zoom'], 8, 1.6, 12, 2.6, 16, 3.4] },
    });
  }
  map.addLayer({
    id: FAC_AREA_LAYER,
    type: 'fill',
    source: 'fac-areas',
    paint: { 'fill-color': ['case', isNew, AREA_NEW, AREA_EXISTING], 'fill-opacity': ['case', isNew, 0.16, 0.09] },
  });
  map.addLayer({
    id: 'fac-areas-line',
    type: 'line',
    source: 'fac-areas',
    layout: { 'line-join': 'round' },
    paint: {
      'line-color': ['case', isNew, AREA_NEW, AREA_EXISTING],
      'line-opacity': ['case', isNew, 0.95, 0.6],
      // One zoom interpolation at the outside, the per-feature choice inside it.
      'line-width': ['interpolate', ['linear'], ['zoom'], 8, ['case', isNew, 1.4, 0.7], 14, ['case', isNew, 2.4, 1.4]],
    },
  });
  map.addLayer({
    id: 'fac-spider',
    type: 'line',
    source: 'fac-spider',
    layout: { 'line-cap': 'round' },
    paint: {
      'line-color': ['case', isNew, NEW_SITE_COLOR, AREA_EXISTING],
      'line-opacity': 0.6,
      'line-width': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 14, 1.6],
    },
  });
}

/**
 * Facility points on top of everything: existing facilities of an analysis as small teal dots
 * (the kind's badge is the facilities layer's business; hundreds of badges would bury the
 * county-scale view), new sites as violet numbered diamonds (`facn:N`), the ranking's first
 * villages as blue numbered discs (`rank:N`) and its 1-median as a target.
 */
function addFacilitySiteLayers(map) {
  if (!map.getSource('fac-areas')) addFacilityAreaLayers(map, null);
  map.addLayer({
    id: 'fac-sites-existing',
    type: 'circle',
    source: 'fac-sites',
    filter: ['to-boolean', ['get', 'existing']],
    paint: {
      'circle-color': AREA_EXISTING,
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 8, 2.2, 12, 4, 16, 6],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 12, 1.4],
    },
  });
  map.addLayer({
    id: 'fac-marks',
    type: 'symbol',
    source: 'fac-marks',
    layout: {
      'icon-image': ['get', 'icon'],
      'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.8, 12, 1],
      // Above the village's point (its name label is centred on it), all marks on one centre so
      // that the 1-median's ring shows around a rank number.
      'icon-offset': [0, -16],
      'icon-allow-overlap': true,
      'icon-ignore-placement': true,
      'symbol-sort-key': ['get', 'order'],
    },
  });
  map.addLayer({
    id: FAC_NEW_SITE_LAYER,
    type: 'symbol',
    source: 'fac-sites',
    filter: ['!', ['to-boolean', ['get', 'existing']]],
    layout: {
      'icon-image': ['concat', 'facn:', ['to-string', ['get', 'n']]],
      'icon-size': ['interpolate', ['linear'], ['zoom'], 8, 0.85, 12, 1],
      'icon-allow-overlap': true,
      'icon-ignore-placement': true,
      'symbol-sort-key': ['get', 'n'],
    },
  });
}

const codeFilter = (codes) => (codes.length ? ['in', ['get', 'code'], ['literal', codes]] : ['==', ['get', 'code'], NO_CODE]);

/**
 * Shows a zoning: every member village gets the feature-state `zc` = its zone's colour index
 * (modulo the palette), the dissolved zones (`geojson`, with `bad` = has violations) and the key
 * village points go to their sources, `unassigned` codes are hatched.
 */
export function showZoning(map, { zones, geojson, keys, unassigned }) {
  clearVillageStates(map);
  if (map.getSource('villages')) {
    const coloured = [];
    for (const z of zones) {
      const zc = Number.isInteger(z.colour) && z.colour >= 0 ? z.colour % ZONE_COLORS.length : 0;
      for (const code of z.members ?? []) {
        map.setFeatureState({ source: 'villages', sourceLayer: zoneState.sourceLayer, id: code }, { zc });
        coloured.push(code);
      }
    }
    zoneState.coloured = coloured;
  }
  map.getSource('zones')?.setData(geojson ?? EMPTY_FC);
  map.getSource('zone-keys')?.setData(keys ?? EMPTY_FC);
  if (map.getLayer('villages-unassigned')) map.setFilter('villages-unassigned', codeFilter(unassigned ?? []));
}

function clearVillageStates(map) {
  if (!map.getSource('villages')) return;
  // removeFeatureState for the whole layer would also work; per code keeps other states intact.
  for (const code of zoneState.coloured) {
    map.removeFeatureState({ source: 'villages', sourceLayer: zoneState.sourceLayer, id: code }, 'zc');
  }
  zoneState.coloured = [];
}

export function clearZoning(map) {
  showZoning(map, { zones: [], geojson: null, keys: null, unassigned: [] });
  setSelectedZone(map, null);
}

/** The zone picked in the list gets a blue band (null: none). */
export function setSelectedZone(map, id) {
  if (map.getLayer('zones-selected')) map.setFilter('zones-selected', ['==', ['get', 'id'], id ?? NO_CODE]);
}

/** Villages named by a failed request (422 `villages`), outlined red; [] clears. */
export function setProblemVillages(map, codes) {
  for (const id of ['villages-problem-fill', 'villages-problem-line']) {
    if (map.getLayer(id)) map.setFilter(id, codeFilter(codes ?? []));
  }
}

/**
 * Shows a facility analysis (facilities.js builds `overlay`): `covered` (code → 1 | 0) becomes the
 * villages' feature-state `cov` (read by the "coverage" colouring), `uncovered` codes are hatched,
 * `ranked` codes outlined; `areas`, `spider`, `sites` and `marks` are GeoJSON for their layers.
 * An empty overlay clears everything.
 */
export function showFacilities(map, overlay) {
  const o = overlay ?? {};
  if (map.getSource('villages')) {
    for (const code of facState.coloured) {
      map.removeFeatureState({ source: 'villages', sourceLayer: zoneState.sourceLayer, id: code }, 'cov');
    }
    facState.coloured = [];
    if (o.covered) {
      for (const [code, cov] of o.covered) {
        map.setFeatureState({ source: 'villages', sourceLayer: zoneState.sourceLayer, id: code }, { cov });
        facState.coloured.push(code);
      }
    }
  }
  map.getSource('fac-areas')?.setData(o.areas ?? EMPTY_FC);
  map.getSource('fac-spider')?.setData(o.spider ?? EMPTY_FC);
  map.getSource('fac-sites')?.setData(o.sites ?? EMPTY_FC);
  map.getSource('fac-marks')?.setData(o.marks ?? EMPTY_FC);
  for (const id of [FAC_UNCOVERED_LAYER, 'fac-uncovered-line']) if (map.getLayer(id)) map.setFilter(id, codeFilter(o.uncovered ?? []));
  if (map.getLayer('fac-ranked-line')) map.setFilter('fac-ranked-line', codeFilter(o.ranked ?? []));
}

export function clearFacilities(map) {
  showFacilities(map, null);
}

export function setHighlight(map, code) {
  const filter = ['==', ['get', 'code'], code ?? '\u0000'];
  for (const id of ['villages-highlight-fill', 'villages-highlight-halo', 'villages-highlight-line']) {
    if (map.getLayer(id)) map.setFilter(id, filter);
  }
}

export function setVillageColorMode(map, mode, towns) {
  if (map.getLayer(VILLAGE_FILL)) map.setPaintProperty(VILLAGE_FILL, 'fill-color', villageColorExpression(mode, towns));
}

export function setGroupVisible(map, layer, visible) {
  for (const id of LAYER_GROUPS[layer] ?? []) {
    if (map.getLayer(id)) map.setLayoutProperty(id, 'visibility', visible ? 'visible' : 'none');
  }
}

function villageLabelPoints(villages) {
  return {
    type: 'FeatureCollection',
    features: villages
      .filter((v) => Array.isArray(v.centroid) && v.name)
      .map((v) => ({
        type: 'Feature',
        geometry: { type: 'Point', coordinates: v.centroid },
        properties: { code: v.code, name: v.name, population: Number(v.population) || 0 },
      })),
  };
}

function townLabelPoints(villages) {
  const towns = new Map();
  for (const v of villages) {
    if (!v.town || !Array.isArray(v.centroid)) continue;
    const t = towns.get(v.town) ?? { x: 0, y: 0, n: 0 };
    t.x += v.centroid[0];
    t.y += v.centroid[1];
    t.n += 1;
    towns.set(v.town, t);
  }
  return {
    type: 'FeatureCollection',
    features: [...towns].map(([town, t]) => ({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: [t.x / t.n, t.y / t.n] },
      properties: { town },
    })),
  };
}
