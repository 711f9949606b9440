// The 设施分析 card: coverage of a facility kind (POST /analysis/coverage), facility location
// (POST /analysis/locate) and the key-village ranking of a zone or town (POST /analysis/centers),
// with the result summaries and lists, and the map overlay each result draws (layers.js
// showFacilities()).
//
// One result is shown at a time: running an analysis replaces the previous one (of any of the
// three kinds), 清除 removes it. Which village colouring goes with it is main.js's business: a
// coverage result (or an MCLP one, which also names the villages left uncovered) asks for the
// "coverage" colouring through `overlay.coverage`.
import { ApiError, analyseCoverage, getServiceRadii, locateFacilities, rankCenters } from './api.js';
import { fmt, getLang, pickLang, t, tv } from './i18n.js';
import { escapeHtml } from './panel.js';
import { FACILITY_KINDS } from './palette.js';
import { toast, toastApiError } from './toast.js';

const EMPTY_FC = { type: 'FeatureCollection', features: [] };

/** The default weights of the key-village ranking (src/location: CenterWeights::default). */
export const CENTER_WEIGHTS = { strength: 0.4, centrality: 0.3, facilities: 0.15, industry: 0.15 };
const WEIGHT_KEYS = Object.keys(CENTER_WEIGHTS);

/** The inputs to mark when a 422 names `field` (the server's names; `roads` = no usable roads layer). */
const FIELD_INPUTS = {
  radius: ['radius_m'],
  radius_m: ['radius_m'],
  minutes: ['minutes'],
  p: ['p'],
  kind: ['kind'],
  demand: ['demand'],
  candidates: ['candidates'],
  distance: ['distance'],
  roads: ['distance'],
  model: ['model'],
  method: ['method'],
  time_limit_s: ['time_limit_s'],
  town: ['scope'],
  villages: ['scope'],
  weights: WEIGHT_KEYS.map((k) => `w_${k}`),
};

const RUN_LABELS = { coverage: 'facRunCoverage', locate: 'facRunLocate', centers: 'facRunCenters' };
const BUSY_LABELS = { coverage: 'busyCoverage', locate: 'busyLocate', centers: 'busyCenters' };
const WHAT = { coverage: 'errCoverage', locate: 'errLocate', centers: 'errCenters' };
const MODEL_KEYS = { lscp: 'modelLscp', mclp: 'modelMclp', pmedian: 'modelPmedian', pcenter: 'modelPcenter' };

/** The name of a request field in the current language (the raw name if unknown). */
export function fieldName(field) {
  const key = `f_${field}`;
  const s = t(key);
  return s === key ? String(field ?? '?') : s;
}

function shorten(s, max) {
  return s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s;
}

const num = (v) => v != null && v !== '' && Number.isFinite(Number(v));
const isPoint = (p) => Array.isArray(p) && p.length >= 2 && Number.isFinite(p[0]) && Number.isFinite(p[1]);

function distanceText(metres) {
  if (!num(metres)) return '—';
  const m = Number(metres);
  return m >= 1000 ? `${fmt(m / 1000, 1)} km` : `${fmt(m)} m`;
}

/** Minutes as "12.5 分钟" / "12.5 min" (whole minutes without a decimal). */
function minutesText(minutes) {
  if (!num(minutes)) return '—';
  const m = Number(minutes);
  return t('minutesN', { n: fmt(m, Number.isInteger(m) ? 0 : 1) });
}

/**
 * Whether a result (or the request) is in travel-time mode (distance "time"): reaches in
 * `minutes`, times in `*_min` keys instead of `radius_m` and `*_m`.
 */
function isTime(res, params) {
  return res?.unit === 'min' || ['time', 'walk'].includes(res?.distance_mode) || ['time', 'walk'].includes(params?.distance);
}

/** How far a village is from its nearest facility: minutes (`nearest_min`) or metres (`nearest_m`). */
function nearestText(v) {
  if (num(v?.nearest_min)) return minutesText(v.nearest_min);
  if (num(v?.nearest_m)) return distanceText(v.nearest_m);
  return null;
}

/** How many of the villages farthest from a facility a coverage result lists. */
const FAR_N = 10;

function pct(share, digits = 1) {
  return num(share) ? `${fmt(Number(share) * 100, digits)}%` : '—';
}

// ---------------------------------------------------------------------------------------------
// GeoJSON of the overlays

const pointFeature = (coordinates, properties) => ({ type: 'Feature', geometry: { type: 'Point', coordinates }, properties });

/**
 * A circle of `r` metres around [lon, lat], as a 64-gon in lon/lat (local metres per degree).
 * Only a stand-in for a server that does not send `service_areas` (the server's circles are
 * drawn in the metric CRS and are what counts).
 */
function circleFeature(center, r, properties) {
  const [lon, lat] = center;
  const dy = r / 111320;
  const dx = r / (111320 * Math.cos((lat * Math.PI) / 180));
  const ring = [];
  for (let k = 0; k <= 64; k++) {
    const a = ((k % 64) * 2 * Math.PI) / 64;
    ring.push([lon + dx * Math.cos(a), lat + dy * Math.sin(a)]);
  }
  return { type: 'Feature', geometry: { type: 'Polygon', coordinates: [ring] }, properties };
}

/** The server's service areas (every feature's `existing` made a boolean), else circles. */
function serviceAreas(fc, fallback) {
  if (fc && Array.isArray(fc.features)) {
    return {
      type: 'FeatureCollection',
      features: fc.features.map((f) => ({ ...f, properties: { ...f.properties, existing: f.properties?.existing !== false } })),
    };
  }
  return { type: 'FeatureCollection', features: fallback() };
}

function bboxOfPoints(points, b = [Infinity, Infinity, -Infinity, -Infinity]) {
  for (const p of points) {
    if (!isPoint(p)) continue;
    b[0] = Math.min(b[0], p[0]);
    b[1] = Math.min(b[1], p[1]);
    b[2] = Math.max(b[2], p[0]);
    b[3] = Math.max(b[3], p[1]);
  }
  return b;
}

/** Union of the /villages bboxes of `codes` and of `points` (null if empty). */
function extent(codes, byCode, points = []) {
  const b = bboxOfPoints(points);
  for (const c of codes) {
    const vb = byCode.get(String(c))?.bbox;
    if (Array.isArray(vb) && vb.length === 4) bboxOfPoints([[vb[0], vb[1]], [vb[2], vb[3]]], b);
  }
  return Number.isFinite(b[0]) ? b : null;
}

/** Where a village of a result is drawn: its own point if the answer has one, else the /villages centroid. */
function villagePoint(v, byCode) {
  if (isPoint(v.point)) return v.point;
  const c = byCode.get(String(v.code))?.centroid;
  return isPoint(c) ? c : null;
}

function coverageOverlay(res, byCode) {
  const facilities = (res.facilities ?? []).filter((f) => isPoint(f.point));
  const villages = Array.isArray(res.villages) ? res.villages : [];
  const sites = facilities.map((f, i) =>
    pointFeature(f.point, { existing: true, i, name: f.name ?? '', kind: res.kind ?? '', radius_m: f.radius_m ?? null, minutes: f.minutes ?? null, village: f.village ?? '' }),
  );
  return {
    type: 'coverage',
    coverage: true,
    // In travel-time mode the areas are the server's isochrones; there is no circle to stand in.
    areas: serviceAreas(res.service_areas, () =>
      facilities.filter((f) => num(f.radius_m)).map((f) => circleFeature(f.point, Number(f.radius_m), { name: f.name, radius_m: f.radius_m, existing: true })),
    ),
    sites: { type: 'FeatureCollection', features: sites },
    covered: new Map(villages.map((v) => [String(v.code), v.covered ? 1 : 0])),
    uncovered: (res.uncovered_villages ?? []).map(String),
    bbox: extent(villages.map((v) => v.code), byCode, facilities.map((f) => f.point)),
    legend: { type: 'coverage', areasExisting: true, sitesExisting: true, covered: true, uncovered: true },
  };
}

/** The new sites numbered 1, 2, … in the answer's order (the list and the map markers agree). */
function numberSites(facilities) {
  let n = 0;
  return facilities.map((f) => (f.existing ? 0 : ++n));
}

function locateOverlay(res, byCode) {
  const facilities = Array.isArray(res.facilities) ? res.facilities : [];
  const numbers = numberSites(facilities);
  const villages = Array.isArray(res.villages) ? res.villages : [];
  const radiusModel = res.model === 'lscp' || res.model === 'mclp';
  const sites = facilities
    .map((f, i) =>
      isPoint(f.point)
        ? pointFeature(f.point, {
            existing: Boolean(f.existing),
            n: numbers[i],
            i,
            name: f.name ?? '',
            village_name: f.village_name ?? '',
            // Allocation (nearest site) and coverage (within its own radius) are told apart.
            allocated_population: f.allocated_population ?? null,
            allocated_farthest_m: f.allocated_farthest_m ?? null,
            allocated_farthest_min: f.allocated_farthest_min ?? null,
            covered_population: f.covered_population ?? null,
            radius_m: f.radius_m ?? null,
            minutes: f.minutes ?? null,
          })
        : null,
    )
    .filter(Boolean);
  // p-median / p-center: who goes where, as a line from each village to its facility.
  const spider = [];
  if (!radiusModel) {
    for (const v of villages) {
      const f = facilities[v.facility];
      const from = villagePoint(v, byCode);
      if (!f || !isPoint(f.point) || !from) continue;
      spider.push({ type: 'Feature', geometry: { type: 'LineString', coordinates: [from, f.point] }, properties: { existing: Boolean(f.existing), code: String(v.code) } });
    }
  }
  const uncovered = (res.uncovered_villages ?? []).map(String);
  const mclp = res.model === 'mclp';
  const unc = new Set(uncovered);
  return {
    type: 'locate',
    // MCLP names the villages left out: shown like a coverage result.
    coverage: mclp && villages.length > 0,
    areas: radiusModel
      ? serviceAreas(res.service_areas, () =>
          facilities
            .filter((f) => isPoint(f.point) && num(f.radius_m ?? res.radius_m))
            .map((f) => circleFeature(f.point, Number(f.radius_m ?? res.radius_m), { name: f.name, existing: Boolean(f.existing) })),
        )
      : EMPTY_FC,
    sites: { type: 'FeatureCollection', features: sites },
    spider: { type: 'FeatureCollection', features: spider },
    covered: mclp ? new Map(villages.map((v) => [String(v.code), unc.has(String(v.code)) ? 0 : 1])) : null,
    uncovered,
    bbox: extent(villages.map((v) => v.code), byCode, facilities.map((f) => f.point)),
    legend: {
      type: 'locate',
      areasExisting: radiusModel && facilities.some((f) => f.existing),
      areasNew: radiusModel,
      sitesExisting: facilities.some((f) => f.existing),
      sitesNew: true,
      spider: !radiusModel,
      covered: mclp,
      uncovered: mclp,
    },
  };
}

/** How many ranked villages get a number on the map (the rest are outlined only). */
const RANK_MARKS = 3;

function centersOverlay(res, byCode) {
  const rows = Array.isArray(res.candidates) ? res.candidates : [];
  const marks = [];
  const medianCode = res.one_median?.code != null ? String(res.one_median.code) : null;
  const median = medianCode && byCode.get(medianCode)?.centroid;
  if (isPoint(median)) marks.push(pointFeature(median, { icon: 'fac-median', order: 0, code: medianCode }));
  for (const r of rows.slice(0, RANK_MARKS)) {
    const c = byCode.get(String(r.code))?.centroid;
    if (isPoint(c)) marks.push(pointFeature(c, { icon: `rank:${r.rank}`, order: 100 - Number(r.rank), code: String(r.code) }));
  }
  const codes = rows.map((r) => String(r.code));
  return {
    type: 'centers',
    coverage: false,
    ranked: codes,
    marks: { type: 'FeatureCollection', features: marks },
    bbox: extent(codes, byCode),
    legend: { type: 'centers', ranked: true, rankMarks: true, median: Boolean(median) },
  };
}

/** The popup of a site of a facility analysis (new or existing), from its feature properties. */
export function sitePopupHtml(p) {
  const row = (k, v) => `<tr><th>${escapeHtml(k)}</th><td>${v}</td></tr>`;
  const rows = [];
  if (p.village_name && p.village_name !== p.name) rows.push(row(t('facVillage'), escapeHtml(p.village_name)));
  const person = t('unitPerson') ? ` ${escapeHtml(t('unitPerson'))}` : '';
  // A site of a travel-time result carries its reach in `minutes` (and no radius_m).
  const time = num(p.minutes);
  if (num(p.covered_population)) rows.push(row(t(time ? 'facCoveredMin' : 'facCovered'), `${escapeHtml(fmt(p.covered_population))}${person}`));
  if (num(p.allocated_population)) rows.push(row(t('facServed'), `${escapeHtml(fmt(p.allocated_population))}${person}`));
  if (num(p.allocated_farthest_m)) rows.push(row(t('facFarthest'), escapeHtml(distanceText(p.allocated_farthest_m))));
  if (num(p.allocated_farthest_min)) rows.push(row(t('facFarthestMin'), escapeHtml(minutesText(p.allocated_farthest_min))));
  if (num(p.radius_m)) rows.push(row(t('facRadiusShort'), `${escapeHtml(fmt(p.radius_m))} m`));
  if (time) rows.push(row(t('facMinutesShort'), escapeHtml(minutesText(p.minutes))));
  const kicker = p.existing === true || p.existing === 'true' ? t('legendFacExisting') : t('facNewSite', { n: p.n });
  return `<h4><span class="muted">${escapeHtml(kicker)}</span><br />${escapeHtml(p.name || '')}</h4>${rows.length ? `<table>${rows.join('')}</table>` : ''}`;
}

// ---------------------------------------------------------------------------------------------
// The card

export class FacilitiesCard {
  /**
   * `villages()` returns the /villages list; `zone()` the zone selected in the 片区方案 card as
   * `{id, members}` (or null); `onResult(overlay | null)` gets each result's map overlay (null on
   * clear); `onPick(code)` a village clicked in a list or table; `onOpen(open)` the card being
   * opened or folded (by its header).
   */
  constructor({ villages, zone, onResult, onPick, onOpen }) {
    this.card = document.getElementById('fac-card');
    this.toggle = this.card.querySelector('.card-toggle');
    this.tabs = [...this.card.querySelectorAll('.fac-tab')];
    this.forms = {
      coverage: document.getElementById('fac-form-coverage'),
      locate: document.getElementById('fac-form-locate'),
      centers: document.getElementById('fac-form-centers'),
    };
    this.paramsBtn = document.getElementById('fac-params');
    this.runBtn = document.getElementById('fac-run');
    this.runLabel = document.getElementById('fac-run-label');
    this.clearBtn = document.getElementById('fac-clear');
    this.status = document.getElementById('fac-status');
    this.resultEl = document.getElementById('fac-result');
    this.villages = villages;
    this.zone = zone;
    this.onResult = onResult;
    this.onPick = onPick;
    this.onOpen = onOpen;
    this.tab = 'coverage';
    this.radii = null; // { table: [...], present: {kind: n} | null } once loaded
    this.radiiAbort = null;
    this.result = null; // { type, data, params, scope? }
    this.busy = null; // null | 'coverage' | 'locate' | 'centers'
    this.abort = null;
    this.activeVillage = null;
    this.folded = false; // the form folded into its one-line summary (after a run)
    this.byCodeCache = { list: null, map: new Map() };

    this.toggle.addEventListener('click', () => this.setOpen(this.card.classList.contains('collapsed')));
    for (const b of this.tabs) b.addEventListener('click', () => this.setTab(b.dataset.tab));
    for (const [tab, form] of Object.entries(this.forms)) {
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        this.run(tab);
      });
      // A field marked by a 422 is unmarked as soon as it is edited.
      const unmark = (e) => {
        e.target.classList?.remove('invalid');
        e.target.removeAttribute?.('aria-invalid');
      };
      form.addEventListener('input', unmark);
      form.addEventListener('change', unmark);
    }
    this.forms.coverage.elements.kind.addEventListener('change', () => this.updateRadiusHints());
    this.forms.locate.elements.kind.addEventListener('change', () => this.updateRadiusHints());
    this.forms.locate.elements.model.addEventListener('change', () => this.updateModelFields());
    this.forms.coverage.elements.distance.addEventListener('change', () => this.updateDistanceFields());
    this.forms.locate.elements.distance.addEventListener('change', () => this.updateDistanceFields());
    this.clearBtn.addEventListener('click', () => this.clear());
    this.paramsBtn.addEventListener('click', () => this.setFolded(false));
    this.resultEl.addEventListener('click', (e) => {
      const item = e.target.closest('[data-village]');
      if (item?.dataset.village) this.pick(item.dataset.village);
    });
    this.resultEl.addEventListener('keydown', (e) => {
      const item = e.target.closest('[data-village]');
      if (item?.dataset.village && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.pick(item.dataset.village);
      }
    });
    this.updateModelFields();
    this.updateDistanceFields();
    this.render();
  }

  /** code → /villages entry (rebuilt when the list changes). */
  get byCode() {
    const list = this.villages() ?? [];
    if (this.byCodeCache.list !== list) this.byCodeCache = { list, map: new Map(list.map((v) => [String(v.code), v])) };
    return this.byCodeCache.map;
  }

  get isOpen() {
    return !this.card.classList.contains('collapsed');
  }

  /** Opens or folds the card; the first opening loads the service radius table. */
  setOpen(open) {
    this.card.classList.toggle('collapsed', !open);
    this.toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    if (open && !this.radii && !this.radiiAbort) this.loadRadii();
    if (open) this.renderScope();
    this.onOpen?.(open);
  }

  setTab(tab) {
    if (tab !== this.tab || this.folded) this.setFolded(false);
    this.tab = tab;
    for (const b of this.tabs) {
      const on = b.dataset.tab === tab;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    for (const [k, form] of Object.entries(this.forms)) form.hidden = k !== tab;
    this.runBtn.setAttribute('form', this.forms[tab].id);
    this.runLabel.textContent = t(RUN_LABELS[tab]);
    if (tab === 'centers') this.renderScope();
  }

  /** Folds the form into the summary of the parameters of the result shown (or unfolds it). */
  setFolded(folded) {
    this.folded = Boolean(folded && this.result);
    this.card.classList.toggle('folded', this.folded);
    this.renderParams();
  }

  renderParams() {
    const r = this.result;
    this.paramsBtn.hidden = !this.folded || !r;
    if (this.paramsBtn.hidden) return;
    this.paramsBtn.innerHTML = `<span class="fp-text">${escapeHtml(t('facParams', { p: this.paramsText(r).join(' · ') }))}</span><span class="fp-edit">${escapeHtml(t('facEditParams'))} ›</span>`;
    this.paramsBtn.title = this.paramsText(r).join('\n');
  }

  /** The parameters of a result in words. */
  paramsText({ type, params, scope }) {
    if (type === 'centers') {
      const w = params.weights ? WEIGHT_KEYS.map((k) => `${t(`w${k[0].toUpperCase()}${k.slice(1)}`)} ${fmt(params.weights[k], 2)}`).join(' ') : null;
      return [scope, w].filter(Boolean);
    }
    const out = [];
    if (type === 'locate') {
      out.push(t(MODEL_KEYS[params.model] ?? 'facModel'));
      if (params.p != null) out.push(`p = ${fmt(params.p)}`);
    }
    if (params.kind) out.push(type === 'locate' ? t('facParamExisting', { kind: tv(params.kind) }) : tv(params.kind));
    if (params.radius_m != null) out.push(`${fmt(params.radius_m)} m`);
    if (params.minutes != null) out.push(minutesText(params.minutes));
    out.push(...this.paramsLine(params));
    if (type === 'locate') {
      out.push(t('facParamCandidates', { c: t(params.candidates === 'construction' ? 'candConstruction' : params.candidates === 'centroid' ? 'demandCentroid' : 'demandRepresentative') }));
      if (params.method) out.push(t(params.method === 'exact' ? 'methodExact' : 'methodHeuristic'));
    }
    return out;
  }

  async loadRadii() {
    const abort = new AbortController();
    this.radiiAbort = abort;
    this.renderStatus();
    try {
      const r = await getServiceRadii({ signal: abort.signal });
      const table = Array.isArray(r?.service_radii) ? r.service_radii : [];
      // kinds_present (kind → count of facilities in the workspace) is newer than the table.
      const present = r?.kinds_present && typeof r.kinds_present === 'object' ? r.kinds_present : null;
      this.radii = { table, present };
    } catch (e) {
      if (e?.name === 'AbortError') return;
      toastApiError(e, t('errRadii'));
      this.radii = { table: [], present: null };
    } finally {
      if (this.radiiAbort === abort) this.radiiAbort = null;
    }
    this.renderKinds();
    this.renderStatus();
  }

  /** The facility kinds to offer: those in the workspace (with counts) or, failing that, the table's. */
  kindEntries() {
    const table = this.radii?.table ?? [];
    const radiusOf = new Map(table.map((r) => [r.kind, r.radius_m]));
    const order = FACILITY_KINDS.map((k) => k.value);
    const rank = (k) => (order.includes(k) ? order.indexOf(k) : order.length);
    const present = this.radii?.present;
    const kinds = present ? Object.keys(present).filter((k) => k) : table.map((r) => r.kind);
    return kinds
      .map((kind) => ({ kind, count: present ? Number(present[kind]) : null, radius: radiusOf.get(kind) ?? null }))
      .sort((a, b) => rank(a.kind) - rank(b.kind) || (b.count ?? 0) - (a.count ?? 0) || a.kind.localeCompare(b.kind));
  }

  renderKinds() {
    const entries = this.kindEntries();
    const label = (e) => `${tv(e.kind)}${e.count != null ? `（${fmt(e.count)}）` : ''}`;
    const fill = (select, withNone) => {
      const before = select.value;
      const options = entries.map((e) => `<option value="${escapeHtml(e.kind)}" data-radius="${e.radius ?? ''}">${escapeHtml(label(e))}</option>`);
      if (withNone) options.unshift(`<option value="">${escapeHtml(t('facExistingNone'))}</option>`);
      else if (!options.length) options.push(`<option value="">${escapeHtml(t('facNoKinds'))}</option>`);
      select.innerHTML = options.join('');
      if ([...select.options].some((o) => o.value === before)) select.value = before;
    };
    fill(this.forms.coverage.elements.kind, false);
    fill(this.forms.locate.elements.kind, true);
    this.updateRadiusHints();
  }

  /** The radius fields show the table's radius of the chosen kind as their placeholder. */
  updateRadiusHints() {
    for (const tab of ['coverage', 'locate']) {
      const f = this.forms[tab].elements;
      const r = f.kind.selectedOptions[0]?.dataset.radius;
      f.radius_m.placeholder = r ? fmt(r) : tab === 'coverage' ? t('facRadiusOwn') : t('facRequired');
      f.radius_m.title = r ? t('facRadiusDefault', { r: fmt(r) }) : '';
    }
  }

  /** p only for mclp / pmedian / pcenter, the radius (or the minutes) only for lscp / mclp. */
  updateModelFields() {
    const f = this.forms.locate.elements;
    const model = f.model.value;
    f.p.disabled = model === 'lscp';
    f.radius_m.disabled = model === 'pmedian' || model === 'pcenter';
    f.minutes.disabled = f.radius_m.disabled;
    for (const input of [f.p, f.radius_m, f.minutes]) input.closest('.zf-field').classList.toggle('disabled', input.disabled);
  }

  /**
   * Travel time (distance "time") shows the minutes field in the radius field's place; any other
   * distance shows the radius again. Both inputs stay in the form with their values, so switching
   * back and forth keeps what was typed in each, and only the one shown is sent (readParams).
   */
  updateDistanceFields() {
    for (const tab of ['coverage', 'locate']) {
      const f = this.forms[tab].elements;
      const time = f.distance.value === 'time' || f.distance.value === 'walk';
      f.radius_m.closest('.zf-field').hidden = time;
      f.minutes.closest('.zf-field').hidden = !time;
    }
  }

  /** Zones (the one selected in the 片区方案 card) and towns (from /villages) to rank. */
  scopeEntries() {
    const out = [];
    const z = this.zone?.();
    if (z?.members?.length) out.push({ value: 'zone', label: t('facScopeZone', { id: z.id, n: fmt(z.members.length) }), zone: z });
    const towns = new Map();
    for (const v of this.villages() ?? []) {
      const code = String(v.town_code ?? String(v.code).slice(0, 9));
      const e = towns.get(code) ?? { code, name: v.town ?? code, n: 0 };
      e.n += 1;
      towns.set(code, e);
    }
    for (const e of [...towns.values()].sort((a, b) => a.code.localeCompare(b.code))) {
      out.push({ value: `town:${e.code}`, label: t('facScopeTown', { name: e.name, n: fmt(e.n) }), town: e });
    }
    return out;
  }

  /**
   * Refills the scope select. A zone newly selected in the 片区方案 card becomes the scope (the
   * brief's "current zone if there is one"); otherwise the choice is kept.
   */
  renderScope() {
    const select = this.forms.centers.elements.scope;
    const before = select.value;
    const z = this.zone?.();
    const zoneKey = z ? `${z.id}:${z.members.length}` : null;
    const zoneChanged = zoneKey !== this.lastZoneKey;
    this.lastZoneKey = zoneKey;
    const entries = this.scopeEntries();
    select.innerHTML = entries.length
      ? entries.map((e) => `<option value="${escapeHtml(e.value)}">${escapeHtml(e.label)}</option>`).join('')
      : `<option value="">${escapeHtml(t('facScopeNone'))}</option>`;
    if (z && zoneChanged) select.value = 'zone';
    else if ([...select.options].some((o) => o.value === before)) select.value = before;
  }

  /** The request body of `tab`'s form; only what differs from the server's defaults, besides the essentials. */
  readParams(tab) {
    const f = this.forms[tab].elements;
    const numberOf = (input, integer = false) => {
      const raw = String(input.value ?? '').trim();
      if (!raw || input.disabled) return undefined;
      const n = Number(raw);
      if (!Number.isFinite(n)) return undefined;
      return integer ? Math.round(n) : n;
    };
    if (tab === 'coverage') {
      const out = { kind: f.kind.value, demand: f.demand.value, service_areas: true };
      this.readReach(f, out, numberOf);
      if (f.distance.value !== 'straight') out.distance = f.distance.value;
      return out;
    }
    if (tab === 'locate') {
      const model = f.model.value;
      const out = { model, demand: f.demand.value, candidates: f.candidates.value };
      const p = numberOf(f.p, true);
      if (p !== undefined) out.p = p;
      this.readReach(f, out, numberOf);
      if (f.kind.value) out.kind = f.kind.value;
      if (f.distance.value !== 'straight') out.distance = f.distance.value;
      if (f.method.value !== 'auto') out.method = f.method.value;
      const limit = numberOf(f.time_limit_s);
      if (limit !== undefined) out.time_limit_s = limit;
      // Service areas exist for the radius models only.
      if (model === 'lscp' || model === 'mclp') out.service_areas = true;
      return out;
    }
    const scope = f.scope.value;
    const out = {};
    if (scope === 'zone') out.villages = [...(this.zone?.()?.members ?? [])].map(String);
    else if (scope.startsWith('town:')) out.town = scope.slice(5);
    const weights = {};
    let changed = false;
    for (const k of WEIGHT_KEYS) {
      const v = numberOf(f[`w_${k}`]);
      weights[k] = v ?? CENTER_WEIGHTS[k];
      if (weights[k] !== CENTER_WEIGHTS[k]) changed = true;
    }
    if (changed) out.weights = weights;
    return out;
  }

  /**
   * The reach of a coverage or LSCP / MCLP request: `minutes` in travel-time mode (the server
   * refuses a radius_m then), else `radius_m` (empty: the server's radius rule).
   */
  readReach(f, out, numberOf) {
    if (f.distance.value === 'time' || f.distance.value === 'walk') {
      const m = numberOf(f.minutes);
      if (m !== undefined) out.minutes = m;
    } else {
      const r = numberOf(f.radius_m);
      if (r !== undefined) out.radius_m = r;
    }
  }

  scopeLabel(params) {
    if (params.villages) {
      const z = this.zone?.();
      return t('facScopeZone', { id: z?.id ?? '?', n: fmt(params.villages.length) });
    }
    const e = this.scopeEntries().find((x) => x.value === `town:${params.town}`);
    return e?.town ? e.town.name : String(params.town ?? '');
  }

  unmarkAll() {
    for (const form of Object.values(this.forms)) {
      for (const el of form.querySelectorAll('.invalid')) {
        el.classList.remove('invalid');
        el.removeAttribute('aria-invalid');
      }
    }
  }

  async run(tab) {
    if (tab !== this.tab) this.setTab(tab);
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.unmarkAll();
    const params = this.readParams(tab);
    const scope = tab === 'centers' ? this.scopeLabel(params) : null;
    this.setBusy(tab);
    try {
      const call = { coverage: analyseCoverage, locate: locateFacilities, centers: rankCenters }[tab];
      const data = await call(params, { signal: abort.signal });
      if (abort.signal.aborted) return;
      this.result = { type: tab, data, params, scope };
      this.activeVillage = null;
      const byCode = this.byCode;
      const overlay = tab === 'coverage' ? coverageOverlay(data, byCode) : tab === 'locate' ? locateOverlay(data, byCode) : centersOverlay(data, byCode);
      this.render();
      this.setFolded(true);
      this.resultEl.scrollTop = 0;
      this.onResult(overlay);
    } catch (e) {
      this.fail(e, tab, abort);
    } finally {
      if (this.abort === abort) {
        this.abort = null;
        this.setBusy(null);
      }
    }
  }

  /** A 422 names the field at fault: a toast with its name, the input marked red. */
  fail(e, tab, abort) {
    if (abort.signal.aborted || e?.name === 'AbortError') return;
    const what = t(WHAT[tab]);
    const field = e instanceof ApiError && e.status === 422 ? e.problem?.field : null;
    this.setFolded(false);
    if (!field) {
      toastApiError(e, what);
      return;
    }
    console.warn(what, e);
    const form = this.forms[tab];
    for (const name of FIELD_INPUTS[field] ?? [field]) {
      const input = form.elements.namedItem?.(name);
      if (input && !(input instanceof RadioNodeList)) {
        input.classList.add('invalid');
        input.setAttribute('aria-invalid', 'true');
      }
    }
    toast(t('errFacField', { what, field: fieldName(field), detail: shorten(pickLang(e.problem?.detail ?? e.detail ?? ''), 240) }), { timeout: 15000 });
  }

  setBusy(tab) {
    this.busy = tab;
    this.card.classList.toggle('busy', Boolean(tab));
    this.card.setAttribute('aria-busy', tab ? 'true' : 'false');
    this.runBtn.disabled = Boolean(tab);
    this.clearBtn.disabled = !tab && !this.result; // clearing also cancels
    this.renderStatus();
  }

  clear() {
    this.abort?.abort();
    this.abort = null;
    this.result = null;
    this.activeVillage = null;
    this.unmarkAll();
    this.setBusy(null);
    this.setFolded(false);
    this.render();
    this.onResult(null);
  }

  pick(code) {
    this.setActiveVillage(code);
    this.onPick(code);
  }

  /** Marks the rows of village `code` in the result lists (null: none). */
  setActiveVillage(code) {
    this.activeVillage = code ?? null;
    for (const el of this.resultEl.querySelectorAll('[data-village]')) el.classList.toggle('active', el.dataset.village === this.activeVillage);
  }

  render() {
    this.runLabel.textContent = t(RUN_LABELS[this.tab]);
    this.clearBtn.disabled = !this.result && !this.busy;
    if (this.radii) this.renderKinds();
    this.renderScope();
    this.renderStatus();
    this.renderResult();
    this.renderParams();
  }

  renderStatus() {
    const parts = [];
    if (this.busy) parts.push(`<div class="zones-busy" data-testid="fac-busy"><i class="spinner"></i>${escapeHtml(t(BUSY_LABELS[this.busy]))}</div>`);
    else if (this.radiiAbort) parts.push(`<div class="zones-busy"><i class="spinner"></i>${escapeHtml(t('busyRadii'))}</div>`);
    else if (!this.result) parts.push(`<p class="zones-empty muted">${escapeHtml(t('facEmpty'))}</p>`);
    this.status.innerHTML = parts.join('');
  }

  renderResult() {
    const r = this.result;
    if (!r) {
      this.resultEl.hidden = true;
      this.resultEl.innerHTML = '';
      return;
    }
    const html = r.type === 'coverage' ? this.coverageHtml(r) : r.type === 'locate' ? this.locateHtml(r) : this.centersHtml(r);
    this.resultEl.innerHTML = html;
    this.resultEl.hidden = false;
    this.setActiveVillage(this.activeVillage);
  }

  /**
   * "1000 m" when all facilities share a radius, "1000–2000 m" otherwise; in travel-time mode
   * the same in minutes.
   */
  radiusText(res) {
    if (isTime(res)) {
      const mins = [...new Set((res.facilities ?? []).map((f) => Number(f.minutes)).filter(Number.isFinite))].sort((a, b) => a - b);
      if (mins.length > 1) return `${fmt(mins[0], Number.isInteger(mins[0]) ? 0 : 1)}–${minutesText(mins[mins.length - 1])}`;
      return minutesText(mins[0] ?? res.minutes);
    }
    const radii = [...new Set((res.facilities ?? []).map((f) => Number(f.radius_m)).filter(Number.isFinite))].sort((a, b) => a - b);
    if (radii.length > 1) return `${fmt(radii[0])}–${fmt(radii[radii.length - 1])} m`;
    const r = radii[0] ?? res.radius_m;
    return num(r) ? `${fmt(r)} m` : '—';
  }

  radiusSourceText(res) {
    const src = res.radius_source;
    if (src === 'request') return t(isTime(res) ? 'facMinutesFromRequest' : 'facRadiusFromRequest');
    const own = (res.facilities ?? []).some((f) => f.radius_from === 'facility radius_m');
    const table = src ? t('facRadiusFromTable', { source: src }) : '';
    return [table, own ? t('facRadiusFromFacility') : ''].filter(Boolean).join(getLang() === 'en' ? '; ' : '；');
  }

  paramsLine(params) {
    const parts = [];
    const d = params.distance ?? 'straight';
    // Travel time is at each road's speed (no walk / drive choice here): the line says so.
    parts.push(t(d === 'network' ? 'distNetwork' : d === 'time' ? 'distTimeRoads' : d === 'walk' ? 'distWalkPace' : 'distStraight'));
    if (params.demand) parts.push(t(`demand${params.demand[0].toUpperCase()}${params.demand.slice(1)}`));
    return parts;
  }

  coverageHtml({ data: res, params }) {
    const tot = res.totals ?? {};
    const nUnc = (res.uncovered_villages ?? []).length;
    const byVillage = new Map((res.villages ?? []).map((v) => [String(v.code), v]));
    const byCode = this.byCode;
    const person = t('unitPerson') ? ` ${t('unitPerson')}` : '';
    const source = this.radiusSourceText(res);
    const time = isTime(res, params);
    const head = [t('facCoverage'), tv(res.kind ?? params.kind), ...this.paramsLine(params).slice(0, 1)];
    const items = (res.uncovered_villages ?? []).map((code) => {
      const v = byVillage.get(String(code)) ?? {};
      const info = byCode.get(String(code));
      const missing = num(v.population) && num(v.covered_population) ? Number(v.population) - Number(v.covered_population) : null;
      const near = nearestText(v);
      const meta = [info?.town, missing != null ? t('facUncoveredPop', { n: fmt(missing) }) : null, near ? t('facNearest', { d: near }) : null].filter(Boolean);
      return `<li class="fac-item" data-village="${escapeHtml(code)}" data-testid="fac-uncovered-item" tabindex="0" role="button" title="${escapeHtml(v.nearest_facility ? t('facNearestName', { name: v.nearest_facility }) : String(code))}">
        <i class="fac-dot uncovered"></i>
        <span class="fi-main"><span class="fi-name">${escapeHtml(v.name ?? info?.name ?? code)}</span><span class="fi-meta">${escapeHtml(meta.join(' · '))}</span></span>
      </li>`;
    });
    return `<div class="zones-summary" data-testid="fac-summary" data-type="coverage">
        <div class="zs-source">${escapeHtml(head.join(' · '))}</div>
        <div class="zs-main"><b data-testid="fac-covered-share">${escapeHtml(t('facCoveredShare', { s: pct(tot.covered_share) }))}</b><span class="sep">·</span>${escapeHtml(fmt(tot.covered_population))} / ${escapeHtml(fmt(tot.population))}${escapeHtml(person)}</div>
        <div class="zs-more">${escapeHtml(t('facVillagesCovered', { k: fmt(tot.villages_covered), n: fmt(tot.villages) }))}${nUnc ? `<span class="sep">·</span><span class="warn-text" data-testid="fac-uncovered-count">${escapeHtml(t('facUncoveredN', { n: fmt(nUnc) }))}</span>` : `<span class="sep">·</span><span class="ok-text">${escapeHtml(t('facAllCovered'))}</span>`}</div>
        <div class="zs-more fac-radius" data-testid="fac-reach" data-unit="${time ? 'min' : 'm'}" title="${escapeHtml(source)}">${escapeHtml(t(time ? 'facMinutesIs' : 'facRadiusIs', { r: this.radiusText(res), n: fmt(tot.facilities ?? (res.facilities ?? []).length) }))}${source ? `<span class="sep">·</span><span class="muted">${escapeHtml(source)}</span>` : ''}</div>
      </div>
      ${items.length ? `<h3 class="fac-list-title">${escapeHtml(t('facUncoveredList'))}</h3><ul class="fac-list" data-testid="fac-uncovered-list">${items.join('')}</ul>` : ''}
      ${this.farthestHtml(res, byCode, items.length === 0)}`;
  }

  /**
   * The villages farthest from their nearest facility (minutes in travel-time mode, else metres),
   * folded under the uncovered list; open when nothing is uncovered (then it is the only list).
   */
  farthestHtml(res, byCode, open) {
    const villages = Array.isArray(res.villages) ? res.villages : [];
    const key = villages.some((v) => num(v.nearest_min)) ? 'nearest_min' : 'nearest_m';
    const far = villages
      .filter((v) => num(v[key]))
      .sort((a, b) => Number(b[key]) - Number(a[key]))
      .slice(0, FAR_N);
    if (!far.length) return '';
    const rows = far.map((v) => {
      const code = String(v.code);
      const info = byCode.get(code);
      const meta = [info?.town, t('facNearest', { d: nearestText(v) }), v.covered === false ? t('facNotCovered') : null].filter(Boolean);
      return `<li class="fac-item" data-village="${escapeHtml(code)}" data-testid="fac-far-item" data-nearest="${escapeHtml(v[key])}" tabindex="0" role="button" title="${escapeHtml(v.nearest_facility ? t('facNearestName', { name: v.nearest_facility }) : code)}">
        <i class="fac-dot ${v.covered === false ? 'uncovered' : 'covered'}"></i>
        <span class="fi-main"><span class="fi-name">${escapeHtml(v.name ?? info?.name ?? code)}</span><span class="fi-meta">${escapeHtml(meta.join(' · '))}</span></span>
      </li>`;
    });
    return `<details class="fac-existing fac-far" data-testid="fac-far"${open ? ' open' : ''}><summary>${escapeHtml(t('facFarList', { n: fmt(far.length) }))}</summary><ul class="fac-list">${rows.join('')}</ul></details>`;
  }

  objectiveHtml(res) {
    const obj = Number(res.objective);
    const person = t('unitPerson') ? ` ${t('unitPerson')}` : '';
    const total = (res.villages ?? []).reduce((a, v) => a + (Number(v.population) || 0), 0);
    switch (res.model) {
      case 'lscp':
        return escapeHtml(t('objLscp', { n: fmt(obj) }));
      case 'mclp':
        return `${escapeHtml(isTime(res) ? (num(res.minutes) ? t('objMclpMin', { t: minutesText(res.minutes), n: fmt(obj) }) : t('objMclpMinAny', { n: fmt(obj) })) : t('objMclp', { n: fmt(obj) }))}${escapeHtml(person)}${num(res.covered_share) ? `<span class="sep">·</span>${escapeHtml(t('facCoveredShare', { s: pct(res.covered_share) }))}` : ''}`;
      case 'pmedian':
        // The objective's unit comes with the answer: person·m, or person·min in time mode.
        if (res.objective_unit === 'person·min') {
          return `${escapeHtml(t('objPmedianMin', { v: fmt(obj) }))}${total > 0 ? `<span class="sep">·</span>${escapeHtml(t('objPerPerson', { d: t('minutesN', { n: fmt(obj / total, 1) }) }))}` : ''}`;
        }
        return `${escapeHtml(t('objPmedian', { v: fmt(obj / 1000) }))}${total > 0 ? `<span class="sep">·</span>${escapeHtml(t('objPerPerson', { d: distanceText(obj / total) }))}` : ''}`;
      case 'pcenter':
        if (res.objective_unit === 'min') return escapeHtml(t('objPcenterMin', { d: minutesText(obj) }));
        return escapeHtml(t('objPcenter', { d: distanceText(obj) }));
      default:
        return escapeHtml(fmt(obj, 2));
    }
  }

  locateHtml({ data: res, params }) {
    const facilities = Array.isArray(res.facilities) ? res.facilities : [];
    const numbers = numberSites(facilities);
    // The parameters are in the folded form's line above: the head only names the model.
    const head = [t('facLocate'), t(MODEL_KEYS[res.model] ?? 'facLocate')];
    if (num(res.p)) head.push(`p = ${fmt(res.p)}`);
    const gap = num(res.gap) ? pct(res.gap, Number(res.gap) < 0.001 ? 2 : 1) : '—';
    const solve = [
      res.optimal ? `<span class="ok-text">${escapeHtml(t('facOptimal'))}</span>` : `<span class="warn-text">${escapeHtml(t('facNotOptimal', { gap }))}</span>`,
      res.method ? escapeHtml(String(res.method)) : null,
      num(res.seconds) ? escapeHtml(t('sumSeconds', { s: fmt(res.seconds, res.seconds < 10 ? 2 : 1) })) : null,
      res.stopped_by_time_limit ? `<span class="warn-text">${escapeHtml(t('sumTimeLimit'))}</span>` : null,
    ].filter(Boolean);
    const counts = [t('facNewN', { n: fmt(res.new_facilities ?? numbers.filter((n) => n > 0).length) })];
    if (Number(res.existing_facilities) > 0) counts.push(t('facExistingN', { n: fmt(res.existing_facilities), kind: tv(params.kind) }));
    const nUnc = (res.uncovered_villages ?? []).length;
    const person = t('unitPerson') ? ` ${t('unitPerson')}` : '';
    const time = isTime(res, params);
    const item = (f, i) => {
      // LSCP / MCLP: the people within the site's own reach (radius or minutes) beside the
      // nearest-site allocation, which is another thing.
      const meta = [
        f.village_name && f.village_name !== f.name ? f.village_name : null,
        num(f.covered_population) ? t(time || num(f.minutes) ? 'facCoveredMinN' : 'facCoveredN', { n: fmt(f.covered_population), u: person }) : null,
        num(f.allocated_population) ? t('facServedN', { n: fmt(f.allocated_population), u: person }) : null,
        num(f.allocated_farthest_m) ? t('facFarthestD', { d: distanceText(f.allocated_farthest_m) }) : null,
        num(f.allocated_farthest_min) ? t('facFarthestD', { d: minutesText(f.allocated_farthest_min) }) : null,
      ].filter(Boolean);
      const code = f.village != null ? String(f.village) : '';
      return `<li class="fac-item${f.existing ? ' existing' : ''}" ${code ? `data-village="${escapeHtml(code)}" tabindex="0" role="button"` : ''} data-testid="${f.existing ? 'fac-existing-item' : 'fac-site-item'}">
        ${f.existing ? '<i class="fac-dot existing"></i>' : `<i class="fac-num">${numbers[i]}</i>`}
        <span class="fi-main"><span class="fi-name">${escapeHtml(f.name ?? '')}</span><span class="fi-meta">${escapeHtml(meta.join(' · '))}</span></span>
      </li>`;
    };
    const newItems = facilities.map((f, i) => (f.existing ? null : item(f, i))).filter(Boolean);
    const oldItems = facilities.map((f, i) => (f.existing ? item(f, i) : null)).filter(Boolean);
    return `<div class="zones-summary" data-testid="fac-summary" data-type="locate">
        <div class="zs-source">${escapeHtml(head.join(' · '))}</div>
        <div class="zs-main"><b data-testid="fac-objective">${this.objectiveHtml(res)}</b></div>
        ${res.objective_meaning ? `<div class="zs-more muted">${escapeHtml(t('facObjectiveIs', { m: pickLang(res.objective_meaning) }))}</div>` : ''}
        <div class="zs-more">${solve.join('<span class="sep">·</span>')}</div>
        <div class="zs-more">${escapeHtml(counts.join(' + '))}${nUnc ? `<span class="sep">·</span><span class="warn-text">${escapeHtml(t('facUncoveredN', { n: fmt(nUnc) }))}</span>` : ''}</div>
      </div>
      ${newItems.length ? `<h3 class="fac-list-title">${escapeHtml(t('facNewList'))}</h3><ul class="fac-list" data-testid="fac-site-list">${newItems.join('')}</ul>` : ''}
      ${oldItems.length ? `<details class="fac-existing"><summary>${escapeHtml(t('facExistingList', { n: fmt(oldItems.length) }))}</summary><ul class="fac-list">${oldItems.join('')}</ul></details>` : ''}`;
  }

  centersHtml({ data: res, scope }) {
    const rows = Array.isArray(res.candidates) ? res.candidates : [];
    const median = res.one_median?.code != null ? String(res.one_median.code) : null;
    const w = res.weights ?? CENTER_WEIGHTS;
    const part = (key, p) => {
      const s = Number(p?.score);
      if (!Number.isFinite(s)) return '<td class="num part">—</td>';
      const title = key === 'facilities' && p.count != null ? t('facFacilitiesCount', { n: fmt(p.count) }) : key === 'industry' && p.industry ? tv(p.industry) : '';
      return `<td class="num part" data-part="${key}" style="--s:${Math.max(0, Math.min(1, s)).toFixed(3)}"${title ? ` title="${escapeHtml(title)}"` : ''}>${fmt(s, 2)}</td>`;
    };
    const ruleOf = (key) => pickLang(rows[0]?.[key]?.rule ?? '');
    const th = (key) => `<th class="num" data-testid="fac-part-head" title="${escapeHtml([t(`w_${key}_long`), `${t('facWeight')} ${fmt(w[key], 2)}`, ruleOf(key)].filter(Boolean).join('\n'))}">${escapeHtml(t(`w_${key}_short`))}</th>`;
    const body = rows.map((r) => {
      const code = String(r.code);
      const isMedian = code === median;
      return `<tr class="center-row${Number(r.rank) === 1 ? ' first' : ''}" data-village="${escapeHtml(code)}" data-testid="fac-center-row" tabindex="0" title="${escapeHtml(code)}">
        <td class="num c-rank">${escapeHtml(r.rank)}</td>
        <td class="c-name">${isMedian ? `<i class="median-dot" title="${escapeHtml(t('facMedianTitle'))}" data-testid="fac-median"></i>` : ''}${escapeHtml(r.name ?? code)}</td>
        <td class="num c-total"><b>${fmt(r.score, 3)}</b></td>
        ${WEIGHT_KEYS.map((k) => part(k, r[k])).join('')}
      </tr>`;
    });
    const weights = WEIGHT_KEYS.map((k) => `${t(`w${k[0].toUpperCase()}${k.slice(1)}`)} ${fmt(w[k], 2)}`).join(' ');
    return `<div class="zones-summary" data-testid="fac-summary" data-type="centers">
        <div class="zs-source">${escapeHtml([t('facCenters'), scope].filter(Boolean).join(' · '))}</div>
        <div class="zs-main"><b>${escapeHtml(t('facRanked', { n: fmt(rows.length) }))}</b>${rows[0] ? `<span class="sep">·</span><span class="key-star">★</span>${escapeHtml(rows[0].name ?? rows[0].code)}` : ''}</div>
        <div class="zs-more">${escapeHtml(t('facWeights', { w: weights }))}</div>
        ${res.one_median ? `<div class="zs-more" title="${escapeHtml(t('facMedianTitle'))}"><i class="median-dot"></i>${escapeHtml(t('facMedianIs', { name: res.one_median.name ?? res.one_median.code }))}</div>` : ''}
      </div>
      <div class="fac-table-wrap"><table class="fac-table" data-testid="fac-centers-table">
        <thead><tr><th class="num">#</th><th>${escapeHtml(t('facVillageName'))}</th><th class="num" title="${escapeHtml(t('facTotalTitle'))}">${escapeHtml(t('facTotal'))}</th>${WEIGHT_KEYS.map(th).join('')}</tr></thead>
        <tbody>${body.join('')}</tbody>
      </table></div>`;
  }
}
