// The village side panel: GET /villages/{code}, rendered in the current language.
import { getVillage, ApiError } from './api.js';
import { fmt, getLang, t, tv } from './i18n.js';
import { badgeCanvas } from './icons.js';
import {
  FACILITY_KINDS, FACILITY_OTHER, INDUSTRIES, INDUSTRY_OTHER, LAND_CLASSES, LAND_CODE_NAMES,
  landClassInfo, landClassOf, NORMAL_COLOR, STRONG_COLOR,
} from './palette.js';

export const M2_PER_MU = 10000 / 15; // 1 亩 = 666.67 m²

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

const iconUrls = new Map();
function facilityIconUrl(kind) {
  if (!iconUrls.has(kind)) {
    const entry = FACILITY_KINDS.find((k) => k.value === kind) ?? FACILITY_OTHER;
    iconUrls.set(kind, badgeCanvas(entry, 'circle', 18, 2).toDataURL());
  }
  return iconUrls.get(kind);
}

function isStrong(v) {
  return v === true || v === 1 || v === 'true';
}

function mu(m2, digits = 1) {
  const v = Number(m2) / M2_PER_MU;
  if (v > 0 && v < 0.5 * 10 ** -digits) return `<${fmt(10 ** -digits, digits)}`;
  return fmt(v, digits);
}

function km2(m2) {
  return fmt(Number(m2) / 1e6, 2);
}

/** Land use by first-level class (湿地 codes as 00), from the detailed codes when present. */
export function landUseClasses(v) {
  const byCode = v.land_use_m2 && typeof v.land_use_m2 === 'object' ? v.land_use_m2 : null;
  const sums = new Map();
  if (byCode && Object.keys(byCode).length) {
    for (const [code, area] of Object.entries(byCode)) {
      const cls = landClassOf(code);
      sums.set(cls, (sums.get(cls) ?? 0) + Number(area || 0));
    }
  } else if (Array.isArray(v.land_use_classes)) {
    for (const c of v.land_use_classes) sums.set(String(c.class), (sums.get(String(c.class)) ?? 0) + Number(c.area_m2 || 0));
  }
  const order = LAND_CLASSES.map((c) => c.cls);
  return [...sums]
    .filter(([, a]) => a > 0)
    .map(([cls, area]) => ({ ...landClassInfo(cls), area }))
    .sort((a, b) => b.area - a.area || order.indexOf(a.cls) - order.indexOf(b.cls));
}

/** A statistic; `help` (optional) explains it to a planner on hover and under the label. */
export function statRow(label, valueHtml, testid, help) {
  const dt = help
    ? `<dt title="${escapeHtml(help)}">${escapeHtml(label)} <span class="help-mark" aria-label="${escapeHtml(help)}">ⓘ</span></dt>`
    : `<dt>${escapeHtml(label)}</dt>`;
  return `<div class="stat">${dt}<dd${testid ? ` data-testid="${testid}"` : ''}>${valueHtml}</dd></div>`;
}

export function unit(key) {
  const u = t(key);
  return u ? ` <small>${escapeHtml(u)}</small>` : '';
}

export function incomeHtml(wan) {
  if (wan == null || !Number.isFinite(Number(wan))) return '—';
  if (getLang() === 'en') return `${fmt(Number(wan) * 1e4)} <small>CNY</small>`;
  return `${fmt(wan, 2)}${unit('unitWan')}`;
}

function areaHtml(m2) {
  if (m2 == null || !Number.isFinite(Number(m2))) return '—';
  return `${mu(m2, 0)}${unit('unitMu')} <span class="muted">(${km2(m2)} km²)</span>`;
}

export function renderVillage(v, extra = '') {
  const strong = isStrong(v.strong);
  const ind = INDUSTRIES.find((i) => i.value === v.industry);
  const classes = landUseClasses(v);
  const total = classes.reduce((a, c) => a + c.area, 0) || Number(v.parcel_area_m2) || 0;
  const density = v.population_density_per_km2 ?? (v.area_m2 ? (Number(v.population) / Number(v.area_m2)) * 1e6 : null);

  const bars = classes.length
    ? `<ul class="landuse">${classes
        .map((c) => {
          const pct = total ? (100 * c.area) / total : 0;
          return `<li title="${escapeHtml(c.cls)} ${escapeHtml(c.name)}">
            <span class="lu-name"><i class="swatch" style="background:${c.color}"></i>${escapeHtml(tv(c.name))}</span>
            <span class="lu-bar"><b style="width:${Math.max(pct, 0.8).toFixed(1)}%;background:${c.color}"></b></span>
            <span class="lu-val">${mu(c.area, 0)}<small> ${escapeHtml(t('unitMu'))}</small> · ${pct > 0 && pct < 0.05 ? '<0.1' : fmt(pct, 1)}%</span>
          </li>`;
        })
        .join('')}</ul>`
    : `<p class="muted">${escapeHtml(t('landUseNone'))}</p>`;

  const detail = v.land_use_m2 && Object.keys(v.land_use_m2).length
    ? `<details class="lu-detail"><summary>${escapeHtml(t('landUseDetail'))}</summary><table>${Object.entries(v.land_use_m2)
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([code, area]) => {
          const info = landClassInfo(landClassOf(code));
          return `<tr><td><i class="swatch" style="background:${info.color}"></i>${escapeHtml(code)}</td><td>${escapeHtml(LAND_CODE_NAMES[code] ?? '')}</td><td class="num">${mu(area, 1)} ${escapeHtml(t('unitMu'))}</td></tr>`;
        })
        .join('')}</table></details>`
    : '';

  const fac = v.facilities && typeof v.facilities === 'object' ? Object.entries(v.facilities).filter(([, n]) => Number(n) > 0) : [];
  const kindOrder = FACILITY_KINDS.map((k) => k.value);
  const rank = (kind) => (kindOrder.includes(kind) ? kindOrder.indexOf(kind) : kindOrder.length);
  fac.sort((a, b) => rank(a[0]) - rank(b[0]));
  const facHtml = fac.length
    ? `<ul class="facilities">${fac
        .map(([kind, n]) => `<li><img src="${facilityIconUrl(kind)}" alt="" width="18" height="18" />${escapeHtml(tv(kind))}<b>${fmt(n)}</b></li>`)
        .join('')}</ul>`
    : `<p class="muted">${escapeHtml(t('facilitiesNone'))}</p>`;

  return `
    <header class="panel-header">
      <div class="kicker">${escapeHtml(v.town ?? '')}<span class="sep">·</span><span data-testid="panel-code">${escapeHtml(v.code)}</span></div>
      <h2 data-testid="panel-name">${escapeHtml(v.name)}</h2>
      <div class="chips">
        <span class="chip" style="--chip:${strong ? STRONG_COLOR : NORMAL_COLOR}">${escapeHtml(t(strong ? 'strongVillage' : 'normalVillage'))}</span>
        <span class="chip" style="--chip:${ind?.color ?? INDUSTRY_OTHER}">${escapeHtml(tv(v.industry))}</span>
      </div>
    </header>
    ${extra}
    <dl class="stats">
      ${statRow(t('population'), `${Number(v.population ?? 0).toLocaleString('zh-CN')}${unit('unitPerson')}`, 'panel-population')}
      ${statRow(t('households'), `${fmt(v.households)}${unit('unitHousehold')}`, 'panel-households')}
      ${statRow(t('partyMembers'), `${fmt(v.party_members)}${unit('unitPerson')}`)}
      ${statRow(t('collectiveIncome'), incomeHtml(v.collective_income), 'panel-income')}
      ${statRow(t('area'), areaHtml(v.area_m2), 'panel-area')}
      ${statRow(t('density'), density == null ? '—' : `${fmt(density)}${unit('unitPerKm2')}`)}
      ${statRow(t('cultivated'), `${mu(v.cultivated_m2, 0)}${unit('unitMu')}`)}
      ${statRow(t('construction'), `${mu(v.construction_m2, 0)}${unit('unitMu')}`)}
    </dl>
    <section class="panel-section">
      <h3>${escapeHtml(t('landUse'))}</h3>
      ${bars}
      ${detail}
    </section>
    <section class="panel-section">
      <h3>${escapeHtml(t('greenhouses'))}</h3>
      <p class="inline-stat" data-testid="panel-greenhouses"><b>${escapeHtml(t('greenhouseCount', { n: fmt(v.greenhouse_count ?? 0) }))}</b>
        <span class="muted">${escapeHtml(t('greenhouseArea'))} ${mu(v.greenhouse_area_m2 ?? 0, 1)} ${escapeHtml(t('unitMu'))}</span></p>
    </section>
    <section class="panel-section">
      <h3>${escapeHtml(t('facilities'))}</h3>
      ${facHtml}
    </section>`;
}

/**
 * Controls the panel element; `show(code)` loads and renders a village, `showCustom(key, render)`
 * shows other content (a zone) in the same place. `extra(village)`, when set, adds HTML below a
 * village's header (the zone it belongs to).
 */
export class VillagePanel {
  constructor({ onClose }) {
    this.el = document.getElementById('village-panel');
    this.body = document.getElementById('panel-body');
    this.code = null;
    this.data = null;
    this.state = 'closed'; // closed | loading | ok | notfound | error | custom
    this.error = null;
    this.abort = null;
    this.custom = null; // { key, render } while state = custom
    this.extra = null;
    document.getElementById('panel-close').addEventListener('click', () => {
      this.close();
      onClose?.();
    });
  }

  get isOpen() {
    return !this.el.hidden;
  }

  async show(code) {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.code = code;
    this.data = null;
    this.custom = null;
    this.state = 'loading';
    this.el.hidden = false;
    document.body.classList.add('panel-open');
    this.render();
    try {
      const v = await getVillage(code, { signal: abort.signal });
      if (abort.signal.aborted) return;
      this.data = v;
      this.state = 'ok';
    } catch (e) {
      if (abort.signal.aborted || e?.name === 'AbortError') return;
      this.error = e;
      this.state = e instanceof ApiError && e.status === 404 ? 'notfound' : 'error';
      if (this.state === 'error') console.warn('village', code, e);
    }
    this.render();
  }

  /** Shows `render()` (HTML in the current language, re-run on language changes) under `key`. */
  showCustom(key, render) {
    this.abort?.abort();
    this.abort = null;
    this.code = null;
    this.data = null;
    this.custom = { key, render };
    this.state = 'custom';
    this.el.hidden = false;
    document.body.classList.add('panel-open');
    this.render();
    this.el.scrollTop = 0;
  }

  /** The key of the custom content shown, or null. */
  get customKey() {
    return this.state === 'custom' ? this.custom?.key ?? null : null;
  }

  close() {
    this.abort?.abort();
    this.el.hidden = true;
    this.code = null;
    this.custom = null;
    this.state = 'closed';
    document.body.classList.remove('panel-open');
  }

  render() {
    if (this.state === 'closed') return;
    this.el.dataset.state = this.state;
    if (this.state === 'loading') {
      this.body.innerHTML = `<p class="panel-msg muted" data-testid="panel-loading">${escapeHtml(t('panelLoading'))}</p>`;
    } else if (this.state === 'notfound') {
      this.body.innerHTML = `<p class="panel-msg panel-error" data-testid="panel-error">${escapeHtml(t('panelNotFound', { code: this.code }))}</p>`;
    } else if (this.state === 'error') {
      const msg = this.error?.status ? this.error.message : t('errNetwork', { what: `/villages/${this.code}` });
      this.body.innerHTML = `<p class="panel-msg panel-error" data-testid="panel-error">${escapeHtml(t('panelError', { msg }))}</p>`;
    } else if (this.state === 'custom') {
      this.body.innerHTML = this.custom.render();
    } else {
      this.body.innerHTML = renderVillage(this.data, this.extra?.(this.data) ?? '');
    }
  }
}
