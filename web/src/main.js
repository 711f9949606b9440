// 联村片区规划 · 村庄地图 — entry point.
//
// Offline by design: no basemap unless /map/config.json names one, no sprite or glyph server
// (icons and name labels are drawn on canvases, see icons.js), everything else from the liancun
// server: TileJSON + MVT at /tiles/{layer}, the village list at /villages, details at
// /villages/{code}.
//
// URL parameters: ?village=<code> selects a village, ?layers=villages,parcels (or ?layer=…) sets the
// visible layers, ?mode=town|industry|strong the village colouring, ?lang=en the language.
import { Map as MapLibreMap, NavigationControl, Popup, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import './style.css';

import { getConfig, getTileJson, getVillages } from './api.js';
import { applyStatic, fmt, getLang, onLangChange, setLang, t, tv } from './i18n.js';
import {
  addLayers, baseStyle, DATA_LAYERS, LIST_ORDER, setGroupVisible, setHighlight, setVillageColorMode,
  VILLAGE_FILL,
} from './layers.js';
import { LayerList, Legend } from './controls.js';
import { escapeHtml, M2_PER_MU, VillagePanel } from './panel.js';
import { SearchBox } from './search.js';
import { toast, toastApiError } from './toast.js';
import { landClassInfo, landClassOf, LAND_CODE_NAMES } from './palette.js';

setWorkerUrl(workerUrl);

const DEFAULT_VIEW = { center: [118.15, 36.15], zoom: 9 }; // 沂源县, if the villages layer is missing

const app = {
  map: null,
  ready: false,
  villageFillLayer: VILLAGE_FILL,
  villages: [],
  selected: null,
  layers: {}, // layer id -> TileJSON of the layers the server has
};
window.__liancun = app;

const params = new URLSearchParams(window.location.search);
if (params.get('lang') === 'en') setLang('en');
applyStatic();

let customTitle = null;
let mode = ['town', 'industry', 'strong'].includes(params.get('mode')) ? params.get('mode') : 'town';
let towns = [];
let visible = new Set(LIST_ORDER);
const layerParam = params.get('layers') ?? params.get('layer');
if (layerParam) visible = new Set(layerParam.split(',').map((s) => s.trim()).filter((s) => LIST_ORDER.includes(s)));

const legend = new Legend();
const panel = new VillagePanel({ onClose: () => select(null) });
const search = new SearchBox({ onPick: (v) => select(v.code, { fit: true }) });
let layerList = null;
let popup = null;

function updateTitle() {
  const title = customTitle ?? t('title');
  document.getElementById('app-title').textContent = title;
  document.title = title;
}

function updateLangButton() {
  const b = document.getElementById('lang-switch');
  b.textContent = t('langButton');
  b.title = t('langButtonTitle');
}

function setUrlParam(key, value) {
  const url = new URL(window.location.href);
  if (value == null || value === '') url.searchParams.delete(key);
  else url.searchParams.set(key, value);
  window.history.replaceState(null, '', url);
}

/** Map padding that keeps fitted areas clear of the sidebar and the village panel. */
function viewPadding() {
  const wide = window.innerWidth > 760;
  const side = document.getElementById('sidebar');
  const left = wide && side ? side.getBoundingClientRect().right + 24 : 24;
  const right = wide && panel.isOpen ? document.getElementById('village-panel').offsetWidth + 40 : 40;
  return { top: 40, bottom: 40, left: Math.min(left, window.innerWidth / 2), right: Math.min(right, window.innerWidth / 2) };
}

function select(code, { fit = false } = {}) {
  app.selected = code ?? null;
  setUrlParam('village', code);
  const map = app.map;
  if (map && map.getStyle()) setHighlight(map, code);
  if (!code) {
    if (panel.isOpen) panel.close();
    return;
  }
  panel.show(code).then(() => {
    // A village that is not in the list (list failed to load) is fitted once its details arrive.
    if (fit && !app.villages.some((v) => v.code === code) && panel.data?.bbox) fitTo(panel.data.bbox);
  });
  if (fit) {
    const v = app.villages.find((x) => x.code === code);
    if (v?.bbox) fitTo(v.bbox);
  }
}

function fitTo(bbox) {
  if (!app.map || !Array.isArray(bbox) || bbox.length !== 4) return;
  app.map.fitBounds(
    [
      [bbox[0], bbox[1]],
      [bbox[2], bbox[3]],
    ],
    { padding: viewPadding(), maxZoom: 15, duration: 900 },
  );
}

function popupHtml(f) {
  const p = f.properties ?? {};
  const id = f.layer.id;
  const row = (k, v) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`;
  if (id === 'facilities-icon' || id.startsWith('members-')) {
    const rows = [row(t(id === 'facilities-icon' ? 'legendFacilities' : 'legendMembers'), escapeHtml(tv(p.kind)))];
    if (p.capacity != null) rows.push(row(getLang() === 'en' ? 'Capacity' : '规模', escapeHtml(fmt(p.capacity))));
    if (p.radius_m != null) rows.push(row(getLang() === 'en' ? 'Service radius' : '服务半径', `${escapeHtml(fmt(p.radius_m))} m`));
    return `<h4>${escapeHtml(p.name || tv(p.kind))}</h4><table>${rows.join('')}</table>`;
  }
  if (id === 'greenhouses-fill') {
    const rows = [];
    if (p.crop) rows.push(row(getLang() === 'en' ? 'Crop' : '作物', escapeHtml(p.crop)));
    if (p.year) rows.push(row(getLang() === 'en' ? 'Built' : '建成年份', escapeHtml(p.year)));
    if (p.area_m2 != null) rows.push(row(t('area'), `${fmt(p.area_m2)} m² (${fmt(p.area_m2 / M2_PER_MU, 2)} ${escapeHtml(t('unitMu'))})`));
    return `<h4>${escapeHtml(tv(p.kind ?? t('greenhouses')))}</h4><table>${rows.join('')}</table>`;
  }
  if (id === 'parcels-fill') {
    const info = landClassInfo(landClassOf(p.dlbm));
    const name = p.dlmc || LAND_CODE_NAMES[p.dlbm] || '';
    const rows = [row(getLang() === 'en' ? 'Class' : '一级类', `<i class="swatch" style="--c:${info.color}"></i>${escapeHtml(info.cls)} ${escapeHtml(tv(info.name))}`)];
    if (p.tbmj != null) rows.push(row(t('area'), `${fmt(p.tbmj)} m² (${fmt(p.tbmj / M2_PER_MU, 2)} ${escapeHtml(t('unitMu'))})`));
    if (p.bsm != null) rows.push(row('BSM', escapeHtml(p.bsm)));
    return `<h4>${escapeHtml(p.dlbm ?? '')} ${escapeHtml(name)}</h4><table>${rows.join('')}</table>`;
  }
  return null;
}

function onMapClick(e) {
  const map = app.map;
  const ids = ['facilities-icon', 'members-icon', 'members-fill', 'greenhouses-fill', 'parcels-fill', VILLAGE_FILL].filter((id) => map.getLayer(id));
  const feats = map.queryRenderedFeatures(e.point, { layers: ids });
  const village = feats.find((f) => f.layer.id === VILLAGE_FILL);
  if (village?.properties?.code) select(String(village.properties.code));
  const first = feats.find((f) => f.layer.id !== VILLAGE_FILL);
  popup?.remove();
  popup = null;
  if (first) {
    const html = popupHtml(first);
    if (html) {
      popup = new Popup({ closeButton: true, maxWidth: '280px', className: 'lc-popup', offset: first.layer.type === 'symbol' ? 12 : 4 })
        .setLngLat(e.lngLat)
        .setHTML(html)
        .addTo(map);
    }
  }
}

function onLayerToggle(layer, on) {
  setGroupVisible(app.map, layer, on);
  legend.update({ visible });
  setUrlParam('layers', visible.size === LIST_ORDER.length ? null : [...visible].join(','));
}

/** TileJSON of a layer; null if this workspace has no such layer (404) or on error (noted in `failures`). */
async function loadTileJson(layer, failures) {
  try {
    return await getTileJson(layer);
  } catch (e) {
    if (e?.status === 404) {
      if (layer === 'villages') toast(t('errNoVillages'));
      return null; // this workspace has no such layer: leave it out of the list
    }
    failures.push({ err: e, layer });
    return null;
  }
}

/** One message per kind of failure (e.g. the server is down), naming everything it hit. */
function reportFailures(failures) {
  const groups = new Map();
  for (const f of failures) {
    const key = f.err?.status ? `${f.err.status} ${f.err.detail ?? ''}` : 'network';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(f);
  }
  const sep = getLang() === 'zh' ? '、' : ', ';
  for (const list of groups.values()) {
    const whats = list.filter((f) => f.what).map((f) => f.what());
    const layers = list.filter((f) => f.layer).map((f) => t(`layer_${f.layer}`));
    if (layers.length) whats.push(t('errTileJson', { layer: layers.join(sep) }));
    toastApiError(list[0].err, whats.join(sep));
  }
}

async function start() {
  const failures = [];
  const [config, list, ...tjs] = await Promise.all([
    getConfig().catch((e) => {
      // No config is fine (defaults); a broken server is worth saying.
      if (e?.status !== 404) failures.push({ err: e, what: () => t('errConfig') });
      return {};
    }),
    getVillages().catch((e) => {
      failures.push({ err: e, what: () => t('errVillagesList') });
      return null;
    }),
    ...DATA_LAYERS.map((l) => loadTileJson(l, failures)),
  ]);
  reportFailures(failures);

  if (config && typeof config.title === 'string' && config.title.trim()) customTitle = config.title.trim();
  updateTitle();
  updateLangButton();

  DATA_LAYERS.forEach((l, i) => {
    if (tjs[i]) app.layers[l] = tjs[i];
  });
  app.villages = Array.isArray(list?.villages) ? list.villages : [];
  search.setVillages(list ? app.villages : null);
  const townCodes = new Map();
  for (const v of app.villages) if (v.town && !townCodes.has(v.town)) townCodes.set(v.town, String(v.town_code ?? v.town));
  towns = [...townCodes].sort((a, b) => a[1].localeCompare(b[1])).map(([town]) => town);

  const b = app.layers.villages?.bounds;
  const hasBounds = Array.isArray(b) && b.length === 4 && b.every(Number.isFinite) && b[2] > b[0] && b[3] > b[1];
  let map;
  try {
    map = new MapLibreMap({
      container: 'map',
      style: baseStyle(),
      ...(hasBounds
        ? { bounds: [[b[0], b[1]], [b[2], b[3]]], fitBoundsOptions: { padding: viewPadding() } }
        : DEFAULT_VIEW),
      maxZoom: 18,
      dragRotate: false,
      pitchWithRotate: false,
      touchPitch: false,
      attributionControl: { compact: true },
    });
  } catch (e) {
    console.warn(e);
    toast(t('errWebgl'), { timeout: 0 });
    return;
  }
  app.map = map;
  map.touchZoomRotate.disableRotation();
  map.keyboard.disableRotation();
  map.addControl(new NavigationControl({ showCompass: false }), 'top-right');
  map.addControl(new ScaleControl({ unit: 'metric', maxWidth: 120 }), 'bottom-left');

  let lastMapError = 0;
  map.on('error', (e) => {
    const msg = e?.error?.message ?? String(e?.error ?? e);
    console.warn('map error', msg);
    const now = Date.now();
    if (now - lastMapError > 4000) toast(t('errMap', { msg }));
    lastMapError = now;
  });

  map.on('load', () => {
    addLayers(map, { tilejson: app.layers, villages: app.villages, towns, basemap: config?.basemap ?? null, mode });
    for (const l of LIST_ORDER) if (app.layers[l]) setGroupVisible(map, l, visible.has(l));

    layerList = new LayerList({ available: app.layers, visible, onToggle: onLayerToggle });
    layerList.zoom = map.getZoom();
    layerList.render();
    legend.update({ available: app.layers, visible, mode, towns, zoom: map.getZoom() });

    map.on('click', onMapClick);
    if (map.getLayer(VILLAGE_FILL)) {
      map.on('mouseenter', VILLAGE_FILL, () => (map.getCanvas().style.cursor = 'pointer'));
      map.on('mouseleave', VILLAGE_FILL, () => (map.getCanvas().style.cursor = ''));
    }
    map.on('zoomend', () => {
      layerList.setZoom(map.getZoom());
      legend.setZoom(map.getZoom());
    });

    const onIdle = () => {
      if (map.getSource('villages') && map.isSourceLoaded('villages')) {
        app.ready = true;
        document.body.dataset.ready = 'true';
        map.off('idle', onIdle);
      }
    };
    if (app.layers.villages) map.on('idle', onIdle);

    const initial = params.get('village');
    if (initial) select(initial, { fit: true });
  });
}

const modeSelect = document.getElementById('colour-mode');
modeSelect.value = mode;
modeSelect.addEventListener('change', () => {
  mode = modeSelect.value;
  if (app.map?.getStyle()) setVillageColorMode(app.map, mode, towns);
  legend.update({ mode });
  setUrlParam('mode', mode === 'town' ? null : mode);
});

document.getElementById('lang-switch').addEventListener('click', () => {
  setLang(getLang() === 'zh' ? 'en' : 'zh');
  setUrlParam('lang', getLang() === 'en' ? 'en' : null);
});

onLangChange(() => {
  updateTitle();
  updateLangButton();
  layerList?.render();
  legend.render();
  panel.render();
  search.refresh();
  popup?.remove();
});

updateLangButton();
start().catch((e) => {
  console.warn(e);
  toast(t('errMap', { msg: e?.message ?? String(e) }), { timeout: 0 });
});
