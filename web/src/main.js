// 联村片区规划 · 村庄地图 — entry point.
//
// Offline by design: no basemap unless /map/config.json names one, no sprite or glyph server
// (icons and name labels are drawn on canvases, see icons.js), everything else from the liancun
// server: TileJSON + MVT at /tiles/{layer}, the village list at /villages, details at
// /villages/{code}.
//
// URL parameters: ?village=<code> selects a village, ?layers=villages,parcels (or ?layer=…) sets the
// visible layers, ?mode=town|industry|strong the village colouring, ?lang=en the language. A zoning
// (片区方案, zones.js) and a facility analysis (设施分析, facilities.js) live in the page only: the
// "by zone" and "by coverage" colourings are not put in the URL. A saved plan (规划方案, plans.js)
// is shown like a zoning, one of the two at a time; the plan last opened and the token are
// remembered in localStorage.
//
// Sign-in (auth.js): a server run with `--read viewer` answers every read with 401 unless it
// carries a token, so start() reads /map/config.json (public) first and, when it says
// `"read": "viewer"`, waits for a valid token before it asks for anything else. The token goes
// with every request to the server: getJson (api.js) and MapLibre's tiles (transformRequest).
//
// Colourings: the user's own (town / industry / strong, `baseMode`) and two that come with a result,
// "zone" and "coverage". The latest result takes the colouring (a zoning → by zone, a coverage or
// MCLP result → by coverage); the other stays available in the select while its result is shown.
// Clearing a result whose colouring is on falls back to the other result's colouring if that one
// is still shown, else to `baseMode`. Everything else of both overlays (zone outlines, key-village
// stars, service areas, sites, hatching of uncovered villages) is drawn together.
import { Map as MapLibreMap, NavigationControl, Popup, ScaleControl, setWorkerUrl } from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import workerUrl from 'maplibre-gl/dist/maplibre-gl-worker.mjs?url';
import './style.css';

import { getConfig, getTileJson, getVillages, mapRequest, setReadAccess } from './api.js';
import { SignIn } from './auth.js';
import { applyStatic, fmt, getLang, onLangChange, setLang, t, tv } from './i18n.js';
import {
  addLayers, baseStyle, clearFacilities, clearZoning, DATA_LAYERS, FAC_AREA_LAYER, FAC_NEW_SITE_LAYER,
  FAC_UNCOVERED_LAYER, LIST_ORDER, setGroupVisible, setHighlight, setProblemVillages, setSelectedZone,
  setVillageColorMode, showFacilities, showZoning, VILLAGE_FILL, ZONE_LINE_LAYER,
} from './layers.js';
import { LayerList, Legend } from './controls.js';
import { escapeHtml, M2_PER_MU, VillagePanel } from './panel.js';
import { SearchBox } from './search.js';
import { toast, toastApiError } from './toast.js';
import { landClassInfo, landClassOf, LAND_CODE_NAMES, zoneColor } from './palette.js';
import { UNASSIGNED, villagesBbox, ZonesCard } from './zones.js';
import { FacilitiesCard, sitePopupHtml } from './facilities.js';
import { PlansCard } from './plans.js';

setWorkerUrl(workerUrl);

const DEFAULT_VIEW = { center: [118.15, 36.15], zoom: 9 }; // 沂源县, if the villages layer is missing
/** Zones are fitted no closer than this: further in, the parcels would cover the zone colours. */
const ZONE_FIT_MAX_ZOOM = 11.8;

const app = {
  map: null,
  ready: false,
  villageFillLayer: VILLAGE_FILL,
  zoneLineLayer: ZONE_LINE_LAYER,
  facAreaLayer: FAC_AREA_LAYER,
  facNewSiteLayer: FAC_NEW_SITE_LAYER,
  facUncoveredLayer: FAC_UNCOVERED_LAYER,
  villages: [],
  selected: null,
  layers: {}, // layer id -> TileJSON of the layers the server has
  zoning: null, // the zoning shown (zones.js buildZoning), null if none
  selectedZone: null,
  problemVillages: [], // codes an infeasible request named
  facilities: null, // the facility analysis shown (facilities.js overlay), null if none
};
window.__liancun = app;

const params = new URLSearchParams(window.location.search);
if (params.get('lang') === 'en') setLang('en');
applyStatic();

let customTitle = null;
let mode = ['town', 'industry', 'strong'].includes(params.get('mode')) ? params.get('mode') : 'town';
/** The user's own colouring, to return to when the results that brought theirs are cleared. */
let baseMode = mode;
const RESULT_MODES = ['zone', 'coverage'];
let towns = [];
let visible = new Set(LIST_ORDER);
const layerParam = params.get('layers') ?? params.get('layer');
if (layerParam) visible = new Set(layerParam.split(',').map((s) => s.trim()).filter((s) => LIST_ORDER.includes(s)));

const signIn = new SignIn({ onAccess: reloadTiles });
Object.defineProperty(app, 'who', { get: () => signIn.who, enumerable: true });
const legend = new Legend();
const panel = new VillagePanel({ onClose: () => select(null) });
const search = new SearchBox({ onPick: (v) => select(v.code, { fit: true }) });
const zonesCard = new ZonesCard({
  villages: () => app.villages,
  // A new result takes the map from a plan; clearing (nothing of this card shown) leaves a plan.
  onZoning: (zoning) => {
    if (zoning) plansCard.detach();
    else if (app.zoning?.source === 'plan') return;
    applyZoning(zoning);
  },
  onPick: (id) => showZone(id, { fit: true }),
  onProblem: showProblem,
});
// One card open at a time among 片区方案, 设施分析 and 规划方案: opening one folds the others
// (all three are tall); closing 设施分析 or 规划方案 unfolds 片区方案 unless the other is open.
const zonesCardEl = document.getElementById('zones-card');
const facilitiesCard = new FacilitiesCard({
  villages: () => app.villages,
  zone: selectedZoneMembers,
  onResult: applyFacilities,
  onPick: (code) => select(code, { fit: true }),
  onOpen: (open) => {
    if (open && plansCard.isOpen) plansCard.setOpen(false);
    if (open || !plansCard.isOpen) foldCard(zonesCardEl, open);
  },
});
const plansCard = new PlansCard({
  villages: () => app.villages,
  onZoning: (zoning) => {
    zonesCard.release();
    applyZoning(zoning);
  },
  onPick: (id) => showZone(id, { fit: true }),
  onOpen: (open) => {
    if (open && facilitiesCard.isOpen) facilitiesCard.setOpen(false);
    if (open || !facilitiesCard.isOpen) foldCard(zonesCardEl, open);
  },
  zonesParams: () => zonesCard.readParams(),
  currentZoning: () => (app.zoning && app.zoning.source !== 'plan' ? app.zoning : null),
  onChooserClose: () => {
    if (app.map?.getStyle()) setHighlight(app.map, app.selected);
  },
});
Object.defineProperty(app, 'plan', { get: () => plansCard.plan, enumerable: true });
zonesCardEl.querySelector('.card-toggle').addEventListener('click', () => {
  const open = zonesCardEl.classList.contains('collapsed');
  foldCard(zonesCardEl, !open);
  if (open && facilitiesCard.isOpen) facilitiesCard.setOpen(false);
  if (open && plansCard.isOpen) plansCard.setOpen(false);
});
panel.extra = villageZoneLine;
let layerList = null;
let popup = null;

function updateTitle() {
  const title = customTitle ?? t('title');
  document.getElementById('app-title').textContent = title;
  document.title = title;
}

/** The language buttons: the header's, and the sign-in form's (the header is behind it). */
const LANG_BUTTONS = ['lang-switch', 'signin-lang'];

function updateLangButton() {
  for (const id of LANG_BUTTONS) {
    const b = document.getElementById(id);
    b.textContent = t('langButton');
    b.title = t('langButtonTitle');
  }
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
  // With a zoning loaded, a village also picks its zone in the list (and the map's blue band).
  markZone(code ? app.zoning?.zoneOf.get(code) ?? (app.zoning?.unassigned.includes(code) ? UNASSIGNED : null) : null, { scroll: true });
  facilitiesCard.setActiveVillage(code ?? null);
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

/** Marks zone `id` in the list and on the map (null: none). */
function markZone(id, { scroll = false } = {}) {
  app.selectedZone = id ?? null;
  zonesCard.setActive(app.selectedZone, { scroll });
  plansCard.setActive(app.selectedZone, { scroll });
  if (app.map?.getStyle()) setSelectedZone(app.map, id === UNASSIGNED ? null : app.selectedZone);
  facilitiesCard.renderScope(); // the key-village ranking offers the selected zone
}

/** The zone selected in the 片区方案 card as `{id, members}` (null: none, or the unassigned villages). */
function selectedZoneMembers() {
  const id = app.selectedZone;
  const zone = id && id !== UNASSIGNED ? app.zoning?.byId.get(id) : null;
  return zone ? { id, members: zone.members ?? [] } : null;
}

/** Folds (`folded` true) or unfolds an analysis card. */
function foldCard(card, folded) {
  card.classList.toggle('collapsed', folded);
  card.querySelector('.card-toggle')?.setAttribute('aria-expanded', folded ? 'false' : 'true');
}

/** Opens zone `id` (or the unassigned villages) in the side panel, fitting the map to it. */
function showZone(id, { fit = false } = {}) {
  const z = app.zoning;
  if (!z || (id !== UNASSIGNED && !z.byId.has(id))) return;
  app.selected = null;
  setUrlParam('village', null);
  if (app.map?.getStyle()) setHighlight(app.map, null);
  markZone(id, { scroll: true });
  const owner = z.source === 'plan' ? plansCard : zonesCard;
  panel.showCustom(`zone:${id}`, () => owner.detailHtml(id));
  if (fit) fitTo(z.bboxById.get(id), { maxZoom: ZONE_FIT_MAX_ZOOM });
}

/** The zone line of the village panel: which zone the village is in, with a link to it. */
function villageZoneLine(v) {
  const z = app.zoning;
  if (!z || !v?.code) return '';
  const id = z.zoneOf.get(String(v.code));
  if (!id) {
    return `<div class="panel-zone unassigned" data-testid="panel-zone"><i class="zone-swatch unassigned"></i><span>${escapeHtml(t('villageNoZone'))}</span></div>`;
  }
  const zone = z.byId.get(id);
  const keyCode = zone.key_village?.code ?? zone.key_village;
  const isKey = keyCode === String(v.code);
  const keyName = zone.key_village?.name ?? app.villages.find((x) => x.code === keyCode)?.name ?? keyCode;
  const bad = zone.violations?.length > 0;
  return `<div class="panel-zone${bad ? ' bad' : ''}" data-testid="panel-zone">
    <i class="zone-swatch${bad ? ' bad' : ''}" style="--c:${zoneColor(zone.colour)}"></i>
    <span>${escapeHtml(t('villageZone'))} <b data-testid="panel-zone-id">${escapeHtml(id)}</b>${zone.name ? ` ${escapeHtml(zone.name)}` : ''}
      <span class="muted">· ${isKey ? `<span class="key-star">★</span>${escapeHtml(t('zoneKeyVillage'))}` : `${escapeHtml(t('zoneKeyVillage'))} ${escapeHtml(keyName)}`}</span></span>
    <button type="button" class="link-btn" data-zone-link="${escapeHtml(id)}">${escapeHtml(t('showZone'))} ›</button>
  </div>`;
}

/** Shows a new zoning (null clears it): map overlay, "by zone" colouring, legend, open panel. */
function applyZoning(zoning) {
  const fresh = zoning && zoning !== app.zoning;
  app.zoning = zoning;
  // A popup about the previous zoning (a village's zone, a zone's numbers) is stale now.
  popup?.remove();
  popup = null;
  const map = app.map?.getStyle() ? app.map : null;
  const zoneOption = modeSelect.querySelector('option[value="zone"]');
  zoneOption.disabled = !zoning;
  if (zoning && mode !== 'zone') setMode('zone');
  else if (!zoning && mode === 'zone') setMode(app.facilities?.coverage ? 'coverage' : baseMode);
  if (map) {
    if (zoning) showZoning(map, zoning);
    else clearZoning(map);
  }
  legend.update({ zoning: zoning ? { bad: zoning.totals.violations > 0, unassigned: zoning.unassigned.length > 0 } : null });
  // A new proposal or imported zoning is shown whole (a township's proposal zooms to it).
  if (fresh && zoning.source !== 'plan') {
    const byCode = new Map(app.villages.map((v) => [String(v.code), v]));
    fitTo(villagesBbox([...zoning.zoneOf.keys()], byCode), { maxZoom: ZONE_FIT_MAX_ZOOM });
  }
  // The panel follows: a zone that no longer exists closes it, a village gets its new zone line.
  const key = panel.customKey;
  if (key?.startsWith('zone:')) {
    const id = key.slice(5);
    if (zoning && (id === UNASSIGNED ? zoning.unassigned.length : zoning.byId.has(id))) showZone(id);
    else select(null);
  } else {
    if (panel.isOpen) panel.render();
    markZone(app.selected ? zoning?.zoneOf.get(app.selected) ?? null : null);
  }
}

/**
 * Shows a facility analysis (null clears it): service areas, sites, spider lines, the ranking's
 * marks, and — for a coverage or MCLP result — the "coverage" colouring of the villages.
 */
function applyFacilities(overlay) {
  app.facilities = overlay;
  const map = app.map?.getStyle() ? app.map : null;
  modeSelect.querySelector('option[value="coverage"]').disabled = !overlay?.coverage;
  if (overlay?.coverage && mode !== 'coverage') setMode('coverage');
  else if (!overlay?.coverage && mode === 'coverage') setMode(app.zoning ? 'zone' : baseMode);
  if (map) {
    if (overlay) showFacilities(map, overlay);
    else clearFacilities(map);
  }
  legend.update({ facilities: overlay?.legend ?? null });
  popup?.remove();
  if (overlay?.bbox) fitTo(overlay.bbox, { maxZoom: ZONE_FIT_MAX_ZOOM });
}

/** Outlines the villages an infeasible request names and brings them into view ([] clears). */
function showProblem(codes) {
  app.problemVillages = codes;
  if (app.map?.getStyle()) setProblemVillages(app.map, codes);
  legend.update({ problem: codes.length > 0 });
  if (codes.length) {
    const byCode = new Map(app.villages.map((v) => [String(v.code), v]));
    fitTo(villagesBbox(codes, byCode), { maxZoom: ZONE_FIT_MAX_ZOOM });
  }
}

function fitTo(bbox, { maxZoom = 15 } = {}) {
  if (!app.map || !Array.isArray(bbox) || bbox.length !== 4 || !bbox.every(Number.isFinite)) return;
  app.map.fitBounds(
    [
      [bbox[0], bbox[1]],
      [bbox[2], bbox[3]],
    ],
    { padding: viewPadding(), maxZoom, duration: 900 },
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
  if (id === FAC_NEW_SITE_LAYER || id === 'fac-sites-existing') return sitePopupHtml(p);
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
  const ids = [FAC_NEW_SITE_LAYER, 'fac-sites-existing', 'facilities-icon', 'members-icon', 'members-fill', 'greenhouses-fill', 'parcels-fill', VILLAGE_FILL].filter((id) => map.getLayer(id));
  const feats = map.queryRenderedFeatures(e.point, { layers: ids });
  const village = feats.find((f) => f.layer.id === VILLAGE_FILL);
  // 调整模式 of a plan: a village click opens the move chooser instead of the panel.
  if (plansCard.adjusting && village?.properties?.code) {
    popup?.remove();
    popup = null;
    const code = String(village.properties.code);
    plansCard.openChooser(map, code, e.lngLat);
    setHighlight(map, code);
    return;
  }
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

/** Reloads the tiles of the data layers: after a sign-in, the ones refused before come now. */
function reloadTiles() {
  const map = app.map;
  if (!map?.getStyle()) return;
  for (const l of Object.keys(app.layers)) if (map.getSource(l)) map.refreshTiles(l);
}

async function start() {
  const failures = [];
  // The config first: it says whether reads need a token (then nothing else goes before one).
  const config = await getConfig().catch((e) => {
    // No config is fine (defaults); a broken server is worth saying.
    if (e?.status !== 404) failures.push({ err: e, what: () => t('errConfig') });
    return {};
  });
  if (config && typeof config.title === 'string' && config.title.trim()) customTitle = config.title.trim();
  updateTitle();
  setReadAccess(config?.read);
  await signIn.start(config?.read);

  const [list, ...tjs] = await Promise.all([
    getVillages().catch((e) => {
      failures.push({ err: e, what: () => t('errVillagesList') });
      return null;
    }),
    ...DATA_LAYERS.map((l) => loadTileJson(l, failures)),
  ]);
  reportFailures(failures);
  updateLangButton();

  DATA_LAYERS.forEach((l, i) => {
    if (tjs[i]) app.layers[l] = tjs[i];
  });
  app.villages = Array.isArray(list?.villages) ? list.villages : [];
  search.setVillages(list ? app.villages : null);
  facilitiesCard.renderScope();
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
      transformRequest: mapRequest,
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
    // A tile refused (401): the token was revoked, or the tile was asked for before a sign-in.
    if (e?.error?.status === 401) return signIn.tileRefused();
    const msg = e?.error?.message ?? String(e?.error ?? e);
    console.warn('map error', msg);
    const now = Date.now();
    if (now - lastMapError > 4000) toast(t('errMap', { msg }));
    lastMapError = now;
  });

  map.on('load', () => {
    addLayers(map, { tilejson: app.layers, villages: app.villages, towns, basemap: config?.basemap ?? null, mode });
    for (const l of LIST_ORDER) if (app.layers[l]) setGroupVisible(map, l, visible.has(l));
    // A zoning or an error that arrived before the map was ready.
    if (app.zoning) showZoning(map, app.zoning);
    if (app.problemVillages.length) setProblemVillages(map, app.problemVillages);
    if (app.selectedZone && app.selectedZone !== UNASSIGNED) setSelectedZone(map, app.selectedZone);
    if (app.facilities) showFacilities(map, app.facilities);

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

function setMode(next) {
  mode = next;
  modeSelect.value = mode;
  if (app.map?.getStyle()) setVillageColorMode(app.map, mode, towns);
  legend.update({ mode });
}

modeSelect.addEventListener('change', () => {
  setMode(modeSelect.value);
  // "By zone" and "by coverage" depend on results in the page, which the URL does not carry.
  if (!RESULT_MODES.includes(mode)) {
    baseMode = mode;
    setUrlParam('mode', mode === 'town' ? null : mode);
  }
});

// Links inside the side panel: a village's zone, a zone's member villages.
document.getElementById('panel-body').addEventListener('click', (e) => {
  if (e.target.closest('[data-plan-action], form, select')) return; // a plan's edit controls (plans.js)
  const zoneLink = e.target.closest('[data-zone-link]');
  if (zoneLink) return showZone(zoneLink.dataset.zoneLink, { fit: true });
  const village = e.target.closest('[data-village]');
  if (village?.dataset.village) select(village.dataset.village, { fit: true });
});
document.getElementById('panel-body').addEventListener('keydown', (e) => {
  const row = e.target.closest('tr[data-village]');
  if (row && e.key === 'Enter' && !e.target.closest('button')) select(row.dataset.village, { fit: true });
});

for (const id of LANG_BUTTONS) {
  document.getElementById(id).addEventListener('click', () => {
    setLang(getLang() === 'zh' ? 'en' : 'zh');
    setUrlParam('lang', getLang() === 'en' ? 'en' : null);
  });
}

onLangChange(() => {
  updateTitle();
  updateLangButton();
  signIn.render();
  layerList?.render();
  legend.render();
  panel.render();
  search.refresh();
  zonesCard.render();
  facilitiesCard.render();
  plansCard.closeChooser();
  plansCard.render();
  popup?.remove();
});

updateLangButton();
start().catch((e) => {
  console.warn(e);
  toast(t('errMap', { msg: e?.message ?? String(e) }), { timeout: 0 });
});
