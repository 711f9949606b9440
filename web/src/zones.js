// The 片区方案 card: proposal parameters, POST /analysis/zones/propose and /evaluate, the zone
// list with its summary, and the zone detail shown in the side panel.
//
// A proposal is evaluated at once under the same bounds, so that proposals and imported zonings
// take one path: the map and the list always show an evaluation (per-zone statistics, violations,
// unassigned villages); a proposal adds each zone's explanation and binding constraints to it.
import { ApiError, evaluateZones, proposeZones } from './api.js';
import { fmt, getLang, pickLang, t } from './i18n.js';
import { escapeHtml, incomeHtml, statRow, unit } from './panel.js';
import { STRONG_COLOR, NORMAL_COLOR, zoneColor } from './palette.js';
import { toast } from './toast.js';

/** The pseudo-zone of the villages a zoning leaves out (last item of the list). */
export const UNASSIGNED = '__unassigned';

/** The bounds a proposal and its evaluation share; `seed` only steers the search. */
// What an evaluation needs to check a zoning as it was proposed: the bounds, which villages are
// strong, and the townships the zoning covers.
const BOUND_FIELDS = ['min_members', 'max_members', 'pop_floor', 'pop_ceiling', 'within_town', 'strong_in_town', 'strong_share', 'towns', 'strong_extra', 'mutual_aid'];

// ---------------------------------------------------------------------------------------------
// Zoning files

function fileError(msg) {
  const e = new Error(msg);
  e.zoningFile = true;
  return e;
}

/** Splits one CSV line (quotes with "" escapes allowed) on `sep`. */
function csvCells(line, sep) {
  const cells = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === sep) {
      cells.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  cells.push(cur.trim());
  return cells;
}

/**
 * {code: zone} from CSV text: comma, semicolon or tab separated, an optional header row (a first
 * row whose code cell is not a number), whose column names — 村代码 / code, 片区 / zone — are used
 * when present; otherwise the first two columns. Rows without a zone are left out (unassigned).
 */
export function parseZoningCsv(text) {
  const lines = text.split(/\r\n|\n|\r/).filter((l) => l.trim());
  if (!lines.length) throw fileError(t('errFileEmpty'));
  const first = lines[0];
  const sep = ['\t', ';', ','].reduce((best, s) => (first.split(s).length > first.split(best).length ? s : best), ',');
  let codeCol = 0;
  let zoneCol = 1;
  const head = csvCells(first, sep);
  if (!/^\d+$/.test(head[0] ?? '')) {
    const find = (re) => head.findIndex((h) => re.test(h));
    const c = find(/村代码|村编码|代码|编码|code|xzqdm|cun/i);
    const z = find(/片区|分区|zone|label|group/i);
    if (c >= 0) codeCol = c;
    if (z >= 0 && z !== codeCol) zoneCol = z;
    else if (c >= 0) zoneCol = c === 0 ? 1 : 0;
    lines.shift();
  }
  const labels = {};
  for (const line of lines) {
    const cells = csvCells(line, sep);
    const code = cells[codeCol];
    const zone = cells[zoneCol];
    if (code && zone) labels[code] = zone;
  }
  if (!Object.keys(labels).length) throw fileError(t('errFileEmpty'));
  return labels;
}

/**
 * Reads a zoning file's text. Returns `{ zoning, proposal }`: `zoning` is what
 * /analysis/zones/evaluate takes (a proposal's zones, `{"labels": …}` or `{code: zone}`),
 * `proposal` the file itself when it is a proposal (for the explanations). The server parses CSV
 * too, but only as the body of the CLI; over HTTP `zoning` must be JSON, so CSV is read here.
 */
export function parseZoningFile(text) {
  const s = String(text ?? '').replace(/^\uFEFF/, '').trim();
  if (!s) throw fileError(t('errFileEmpty'));
  if (!s.startsWith('{') && !s.startsWith('[')) return { zoning: parseZoningCsv(s), proposal: null };
  let j;
  try {
    j = JSON.parse(s);
  } catch (e) {
    throw fileError(t('errFileJson', { msg: e.message }));
  }
  if (!j || typeof j !== 'object' || Array.isArray(j)) throw fileError(t('errFileShape'));
  if (Array.isArray(j.zones)) return { zoning: minimalProposal(j), proposal: j };
  const labels = j.labels && typeof j.labels === 'object' && !Array.isArray(j.labels) ? j.labels : j;
  const ok = Object.values(labels).every((v) => v == null || typeof v === 'string' || typeof v === 'number');
  if (!ok || !Object.keys(labels).length) throw fileError(t('errFileShape'));
  return { zoning: { labels }, proposal: null };
}

/** Only what the evaluation reads of a proposal: ids, members and key villages (no GeoJSON). */
function minimalProposal(p) {
  return {
    zones: p.zones.map((z) => {
      const out = { id: z.id, members: z.members };
      if (z.key_village != null) out.key_village = z.key_village;
      return out;
    }),
  };
}

// ---------------------------------------------------------------------------------------------
// The loaded zoning

function bboxOfCoords(coords, b = [Infinity, Infinity, -Infinity, -Infinity]) {
  if (typeof coords[0] === 'number') {
    b[0] = Math.min(b[0], coords[0]);
    b[1] = Math.min(b[1], coords[1]);
    b[2] = Math.max(b[2], coords[0]);
    b[3] = Math.max(b[3], coords[1]);
  } else for (const c of coords) bboxOfCoords(c, b);
  return b;
}

/** Union of the /villages bboxes of `codes` (null if none is known). */
export function villagesBbox(codes, byCode) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  for (const c of codes) {
    const vb = byCode.get(c)?.bbox;
    if (!Array.isArray(vb) || vb.length !== 4) continue;
    b[0] = Math.min(b[0], vb[0]);
    b[1] = Math.min(b[1], vb[1]);
    b[2] = Math.max(b[2], vb[2]);
    b[3] = Math.max(b[3], vb[3]);
  }
  return Number.isFinite(b[0]) ? b : null;
}

export const hasViolations = (z) => Array.isArray(z.violations) && z.violations.length > 0;

/**
 * The zoning the page shows: the evaluation answer plus lookups (zone by id, zone of a village,
 * proposal zone by id, bbox by id) and the map's GeoJSON (zones flagged `bad`, key village points).
 */
export function buildZoning(evaluation, { source, name, proposal, params }, byCode) {
  const zones = Array.isArray(evaluation.zones) ? evaluation.zones : [];
  const byId = new Map(zones.map((z) => [String(z.id), z]));
  const zoneOf = new Map();
  for (const z of zones) for (const c of z.members ?? []) zoneOf.set(c, String(z.id));
  const proposalById = new Map((proposal?.zones ?? []).map((z) => [String(z.id), z]));

  const features = (evaluation.geojson?.features ?? []).map((f) => {
    const z = byId.get(String(f.properties?.id));
    return { ...f, properties: { ...f.properties, bad: z ? hasViolations(z) : false } };
  });
  const bboxById = new Map();
  for (const f of features) {
    if (f.geometry?.coordinates) bboxById.set(String(f.properties.id), bboxOfCoords(f.geometry.coordinates));
  }
  for (const z of zones) {
    if (!bboxById.has(String(z.id))) {
      const b = villagesBbox(z.members ?? [], byCode);
      if (b) bboxById.set(String(z.id), b);
    }
  }
  const unassigned = Array.isArray(evaluation.totals?.unassigned) ? evaluation.totals.unassigned : [];
  const ub = villagesBbox(unassigned, byCode);
  if (ub) bboxById.set(UNASSIGNED, ub);

  const keys = [];
  for (const z of zones) {
    const code = z.key_village?.code ?? z.key_village;
    const v = byCode.get(code);
    if (!Array.isArray(v?.centroid)) continue;
    keys.push({
      type: 'Feature',
      geometry: { type: 'Point', coordinates: v.centroid },
      properties: { id: String(z.id), code, bad: hasViolations(z) },
    });
  }

  // Zones breaking a constraint first, then in the server's order (by id).
  const order = zones.map((z, i) => ({ z, i }));
  order.sort((a, b) => Number(hasViolations(b.z)) - Number(hasViolations(a.z)) || a.i - b.i);

  return {
    source,
    name,
    params,
    evaluation,
    proposal,
    totals: evaluation.totals ?? {},
    zones,
    listed: order.map((o) => o.z),
    byId,
    zoneOf,
    proposalById,
    bboxById,
    unassigned,
    geojson: { type: 'FeatureCollection', features },
    keys: { type: 'FeatureCollection', features: keys },
  };
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** `key` with {n}, or its singular form `<key minus s>1` when n = 1 (English needs it). */
export function tn(key, n) {
  return Number(n) === 1 ? t(`${key.replace(/s$/, '')}1`) : t(key, { n: fmt(n) });
}

export const swatch = (color, cls = '') => `<i class="zone-swatch ${cls}" style="--c:${color}"></i>`;

export function constraintName(code) {
  const key = `c_${code}`;
  const name = t(key);
  return name === key ? String(code) : name;
}

/** A binding constraint as the server writes it: `{code: "at_max_members", value: 10, zh, en}`. */
function bindingText(b) {
  const key = `b_${b?.code}`;
  const s = t(key, { v: b?.value != null ? fmt(Number(b.value)) : '' });
  return s === key ? String(b?.[getLang()] ?? b?.zh ?? b?.code ?? b) : s;
}

export function violationText(v) {
  return `${constraintName(v.constraint)}${getLang() === 'en' ? ': ' : '：'}${pickLang(v.detail)}`;
}

function explanationHtml(e) {
  if (e == null || e === '') return '';
  if (typeof e === 'string') return `<p class="zone-explanation">${escapeHtml(pickLang(e))}</p>`;
  if (typeof e === 'object') {
    const own = e[getLang()] ?? e.text;
    if (typeof own === 'string') return `<p class="zone-explanation">${escapeHtml(own)}</p>`;
    const rows = Object.entries(e).map(
      ([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(typeof v === 'object' ? JSON.stringify(v) : pickLang(v))}</td></tr>`,
    );
    return `<table class="zone-kv">${rows.join('')}</table>`;
  }
  return `<p class="zone-explanation">${escapeHtml(String(e))}</p>`;
}

export function isStrong(v) {
  return v?.strong === true || v?.strong === 1 || v?.strong === 'true';
}

function memberTable(codes, keyCode, byCode) {
  const rows = [...codes]
    .sort((a, b) => Number(b === keyCode) - Number(a === keyCode))
    .map((code) => {
      const v = byCode.get(code);
      const key = code === keyCode;
      const strong = isStrong(v);
      return `<tr class="member-row${key ? ' key' : ''}" data-village="${escapeHtml(code)}" tabindex="0" title="${escapeHtml(code)}">
        <td class="m-key">${key ? `<span class="key-star" title="${escapeHtml(t('zoneKeyVillage'))}">★</span>` : ''}</td>
        <td class="m-name">${escapeHtml(v?.name ?? code)}</td>
        <td class="m-town">${escapeHtml(v?.town ?? '')}</td>
        <td class="num">${v ? fmt(v.population) : '—'}</td>
        <td class="m-strong"><i class="dot" style="--c:${strong ? STRONG_COLOR : NORMAL_COLOR}" title="${escapeHtml(t(strong ? 'strongVillage' : 'normalVillage'))}"></i></td>
      </tr>`;
    });
  return `<table class="member-table" data-testid="zone-members"><tbody>${rows.join('')}</tbody></table>`;
}

/** The side panel content of zone `id` (or of the unassigned villages). */
export function renderZoneDetail(zoning, id, byCode) {
  if (id === UNASSIGNED) {
    const codes = zoning.unassigned;
    return `<div data-testid="zone-detail" data-zone="${UNASSIGNED}">
      <header class="panel-header">
        <div class="kicker">${escapeHtml(sourceLabel(zoning))}</div>
        <h2 class="zone-title">${swatch('', 'unassigned')}${escapeHtml(t('legendUnassigned'))}</h2>
        <div class="chips"><span class="chip" style="--chip:#9aa5b1">${escapeHtml(tn('zoneMembers', codes.length))}</span></div>
      </header>
      <section class="panel-section">${memberTable(codes, null, byCode)}</section>
    </div>`;
  }
  const z = zoning.byId.get(id);
  if (!z) return `<p class="panel-msg muted">${escapeHtml(id)}</p>`;
  const p = zoning.proposalById.get(id);
  const keyCode = z.key_village?.code ?? z.key_village;
  const keyName = z.key_village?.name ?? p?.key_village_name ?? byCode.get(keyCode)?.name ?? keyCode;
  const bad = hasViolations(z);
  const inc = z.income ?? {};
  const strongN = Array.isArray(z.strong_villages) ? z.strong_villages.length : z.strong_villages;
  const num = (v, d) => (v == null || !Number.isFinite(Number(v)) ? '—' : fmt(v, d));
  const incomeRange = inc.min != null && inc.max != null
    ? `${num(inc.min, 1)}–${num(inc.max, 1)}${getLang() === 'en' ? ' <small>×10⁴ CNY</small>' : unit('unitWan')}`
    : '—';

  const violations = bad
    ? `<section class="zone-violations" data-testid="zone-detail-violations">
        <h3>${escapeHtml(t('zoneViolationList'))}</h3>
        <ul>${z.violations.map((v) => `<li>${escapeHtml(violationText(v))}</li>`).join('')}</ul>
      </section>`
    : '';
  const binding = p?.binding?.length
    ? `<section class="panel-section"><h3>${escapeHtml(t('zoneBinding'))}</h3>
        <div class="chips">${p.binding.map((b) => `<span class="chip plain">${escapeHtml(bindingText(b))}</span>`).join('')}</div></section>`
    : '';
  const explanation = p?.explanation
    ? `<section class="panel-section"><h3>${escapeHtml(t('zoneExplanation'))}</h3>${explanationHtml(p.explanation)}</section>`
    : '';
  const others = p?.other_members?.length
    ? `<section class="panel-section"><h3>${escapeHtml(t('zoneOtherMembers'))}</h3>
        <p>${p.other_members.map((o) => escapeHtml(typeof o === 'object' ? o.name ?? o.id ?? JSON.stringify(o) : o)).join('、')}</p></section>`
    : '';

  return `<div data-testid="zone-detail" data-zone="${escapeHtml(id)}">
    <header class="panel-header">
      <div class="kicker">${escapeHtml(t('zoneKicker'))}<span class="sep">·</span>${escapeHtml(sourceLabel(zoning))}${p?.locked ? `<span class="sep">·</span>${escapeHtml(t('zoneLocked'))}` : ''}</div>
      <h2 class="zone-title">${swatch(zoneColor(z.colour), bad ? 'bad' : '')}<span data-testid="zone-detail-id">${escapeHtml(id)}</span></h2>
      <div class="chips">
        <span class="chip key-chip" data-village="${escapeHtml(keyCode ?? '')}"><span class="key-star">★</span>${escapeHtml(t('zoneKeyVillage'))} ${escapeHtml(keyName ?? '—')}</span>
        <span class="chip plain">${escapeHtml(tn('zoneMembers', z.members?.length ?? 0))}</span>
        ${bad ? `<span class="chip bad">${escapeHtml(tn('zoneViolations', z.violations.length))}</span>` : ''}
      </div>
    </header>
    ${violations}
    <dl class="stats">
      ${statRow(t('zonePopulation'), `${fmt(z.population)}${unit('unitPerson')}`, 'zone-detail-population')}
      ${statRow(t('zoneIncome'), incomeHtml(inc.total))}
      ${statRow(t('zoneGini'), num(inc.gini, 3), 'zone-gini', t('zoneGiniHelp'))}
      ${statRow(t('zoneIncomeRange'), incomeRange)}
      ${statRow(t('zoneCompactness'), num(z.compactness_polsby_popper, 3), 'zone-compactness', t('zoneCompactnessHelp'))}
      ${statRow(t('zoneFarthest'), z.key_to_farthest_member_km == null ? '—' : `${num(z.key_to_farthest_member_km, 1)} <small>km</small>`)}
      ${statRow(t('zoneArea'), z.area_km2 == null ? '—' : `${num(z.area_km2, 1)} <small>km²</small>`)}
      ${statRow(t('zoneStrong'), num(strongN))}
      ${statRow(t('zoneConnected'), z.connected === false ? `<span class="bad-text">${escapeHtml(t('no'))} · ${escapeHtml(t('zoneParts', { n: fmt(z.parts) }))}</span>` : escapeHtml(t('yes')))}
    </dl>
    ${explanation}
    ${binding}
    <section class="panel-section">
      <h3>${escapeHtml(t('zoneMemberList'))}</h3>
      ${memberTable(z.members ?? [], keyCode, byCode)}
    </section>
    ${others}
  </div>`;
}

function sourceLabel(zoning) {
  return zoning.source === 'file' ? t('zonesFromFile', { name: zoning.name }) : t('zonesFromProposal');
}

// ---------------------------------------------------------------------------------------------
// The card

/** The error text of a failed request: the server's detail in the current language. */
export function requestErrorText(err, what) {
  if (err instanceof ApiError && err.status) {
    return t('errHttp', { status: err.status, what: `${what}${err.detail ? ` — ${pickLang(err.detail)}` : ''}` });
  }
  return t('errNetwork', { what });
}

/**
 * A refused proposal: proven impossible (with the proof's numbers) or not found in the time,
 * and each relaxation the server verified with a zoning, offered as one click.
 */
function failureHtml(p) {
  const proven = p.proven === true;
  const cert = Array.isArray(p.certificates) ? p.certificates[0] : null;
  const head = proven ? t('failProven') : t('failNotFound');
  const numbers =
    cert && cert.needed != null
      ? `<p class="zf-numbers">${escapeHtml(t('failNumbers', { needed: fmt(cert.needed), available: fmt(cert.available), unit: t(`unit_${cert.unit}`) }))}</p>`
      : '';
  const list = (p.relaxations ?? []).map(
    (r, i) => `<li><span>${escapeHtml(pickLang(r.description ?? ''))}</span>
      <button type="button" class="btn small" data-relax="${i}" data-testid="zones-relax" data-kind="${escapeHtml(r.kind)}">${escapeHtml(t('relaxApply', { n: fmt(r.verified_zones) }))}</button></li>`,
  );
  return `<div class="zones-failure" data-testid="zones-failure" data-outcome="${escapeHtml(p.outcome ?? '')}">
    <p class="bad-text"><b>${escapeHtml(head)}</b></p>
    <p class="zf-detail">${escapeHtml(shorten(pickLang(cert?.detail ?? p.detail ?? ''), 400))}</p>
    ${numbers}
    ${list.length ? `<p>${escapeHtml(t('relaxHead'))}</p><ul class="zf-relax">${list.join('')}</ul>` : ''}
  </div>`;
}

/** `s` cut to about `max` characters (a 422 detail may list hundreds of villages). */
export function shorten(s, max) {
  return s.length > max ? `${s.slice(0, max - 1).trimEnd()}…` : s;
}

export class ZonesCard {
  /**
   * `villages()` returns the /villages list (names, centroids, bboxes); `onZoning(zoning | null)`
   * gets each new evaluation (null on clear); `onPick(id)` a click in the list; `onProblem(codes)`
   * the villages an infeasible request names ([] when a new request starts).
   */
  constructor({ villages, onZoning, onPick, onProblem }) {
    this.card = document.getElementById('zones-card');
    this.form = document.getElementById('zones-form');
    this.file = document.getElementById('zones-file');
    this.importLabel = document.getElementById('zones-import');
    this.clearBtn = document.getElementById('zones-clear');
    this.proposeBtn = document.getElementById('zones-propose');
    this.status = document.getElementById('zones-status');
    this.list = document.getElementById('zone-list');
    this.villages = villages;
    this.onZoning = onZoning;
    this.onPick = onPick;
    this.onProblem = onProblem;
    this.zoning = null;
    this.busy = null; // null | 'propose' | 'evaluate'
    this.failure = null; // the last refused proposal's 422 problem (certificates, relaxations)
    this.adopted = {}; // request fields adopted from a relaxation that the form has no input for
    this.active = null;
    this.abort = null;
    this.byCodeCache = { list: null, map: new Map() };

    this.constraintsBtn = document.getElementById('zones-constraints');
    this.formOpen = false;
    this.constraintsBtn.addEventListener('click', () => {
      this.formOpen = !this.formOpen;
      this.render();
    });
    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.propose();
    });
    this.file.addEventListener('change', () => {
      const f = this.file.files?.[0];
      this.file.value = ''; // the same file can be picked again
      if (f) this.importFile(f);
    });
    this.clearBtn.addEventListener('click', () => this.clear());
    this.status.addEventListener('click', (e) => {
      const b = e.target.closest('[data-relax]');
      if (b) this.adopt(Number(b.dataset.relax));
    });
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('[data-zone]');
      if (li) this.onPick(li.dataset.zone);
    });
    this.list.addEventListener('keydown', (e) => {
      const li = e.target.closest('[data-zone]');
      if (li && (e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.onPick(li.dataset.zone);
      }
    });
    this.render();
  }

  /** code → /villages entry (rebuilt when the list changes). */
  get byCode() {
    const list = this.villages() ?? [];
    if (this.byCodeCache.list !== list) this.byCodeCache = { list, map: new Map(list.map((v) => [String(v.code), v])) };
    return this.byCodeCache.map;
  }

  /** The form's parameters; empty fields are left to the server's defaults. */
  readParams() {
    const fd = new FormData(this.form);
    const out = {};
    for (const k of ['min_members', 'max_members', 'pop_floor', 'pop_ceiling', 'seed', 'zones', 'strong_share']) {
      const raw = String(fd.get(k) ?? '').trim();
      if (!raw) continue;
      const n = Number(raw);
      if (Number.isFinite(n)) out[k] = ['pop_floor', 'pop_ceiling', 'strong_share'].includes(k) ? n : Math.round(n);
    }
    const town = String(fd.get('towns') ?? '').trim();
    if (town) out.towns = [town];
    out.within_town = fd.get('within_town') === 'on';
    if (fd.get('strong_in_town') === 'on') out.strong_in_town = true;
    // A relaxation adopted from a refused request (designated strong villages, mutual-aid
    // leaders) stays until the card is cleared.
    return { ...out, ...this.adopted };
  }

  /** Adopts a relaxation the server verified: its fields go into the form (or the kept extras) and the proposal is made again. */
  adopt(i) {
    const r = this.failure?.relaxations?.[i];
    if (!r?.request) return;
    for (const [k, v] of Object.entries(r.request)) {
      const input = this.form.elements.namedItem(k);
      if (input && !Array.isArray(v)) input.value = String(v);
      else this.adopted[k] = v;
    }
    this.propose();
  }

  /** Starts a request: aborts the one under way, clears the previous error marks. */
  begin(kind) {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.onProblem([]);
    this.failure = null;
    this.setBusy(kind);
    return abort;
  }

  end(abort) {
    if (this.abort === abort) {
      this.abort = null;
      this.setBusy(null);
    }
  }

  setBusy(kind) {
    this.busy = kind;
    this.card.classList.toggle('busy', Boolean(kind));
    this.card.setAttribute('aria-busy', kind ? 'true' : 'false');
    this.proposeBtn.disabled = Boolean(kind);
    this.file.disabled = Boolean(kind);
    this.importLabel.classList.toggle('disabled', Boolean(kind));
    this.clearBtn.disabled = Boolean(kind) ? false : !this.zoning; // clearing also cancels
    this.renderStatus();
  }

  async propose() {
    const params = this.readParams();
    const abort = this.begin('propose');
    try {
      const proposal = await proposeZones({ ...params, geojson: false }, { signal: abort.signal });
      if (abort.signal.aborted) return;
      await this.evaluate(minimalProposal(proposal), { source: 'proposal', name: null, proposal, params }, abort);
    } catch (e) {
      this.fail(e, t('errPropose'), abort);
    } finally {
      this.end(abort);
    }
  }

  async importFile(file) {
    let parsed;
    try {
      parsed = parseZoningFile(await file.text());
    } catch (e) {
      toast(t('errFile', { name: file.name, msg: e.zoningFile ? e.message : e?.message ?? String(e) }));
      return;
    }
    const abort = this.begin('evaluate');
    try {
      // A proposal file says which bounds it was made for; other files are checked with the form's.
      const request = parsed.proposal?.request;
      const params = request && typeof request === 'object' ? request : this.readParams();
      await this.evaluate(parsed.zoning, { source: 'file', name: file.name, proposal: parsed.proposal, params }, abort);
    } catch (e) {
      this.fail(e, t('errEvaluate'), abort);
    } finally {
      this.end(abort);
    }
  }

  async evaluate(zoning, meta, abort) {
    this.setBusy('evaluate');
    const bounds = { geojson: true };
    for (const k of BOUND_FIELDS) if (meta.params[k] !== undefined) bounds[k] = meta.params[k];
    const evaluation = await evaluateZones(zoning, bounds, { signal: abort.signal });
    if (abort.signal.aborted) return;
    this.zoning = buildZoning(evaluation, meta, this.byCode);
    this.formOpen = false;
    this.active = null;
    this.render();
    this.list.scrollTop = 0;
    this.onZoning(this.zoning);
  }

  fail(e, what, abort) {
    if (abort.signal.aborted || e?.name === 'AbortError') return;
    console.warn(what, e);
    const problem = e instanceof ApiError ? e.problem : null;
    if (e instanceof ApiError && e.status === 422 && problem) {
      const codes = Array.isArray(problem.villages) ? problem.villages.map(String) : [];
      if (codes.length) this.onProblem(codes);
      if (problem.outcome) {
        this.failure = problem;
        this.renderStatus();
      }
      toast(
        t('errInfeasible', {
          constraint: problem.constraint ? `${constraintName(problem.constraint)}` : '?',
          detail: shorten(pickLang(problem.detail ?? e.detail ?? ''), 220),
          n: fmt(codes.length),
        }),
        { timeout: 15000 },
      );
      return;
    }
    toast(requestErrorText(e, what));
  }

  clear() {
    this.abort?.abort();
    this.abort = null;
    this.zoning = null;
    this.active = null;
    this.failure = null;
    this.adopted = {};
    this.setBusy(null);
    this.onProblem([]);
    this.render();
    this.onZoning(null);
  }

  /**
   * Forgets the zoning without telling `onZoning` (a plan of the 规划方案 card took the map) and
   * cancels a request under way, whose answer would take the map back.
   */
  release() {
    if (!this.zoning && !this.busy) return;
    this.abort?.abort();
    this.abort = null;
    this.zoning = null;
    this.active = null;
    this.setBusy(null);
    this.onProblem([]);
    this.render();
  }

  /** Marks zone `id` in the list (null: none); `scroll` brings it into view. */
  setActive(id, { scroll = false } = {}) {
    this.active = this.zoning ? id ?? null : null;
    for (const li of this.list.querySelectorAll('[data-zone]')) {
      const on = li.dataset.zone === this.active;
      li.classList.toggle('active', on);
      li.setAttribute('aria-current', on ? 'true' : 'false');
      if (on && scroll) li.scrollIntoView({ block: 'nearest' });
    }
  }

  detailHtml(id) {
    return this.zoning ? renderZoneDetail(this.zoning, id, this.byCode) : '';
  }

  render() {
    this.renderTowns();
    // The constraints fold once a zoning is shown, so that the zone list has room.
    const folded = Boolean(this.zoning) && !this.formOpen;
    this.form.classList.toggle('folded', folded);
    this.constraintsBtn.hidden = !this.zoning;
    this.constraintsBtn.setAttribute('aria-expanded', folded ? 'false' : 'true');
    this.clearBtn.disabled = !this.zoning && !this.busy;
    this.renderStatus();
    this.renderList();
  }

  /** The township choice: the whole county, or one township (from the /villages list). */
  renderTowns() {
    const select = this.form.elements.namedItem('towns');
    if (!select) return;
    const names = [...new Set((this.villages() ?? []).map((v) => v.town).filter(Boolean))].sort((a, b) => a.localeCompare(b, 'zh'));
    const have = [...select.options].slice(1).map((o) => o.value);
    if (have.join('|') === names.join('|')) return;
    const chosen = select.value;
    select.innerHTML = `<option value="" data-i18n="wholeCounty">${escapeHtml(t('wholeCounty'))}</option>${names.map((n) => `<option value="${escapeHtml(n)}">${escapeHtml(n)}</option>`).join('')}`;
    select.value = names.includes(chosen) ? chosen : '';
  }

  renderStatus() {
    const parts = [];
    if (this.busy) {
      parts.push(`<div class="zones-busy" data-testid="zones-busy"><i class="spinner"></i>${escapeHtml(t(this.busy === 'propose' ? 'busyPropose' : 'busyEvaluate'))}</div>`);
    }
    const z = this.zoning;
    // A refused proposal shows its proof and relaxations, above the zoning kept from before.
    if (this.failure && !this.busy) parts.push(failureHtml(this.failure));
    if (z) {
      const tot = z.totals;
      const nViol = Number(tot.violations ?? 0);
      const more = [];
      if (Number(tot.disconnected_zones) > 0) more.push(`<span class="bad-text">${escapeHtml(t('sumDisconnected', { n: fmt(tot.disconnected_zones) }))}</span>`);
      if (z.unassigned.length) more.push(`<span class="warn-text">${escapeHtml(t('sumUnassigned', { n: fmt(z.unassigned.length) }))}</span>`);
      const seconds = z.proposal?.seconds;
      if (seconds != null) more.push(escapeHtml(t('sumSeconds', { s: fmt(seconds, seconds < 10 ? 2 : 1) })));
      if (z.proposal?.stopped_by_time_limit) more.push(`<span class="warn-text">${escapeHtml(t('sumTimeLimit'))}</span>`);
      const obj = tot.objective?.total;
      if (obj != null && Number.isFinite(Number(obj))) more.push(escapeHtml(t('sumObjective', { v: fmt(obj, 3) })));
      parts.push(`<div class="zones-summary" data-testid="zones-summary">
        <div class="zs-source">${escapeHtml(sourceLabel(z))}</div>
        <div class="zs-main"><b data-testid="zones-count">${escapeHtml(t('sumZones', { n: fmt(tot.zones ?? z.zones.length) }))}</b><span class="sep">·</span>${
          nViol > 0
            ? `<span class="bad-text" data-testid="zones-violations">${escapeHtml(tn('sumViolations', nViol))}${escapeHtml(t('sumViolationZones', { n: fmt(tot.zones_with_violations ?? 0) }))}</span>`
            : `<span class="ok-text" data-testid="zones-violations">${escapeHtml(t('sumNoViolation'))}</span>`
        }</div>
        ${more.length ? `<div class="zs-more">${more.join('<span class="sep">·</span>')}</div>` : ''}
      </div>`);
    } else if (!this.busy && !this.failure) {
      parts.push(`<p class="zones-empty muted">${escapeHtml(t('zonesEmpty'))}</p>`);
    }
    this.status.innerHTML = parts.join('');
  }

  renderList() {
    const z = this.zoning;
    if (!z) {
      this.list.hidden = true;
      this.list.innerHTML = '';
      return;
    }
    const byCode = this.byCode;
    const items = z.listed.map((zone) => {
      const id = String(zone.id);
      const bad = hasViolations(zone);
      const keyCode = zone.key_village?.code ?? zone.key_village;
      const keyName = zone.key_village?.name ?? byCode.get(keyCode)?.name ?? keyCode ?? '';
      const details = bad ? zone.violations.map(violationText) : [];
      return `<li class="zone-item${bad ? ' bad' : ''}${id === this.active ? ' active' : ''}" data-zone="${escapeHtml(id)}" data-testid="zone-item" tabindex="0" role="button">
        ${swatch(zoneColor(zone.colour), bad ? 'bad' : '')}
        <span class="zi-main">
          <span class="zi-title"><b class="zi-id">${escapeHtml(id)}</b><span class="zi-key">★ ${escapeHtml(keyName)}</span></span>
          <span class="zi-meta">${escapeHtml(tn('zoneMembers', zone.members?.length ?? 0))} · ${fmt(zone.population)}${escapeHtml(t('unitPerson') ? ` ${t('unitPerson')}` : '')}</span>
          ${bad ? `<span class="zi-violations">${details.map((d) => `<span>${escapeHtml(d)}</span>`).join('')}</span>` : ''}
        </span>
        ${bad ? `<span class="zi-badge" data-testid="zone-violation" title="${escapeHtml(details.join('\n'))}">${escapeHtml(tn('zoneViolations', zone.violations.length))}</span>` : ''}
      </li>`;
    });
    if (z.unassigned.length) {
      items.push(`<li class="zone-item unassigned${this.active === UNASSIGNED ? ' active' : ''}" data-zone="${UNASSIGNED}" data-testid="zone-unassigned" tabindex="0" role="button">
        ${swatch('', 'unassigned')}
        <span class="zi-main"><span class="zi-title"><b>${escapeHtml(t('legendUnassigned'))}</b></span>
        <span class="zi-meta">${escapeHtml(tn('zoneMembers', z.unassigned.length))}</span></span>
      </li>`);
    }
    this.list.innerHTML = items.join('');
    this.list.hidden = false;
  }
}
