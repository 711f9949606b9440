// The 规划方案 card: saved, versioned plans (GET/POST /plans, PATCH /plans/{id} with If-Match,
// versions, restore, exports and sheets).
//
// A plan is shown like a zoning of the 片区方案 card: its zones go through zones.js buildZoning()
// (members as codes, the dissolved outlines from `export?format=geojson` of the same version), so
// the map colouring, outlines, key-village stars, the village panel's zone line and the zone
// picked in the list work alike. One zoning is on the map at a time: a plan shown releases the
// 片区方案 card's result, a new result there takes the map back (the plan stays loaded here, with
// a button to show it again).
//
// Writes need an editor token (`Authorization: Bearer …`); without one the card is read-only and
// says how to get one. It is the one token of the page (api.js getToken/setToken): the sign-in
// of a server run with `--read viewer` (auth.js) fills it too, a viewer token leaves the card
// read-only, and 清除 here is 退出登录 there. Every write sends the ETag of the version shown as
// If-Match: a 412 (someone else saved meanwhile) reloads the plan with a toast; a 422 names the
// edit at fault. After every write the plan, its warnings, outlines and statistics are redrawn.
//
// 调整模式: a click on a village opens a chooser on the map (target zone, nearest first, or 未分区;
// 设为中心村 for a member) — see openChooser(). Zone names, types, notes and the key village are
// edited in the zone's detail in the side panel.
import { Popup } from 'maplibre-gl';
import {
  ApiError, createPlan, editPlan, getBlob, getJson, getPlan, getPlanVersions, getToken, listPlans, onTokenChange, planExportUrl,
  planSheetUrl, readNeedsToken, restorePlan, setToken as saveToken, whoAmI,
} from './api.js';
import { fmt, getLang, pickLang, t, tv } from './i18n.js';
import { escapeHtml, incomeHtml, statRow, unit } from './panel.js';
import { NORMAL_COLOR, STRONG_COLOR, zoneColor } from './palette.js';
import { toast } from './toast.js';
import {
  buildZoning, constraintName, hasViolations, isStrong, requestErrorText, shorten, swatch, tn, UNASSIGNED, violationText,
} from './zones.js';

const PLAN_KEY = 'liancun.plan';
const EXPORTS = [
  ['geojson', 'planExportGeojson'],
  ['gpkg', 'planExportGpkg'],
  ['shp', 'planExportShp'],
  // What bureaus deliver and expect back: GBK text, their Gauss–Krüger zone.
  ['shp', 'planExportShpGk', { crs: 'metric', encoding: 'gbk' }],
  ['csv', 'planExportCsv'],
  ['stats', 'planExportStats'],
];
/** Warnings a planner should see but that break no bound: amber rather than red. */
const SOFT_WARNINGS = new Set(['key_village', 'empty', 'unassigned']);

function stored(key) {
  try {
    return window.localStorage.getItem(key);
  } catch {
    return null; // storage disabled: nothing remembered
  }
}

function store(key, value) {
  try {
    if (value == null || value === '') window.localStorage.removeItem(key);
    else window.localStorage.setItem(key, String(value));
  } catch {
    /* storage disabled */
  }
}

/** A server time (ISO 8601) as local date and minutes. */
function when(iso) {
  const d = new Date(iso);
  if (!iso || Number.isNaN(d.getTime())) return iso ?? '';
  return d.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false,
  });
}

/** Scrolls `box` (and only it: scrollIntoView would also scroll the card) to show `el`. */
function scrollWithin(box, el) {
  const b = box.getBoundingClientRect();
  const r = el.getBoundingClientRect();
  if (r.top < b.top) box.scrollTop -= b.top - r.top;
  else if (r.bottom > b.bottom) box.scrollTop += Math.min(r.bottom - b.bottom, r.top - b.top);
}

const keyCodeOf = (z) => (z?.key_village?.code != null ? String(z.key_village.code) : null);

/** The zoning the map shows for a plan (zones.js buildZoning) and the plan itself. */
export function zoningFromPlan(plan, geojson, byCode) {
  const evaluation = {
    zones: (plan.zones ?? []).map((z) => ({ ...z, members: (z.members ?? []).map((m) => String(m.code)), memberInfo: z.members ?? [] })),
    totals: { ...plan.totals, unassigned: (plan.unassigned ?? []).map((u) => String(u.code)) },
    geojson: {
      type: 'FeatureCollection',
      features: (geojson?.features ?? []).map((f) => ({ ...f, properties: { ...f.properties, id: String(f.properties?.zone_id ?? '') } })),
    },
  };
  const zoning = buildZoning(evaluation, { source: 'plan', name: plan.name, proposal: null, params: plan.params ?? {} }, byCode);
  zoning.plan = plan;
  return zoning;
}

export class PlansCard {
  /**
   * `villages()` returns the /villages list; `onZoning(zoning)` shows a plan's zoning on the map;
   * `onPick(id)` opens a zone (list, warnings); `onOpen(open)` follows the card's folding;
   * `zonesParams()` the bounds of the 片区方案 card, `currentZoning()` its zoning shown (or null);
   * `onChooserClose()` runs when the map chooser closes.
   */
  constructor({ villages, onZoning, onPick, onOpen, zonesParams, currentZoning, onChooserClose }) {
    this.card = document.getElementById('plans-card');
    this.toggle = this.card.querySelector('.card-toggle');
    this.tokenBox = document.getElementById('plans-token-box');
    this.tokenSummary = document.getElementById('plans-token-summary');
    this.tokenForm = document.getElementById('plans-token-form');
    this.tokenInput = document.getElementById('plans-token');
    this.select = document.getElementById('plans-select');
    this.newBtn = document.getElementById('plans-new');
    this.newForm = document.getElementById('plans-new-form');
    this.status = document.getElementById('plans-status');
    this.body = document.getElementById('plans-body');
    this.adjustInput = document.getElementById('plans-adjust');
    this.adjustLabel = document.getElementById('plans-adjust-label');
    this.adjustHint = document.getElementById('plans-adjust-hint');
    this.flashEl = document.getElementById('plans-flash');
    this.warningsEl = document.getElementById('plans-warnings');
    this.tabs = [...this.card.querySelectorAll('.plan-tabs [data-tab]')];
    this.zonesEl = document.getElementById('plans-zones');
    this.historyEl = document.getElementById('plans-history');
    this.downloadsEl = document.getElementById('plans-downloads');
    Object.assign(this, { villages, onZoning, onPick, onOpen, zonesParams, currentZoning, onChooserClose });

    this.who = null; // GET /auth/whoami for this.token (null: not checked yet)
    this.plans = null; // GET /plans answer's list (null: not loaded)
    this.plan = null; // the plan loaded (GET /plans/{id} or a write's answer)
    this.zoning = null; // zoningFromPlan(plan)
    this.shown = false; // whether the map shows this plan (the 片区方案 card may have taken it)
    this.versions = null; // GET /plans/{id}/versions for this.plan.id
    this.tab = 'zones';
    this.active = null;
    this.busy = null; // null | 'load' | 'save' | 'create'
    this.abort = null;
    this.adjusting = false;
    this.chooser = null;
    this.sheetZone = '';
    this.byCodeCache = { list: null, map: new Map() };

    this.toggle.addEventListener('click', () => this.setOpen(this.card.classList.contains('collapsed')));
    this.tokenForm.addEventListener('submit', (e) => {
      e.preventDefault();
      // 保存 with nothing typed is no 清除: under `--read viewer` that would sign out.
      if (this.tokenInput.value.trim()) this.setToken(this.tokenInput.value);
      else this.tokenInput.focus();
    });
    document.getElementById('plans-token-clear').addEventListener('click', () => this.setToken(''));
    onTokenChange((_, reason) => this.tokenChanged(reason));
    this.tokenInput.addEventListener('input', () => this.tokenInput.classList.remove('invalid'));
    this.select.addEventListener('change', () => {
      if (this.select.value) this.load(this.select.value);
    });
    this.newBtn.addEventListener('click', () => this.showNewForm(this.newForm.hidden));
    document.getElementById('plans-new-cancel').addEventListener('click', () => this.showNewForm(false));
    this.newForm.addEventListener('submit', (e) => {
      e.preventDefault();
      this.create();
    });
    this.adjustInput.addEventListener('change', () => this.setAdjusting(this.adjustInput.checked));
    for (const b of this.tabs) b.addEventListener('click', () => this.setTab(b.dataset.tab));
    const pick = (e) => {
      const el = e.target.closest('[data-zone]');
      if (el && (e.type === 'click' || e.key === 'Enter' || e.key === ' ')) {
        e.preventDefault();
        this.pickZone(el.dataset.zone);
      }
    };
    for (const el of [this.zonesEl, this.warningsEl]) {
      el.addEventListener('click', pick);
      el.addEventListener('keydown', pick);
    }
    this.status.addEventListener('click', (e) => {
      if (e.target.closest('[data-plan-show]')) this.reshow();
    });
    this.historyEl.addEventListener('click', (e) => {
      const b = e.target.closest('[data-restore]');
      if (b) this.restore(Number(b.dataset.restore));
    });
    // Under `--read viewer` a plain link would go without the token (401): fetch the file with it.
    this.downloadsEl.addEventListener('click', (e) => {
      const a = e.target.closest('a.pd-link');
      if (!a || !readNeedsToken() || !getToken()) return;
      e.preventDefault();
      this.download(a);
    });
    this.downloadsEl.addEventListener('change', (e) => {
      if (e.target.matches('[data-sheet-zone]')) {
        this.sheetZone = e.target.value;
        this.renderDownloads();
      }
    });
    // The zone detail in the side panel: rename, type, notes, key village.
    const panelBody = document.getElementById('panel-body');
    panelBody.addEventListener('submit', (e) => {
      const form = e.target.closest('[data-plan-form]');
      if (!form) return;
      e.preventDefault();
      const zone = form.dataset.zone;
      const value = new FormData(form).get('value');
      if (form.dataset.planForm === 'rename') this.edit([{ op: 'rename', zone, name: String(value ?? '').trim() }]);
      if (form.dataset.planForm === 'notes') this.edit([{ op: 'set_notes', zone, notes: String(value ?? '') }]);
    });
    panelBody.addEventListener('change', (e) => {
      const sel = e.target.closest('[data-plan-type]');
      if (sel) this.edit([{ op: 'set_type', zone: sel.dataset.planType, type: sel.value }]);
    });
    panelBody.addEventListener('click', (e) => {
      const b = e.target.closest('[data-plan-action="set-key"]');
      if (b) this.edit([{ op: 'set_key', zone: b.dataset.zone, village: b.dataset.village }]);
    });
    this.tokenBox.open = !this.canEdit;
    this.render();
    this.checkToken();
  }

  get isOpen() {
    return !this.card.classList.contains('collapsed');
  }

  /** The page's token (api.js), '' if none. */
  get token() {
    return getToken();
  }

  get canEdit() {
    return Boolean(this.token) && (this.who?.can_edit ?? true);
  }

  /** Asks the server who the token is: a bad token is dropped, a viewer token cannot edit. */
  async checkToken() {
    const token = this.token;
    if (!token) return;
    try {
      const who = await whoAmI(token);
      if (token !== this.token) return;
      this.who = who;
      if (!who.can_edit) {
        this.tokenBox.open = true;
        this.tokenInput.classList.add('invalid');
        this.setAdjusting(false);
      }
    } catch (e) {
      // A bad token is dropped for the whole page (tokenChanged redraws the card).
      if (token === this.token && e?.status === 401) saveToken('', { reason: 'rejected' });
      return;
    }
    this.render();
    if (this.shown) this.onZoning(this.zoning);
  }

  /** code → /villages entry (rebuilt when the list changes). */
  get byCode() {
    const list = this.villages() ?? [];
    if (this.byCodeCache.list !== list) this.byCodeCache = { list, map: new Map(list.map((v) => [String(v.code), v])) };
    return this.byCodeCache.map;
  }

  setOpen(open) {
    this.card.classList.toggle('collapsed', !open);
    this.toggle.setAttribute('aria-expanded', open ? 'true' : 'false');
    this.onOpen?.(open);
    if (open) this.refreshList({ autoload: true });
  }

  /** The card's 保存 / 清除: stores the token for the whole page (or clears it). */
  setToken(value) {
    const before = this.token;
    saveToken(value);
    if (this.token === before) this.tokenChanged(null); // unchanged: no event, but the form is done
  }

  /**
   * The token changed, here or elsewhere (sign-in, 退出登录, another tab); `reason` 'rejected':
   * the server refused it (401), so the card says so.
   */
  tokenChanged(reason) {
    this.who = reason === 'rejected' ? { bad: true } : null;
    this.tokenInput.value = '';
    this.tokenInput.classList.toggle('invalid', reason === 'rejected');
    if (!this.canEdit) this.setAdjusting(false);
    this.tokenBox.open = !this.canEdit;
    this.render();
    if (this.shown) this.onZoning(this.zoning); // the zone detail shows (or hides) its edit controls
    this.checkToken();
  }

  // -------------------------------------------------------------------------------------------
  // Requests

  begin(kind) {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
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
    this.renderStatus();
    this.renderControls();
  }

  /** GET /plans into the switcher; `autoload` opens the remembered plan when nothing else is on the map. */
  async refreshList({ autoload = false } = {}) {
    try {
      const { plans } = await listPlans();
      this.plans = Array.isArray(plans) ? plans : [];
    } catch (e) {
      console.warn(e);
      toast(requestErrorText(e, t('errPlanList')));
      this.plans = this.plans ?? [];
    }
    this.renderSelect();
    this.renderStatus();
    if (autoload && !this.plan && !this.busy && !this.currentZoning()) {
      const last = stored(PLAN_KEY);
      if (last && this.plans.some((p) => String(p.id) === last)) this.load(last);
    }
  }

  /** Loads plan `id` (its head) and shows it. */
  async load(id) {
    const abort = this.begin('load');
    try {
      const plan = await getPlan(id, { signal: abort.signal });
      if (abort.signal.aborted) return;
      await this.showPlan(plan, abort.signal);
    } catch (e) {
      if (abort.signal.aborted || e?.name === 'AbortError') return;
      console.warn(e);
      toast(requestErrorText(e, t('errPlanLoad')));
      if (e instanceof ApiError && e.status === 404) {
        store(PLAN_KEY, null);
        this.refreshList();
      }
    } finally {
      this.end(abort);
    }
  }

  /** Shows `plan` (a GET or a write's answer): outlines of the same version, list, map. */
  async showPlan(plan, signal) {
    let geojson = null;
    try {
      geojson = await getJson(planExportUrl(plan.id, 'geojson', plan.version), { signal });
    } catch (e) {
      if (e?.name === 'AbortError') throw e;
      console.warn('plan outlines', e); // the zones are still coloured, only the outlines are missing
    }
    if (signal?.aborted) return;
    const samePlan = this.plan?.id === plan.id;
    this.plan = plan;
    this.zoning = zoningFromPlan(plan, geojson, this.byCode);
    this.shown = true;
    if (!samePlan) {
      this.versions = null;
      this.sheetZone = '';
      this.active = null;
    }
    store(PLAN_KEY, plan.id);
    if (this.plans && !this.plans.some((p) => p.id === plan.id)) this.plans.push({ id: plan.id, name: plan.name, version: plan.version });
    const listed = this.plans?.find((p) => p.id === plan.id);
    if (listed) Object.assign(listed, { name: plan.name, version: plan.version, etag: plan.etag });
    this.closeChooser();
    this.render();
    this.onZoning(this.zoning);
    if (this.tab === 'history') this.loadVersions();
  }

  /** Sends `edits` as one new version (If-Match: the version shown). */
  async edit(edits) {
    if (!this.plan || !this.canEdit || this.busy) return false;
    const plan = this.plan;
    const abort = this.begin('save');
    try {
      const next = await editPlan(plan.id, plan.etag, edits, { signal: abort.signal });
      await this.showPlan(next, abort.signal);
      this.flash('planSaved', { v: fmt(next.version) });
      return true;
    } catch (e) {
      if (abort.signal.aborted || e?.name === 'AbortError') return false;
      await this.writeFailed(e, abort);
      return false;
    } finally {
      this.end(abort);
    }
  }

  async restore(version) {
    if (!this.plan || !this.canEdit || this.busy) return;
    const plan = this.plan;
    const abort = this.begin('save');
    try {
      const next = await restorePlan(plan.id, plan.etag, version, { signal: abort.signal });
      await this.showPlan(next, abort.signal);
      this.flash('planRestored', { from: fmt(version), v: fmt(next.version) });
    } catch (e) {
      if (abort.signal.aborted || e?.name === 'AbortError') return;
      await this.writeFailed(e, abort);
    } finally {
      this.end(abort);
    }
  }

  async create() {
    if (!this.canEdit || this.busy) return;
    const fd = new FormData(this.newForm);
    const from = String(fd.get('from') ?? 'proposal');
    const name = String(fd.get('name') ?? '').trim() || t('planNameDefault', { date: when(new Date().toISOString()) });
    const body = { name, from, params: this.zonesParams?.() ?? {} };
    if (from === 'zoning') {
      const z = this.currentZoning();
      if (!z) return;
      // The bounds the shown zoning was proposed or checked with, not the form as it is now
      // (a box ticked since would flag zones the proposal made on purpose).
      if (z.params && typeof z.params === 'object') body.params = { ...z.params };
      body.zoning = {
        zones: z.zones.map((zone) => {
          const out = { id: String(zone.id), members: zone.members ?? [] };
          const key = zone.key_village?.code ?? zone.key_village;
          if (key != null) out.key_village = String(key);
          return out;
        }),
      };
    }
    const abort = this.begin('create');
    try {
      const plan = await createPlan(body, { signal: abort.signal });
      this.showNewForm(false);
      await this.showPlan(plan, abort.signal);
      this.renderSelect();
    } catch (e) {
      if (abort.signal.aborted || e?.name === 'AbortError') return;
      await this.writeFailed(e, abort, t('errPlanCreate'));
    } finally {
      this.end(abort);
    }
  }

  /** A refused write: 412 reloads, 401/403 point at the token, 422 names the edit. */
  async writeFailed(e, abort, what = t('errPlanSave')) {
    console.warn(what, e);
    const status = e instanceof ApiError ? e.status : 0;
    const detail = shorten(pickLang(e?.detail ?? ''), 240);
    if (status === 412 && this.plan) {
      toast(t('planStale'), { kind: 'info' });
      try {
        const fresh = await getPlan(this.plan.id, { signal: abort.signal });
        await this.showPlan(fresh, abort.signal);
      } catch (err) {
        if (err?.name !== 'AbortError') toast(requestErrorText(err, t('errPlanLoad')));
      }
    } else if (status === 401) {
      toast(t('planTokenInvalid'));
      this.tokenBox.open = true;
      this.tokenInput.classList.add('invalid');
    } else if (status === 403) {
      toast(t('planTokenRole', { detail }));
      this.tokenBox.open = true;
    } else if (status === 422) {
      const problem = e.problem ?? {};
      const constraint = problem.constraint ? `${constraintName(problem.constraint)}：` : '';
      toast(t('planRefused', { detail: `${constraint}${detail}` }), { timeout: 15000 });
    } else {
      toast(requestErrorText(e, what));
    }
  }

  /**
   * A download link followed with the token (`--read viewer`): an export is saved under the
   * server's file name, a sheet opened in a new tab like the plain link would.
   */
  async download(a) {
    if (a.classList.contains('busy')) return;
    // The tab is opened on the click itself: after the await a popup blocker would stop it.
    const tab = a.target === '_blank' ? window.open('', '_blank') : null;
    a.classList.add('busy');
    try {
      const { blob, filename } = await getBlob(a.href);
      const url = URL.createObjectURL(blob);
      if (tab) {
        tab.location.href = url;
      } else {
        const save = document.createElement('a');
        save.href = url;
        save.download = filename ?? `plan-${this.plan?.id ?? ''}`;
        document.body.append(save);
        save.click();
        save.remove();
      }
      setTimeout(() => URL.revokeObjectURL(url), 60000);
    } catch (e) {
      tab?.close();
      console.warn(e);
      toast(requestErrorText(e, t('errPlanDownload')));
    } finally {
      a.classList.remove('busy');
    }
  }

  async loadVersions() {
    const plan = this.plan;
    if (!plan) return;
    try {
      const v = await getPlanVersions(plan.id);
      if (this.plan?.id !== plan.id) return;
      this.versions = v;
    } catch (e) {
      console.warn(e);
      toast(requestErrorText(e, t('errPlanVersions')));
    }
    this.renderHistory();
  }

  // -------------------------------------------------------------------------------------------
  // The map and the other card

  /** The 片区方案 card's result took the map: the plan stays loaded, with a button to show it again. */
  detach() {
    if (!this.shown) return;
    this.shown = false;
    this.setAdjusting(false);
    this.active = null;
    this.render();
  }

  reshow() {
    if (this.plan && this.zoning) {
      this.shown = true;
      this.render();
      this.onZoning(this.zoning);
    }
  }

  pickZone(id) {
    if (!this.shown) this.reshow();
    this.onPick(id);
  }

  setAdjusting(on) {
    this.adjusting = Boolean(on && this.plan && this.canEdit);
    this.adjustInput.checked = this.adjusting;
    this.adjustLabel.classList.toggle('on', this.adjusting);
    this.adjustHint.hidden = !this.adjusting;
    document.body.classList.toggle('plan-adjust', this.adjusting);
    if (this.adjusting && !this.shown) this.reshow();
    if (!this.adjusting) this.closeChooser();
  }

  /** Marks zone `id` in the list (null: none); `scroll` brings it into view. */
  setActive(id, { scroll = false } = {}) {
    this.active = this.shown ? id ?? null : null;
    for (const li of this.zonesEl.querySelectorAll('[data-zone]')) {
      const on = li.dataset.zone === this.active;
      li.classList.toggle('active', on);
      li.setAttribute('aria-current', on ? 'true' : 'false');
      if (on && scroll && this.tab === 'zones') scrollWithin(this.zonesEl, li);
    }
  }

  /** Zones ordered by the distance from `code`'s centroid to their members' mean centroid (km). */
  zonesByDistance(code) {
    const byCode = this.byCode;
    const c = byCode.get(code)?.centroid;
    const out = this.plan.zones.map((z) => {
      let x = 0;
      let y = 0;
      let n = 0;
      for (const m of z.members ?? []) {
        const p = byCode.get(String(m.code))?.centroid;
        if (Array.isArray(p)) {
          x += p[0];
          y += p[1];
          n += 1;
        }
      }
      let km = null;
      if (n && Array.isArray(c)) {
        const dx = (x / n - c[0]) * 111.32 * Math.cos((c[1] * Math.PI) / 180);
        const dy = (y / n - c[1]) * 110.57;
        km = Math.hypot(dx, dy);
      }
      return { z, km };
    });
    return out.sort((a, b) => (a.km ?? Infinity) - (b.km ?? Infinity) || String(a.z.id).localeCompare(String(b.z.id)));
  }

  /** The 调整模式 chooser for village `code` at `lngLat`: target zone, 移动, 设为中心村. */
  openChooser(map, code, lngLat) {
    if (!this.plan || !this.zoning) return;
    this.closeChooser();
    const zoning = this.zoning;
    const v = this.byCode.get(code);
    const current = zoning.zoneOf.get(code) ?? null;
    const zone = current ? zoning.byId.get(current) : null;
    const isKey = zone && keyCodeOf(zone) === code;
    const options = this.zonesByDistance(code).map(({ z, km }) => {
      const id = String(z.id);
      const dist = km == null ? '' : ` · ${fmt(km, 1)} km`;
      return `<option value="${escapeHtml(id)}"${id === current ? ' selected' : ''}>${escapeHtml(id)} ${escapeHtml(z.name)}${id === current ? escapeHtml(t('planCurrent')) : dist}</option>`;
    });
    options.push(`<option value=""${current ? '' : ' selected'}>${escapeHtml(t('planUnassigned'))}${current ? '' : escapeHtml(t('planCurrent'))}</option>`);
    const el = document.createElement('div');
    el.className = 'plan-chooser';
    el.dataset.testid = 'plan-chooser';
    el.dataset.village = code;
    el.innerHTML = `
      <h4>${escapeHtml(v?.name ?? code)} <small class="muted">${escapeHtml(code)}</small></h4>
      <div class="pc-now">${
        zone
          ? `${swatch(zoneColor(zone.colour), hasViolations(zone) ? 'bad' : '')}<span>${escapeHtml(t('planChooserIn', { zone: `${zone.id} ${zone.name}` }))}</span>`
          : `${swatch('', 'unassigned')}<span>${escapeHtml(t('planChooserNone'))}</span>`
      }</div>
      ${isKey ? `<div class="pc-key"><span class="key-star">★</span>${escapeHtml(t('planIsKey'))}</div>` : ''}
      <label class="zf-field"><span>${escapeHtml(t('planChooserTarget'))}</span>
        <select data-testid="plan-move-target">${options.join('')}</select></label>
      <div class="zf-actions">
        <button type="button" class="btn primary" data-testid="plan-move-apply" disabled>${escapeHtml(t('planMove'))}</button>
        ${zone && !isKey ? `<button type="button" class="btn" data-testid="plan-set-key">★ ${escapeHtml(t('planSetKey'))}</button>` : ''}
      </div>`;
    const select = el.querySelector('select');
    const apply = el.querySelector('[data-testid="plan-move-apply"]');
    select.addEventListener('change', () => {
      apply.disabled = (select.value || null) === current;
    });
    apply.addEventListener('click', async () => {
      const to = select.value || null;
      if (to === current) return;
      apply.disabled = true;
      if (await this.edit([{ op: 'move', village: code, to }])) this.closeChooser();
      else apply.disabled = false;
    });
    el.querySelector('[data-testid="plan-set-key"]')?.addEventListener('click', async () => {
      if (await this.edit([{ op: 'set_key', zone: current, village: code }])) this.closeChooser();
    });
    const popup = new Popup({ closeButton: true, closeOnClick: false, maxWidth: '300px', className: 'lc-popup plan-chooser-popup', offset: 6 })
      .setLngLat(lngLat)
      .setDOMContent(el)
      .addTo(map);
    popup.on('close', () => {
      if (this.chooser === popup) {
        this.chooser = null;
        this.onChooserClose?.();
      }
    });
    this.chooser = popup;
  }

  closeChooser() {
    const c = this.chooser;
    this.chooser = null;
    if (c) {
      c.remove();
      this.onChooserClose?.();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Rendering

  showNewForm(show) {
    if (show && !this.canEdit) {
      this.tokenBox.open = true;
      this.tokenInput.focus();
      return;
    }
    this.newForm.hidden = !show;
    if (show) {
      const name = this.newForm.querySelector('[name="name"]');
      if (!name.value) name.value = t('planNameDefault', { date: when(new Date().toISOString()).slice(0, 10) });
      const fromZoning = this.newForm.querySelector('option[value="zoning"]');
      fromZoning.disabled = !this.currentZoning();
      const from = this.newForm.querySelector('[name="from"]');
      if (from.value === 'zoning' && fromZoning.disabled) from.value = 'proposal';
    }
  }

  /** A short note (message key and parameters), worded again when the language changes. */
  flash(key, params) {
    this.flashMsg = { key, params };
    this.flashEl.textContent = t(key, params);
    clearTimeout(this.flashTimer);
    this.flashTimer = setTimeout(() => {
      this.flashMsg = null;
      this.flashEl.textContent = '';
    }, 6000);
  }

  setTab(tab) {
    this.tab = tab;
    for (const b of this.tabs) {
      const on = b.dataset.tab === tab;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    for (const pane of [this.zonesEl, this.historyEl, this.downloadsEl]) pane.hidden = pane.dataset.tab !== tab;
    if (tab === 'history' && this.plan) {
      this.renderHistory();
      this.loadVersions();
    }
  }

  render() {
    if (this.flashMsg) this.flashEl.textContent = t(this.flashMsg.key, this.flashMsg.params);
    this.renderToken();
    this.renderSelect();
    this.renderStatus();
    this.renderControls();
    this.body.hidden = !this.plan;
    if (!this.plan) return;
    this.renderWarnings();
    this.renderZones();
    this.renderHistory();
    this.renderDownloads();
    for (const b of this.tabs) {
      const label = b.querySelector('span');
      if (b.dataset.tab === 'zones') label.textContent = `${t('planTabZones')} ${fmt(this.plan.zones?.length ?? 0)}`;
    }
  }

  renderToken() {
    const who = this.who;
    this.tokenSummary.textContent = who?.bad
      ? t('planTokenBad')
      : who && !who.can_edit
        ? t('planTokenWeak', { role: who.role ?? '—' })
        : who && this.canEdit
          ? t('planTokenWho', { name: who.name, role: who.role })
          : t(this.canEdit ? 'planTokenSet' : 'planTokenUnset');
    this.tokenSummary.classList.toggle('warn-text', !this.canEdit);
    this.tokenBox.classList.toggle('set', this.canEdit);
  }

  renderControls() {
    const busy = Boolean(this.busy);
    this.newBtn.disabled = busy;
    this.newBtn.title = this.canEdit ? t('planNewTitle') : t('planAdjustNeedsToken');
    this.newForm.querySelector('[data-testid="plans-create"]').disabled = busy || !this.canEdit;
    this.select.disabled = busy && this.busy !== 'load';
    this.adjustInput.disabled = !this.plan || !this.canEdit;
    this.adjustLabel.classList.toggle('disabled', this.adjustInput.disabled);
    this.adjustLabel.title = this.canEdit ? t('planAdjustTitle') : t('planAdjustNeedsToken');
    for (const b of this.historyEl.querySelectorAll('[data-restore]')) b.disabled = busy || !this.canEdit;
  }

  renderSelect() {
    const plans = this.plans ?? [];
    const cur = this.plan ? String(this.plan.id) : '';
    const opts = [`<option value=""${cur ? ' disabled' : ''}>${escapeHtml(plans.length ? t('planPick') : t('planNone'))}</option>`];
    for (const p of plans) {
      opts.push(`<option value="${escapeHtml(p.id)}">${escapeHtml(p.name)} · ${escapeHtml(t('planVersionShort', { v: fmt(p.version) }))}</option>`);
    }
    this.select.innerHTML = opts.join('');
    this.select.value = cur;
  }

  renderStatus() {
    const parts = [];
    if (this.busy) {
      const key = { load: 'planBusyLoad', save: 'planBusySave', create: 'planBusyCreate' }[this.busy];
      parts.push(`<div class="zones-busy" data-testid="plans-busy"><i class="spinner"></i>${escapeHtml(t(key))}</div>`);
    }
    const p = this.plan;
    if (p) {
      const tot = p.totals ?? {};
      const nViol = Number(tot.violations ?? 0);
      parts.push(`<div class="zones-summary" data-testid="plan-summary">
        <div class="zs-source" data-testid="plan-version" data-version="${escapeHtml(p.version)}">${escapeHtml(t('planVersion', { v: fmt(p.version), who: p.updated_by ?? '—', when: when(p.updated_at) }))}${this.canEdit ? '' : `<span class="sep">·</span>${escapeHtml(t('planReadOnly'))}`}</div>
        <div class="zs-main"><b>${escapeHtml(t('planZones', { n: fmt(tot.zones ?? p.zones?.length ?? 0) }))}</b><span class="sep">·</span>${
          nViol > 0
            ? `<span class="bad-text" data-testid="plan-violations">${escapeHtml(tn('sumViolations', nViol))}${escapeHtml(t('sumViolationZones', { n: fmt(tot.zones_with_violations ?? 0) }))}</span>`
            : `<span class="ok-text" data-testid="plan-violations">${escapeHtml(t('sumNoViolation'))}</span>`
        }</div>
        ${Number(tot.assigned) < Number(tot.villages) ? `<div class="zs-more warn-text">${escapeHtml(t('planAssigned', { a: fmt(tot.assigned ?? 0), n: fmt(tot.villages ?? 0) }))}</div>` : ''}
        ${this.shown ? '' : `<div class="plan-notshown"><span class="muted">${escapeHtml(t('planNotShown'))}</span> <button type="button" class="link-btn" data-plan-show data-testid="plans-show">${escapeHtml(t('planShow'))}</button></div>`}
      </div>`);
    } else if (!this.busy && this.plans) {
      parts.push(`<p class="zones-empty muted">${escapeHtml(t('planEmpty'))}</p>`);
    }
    this.status.innerHTML = parts.join('');
  }

  renderWarnings() {
    const ws = Array.isArray(this.plan?.warnings) ? this.plan.warnings : [];
    const byId = this.zoning?.byId;
    if (!ws.length) {
      this.warningsEl.innerHTML = `<div class="pw-head ok-text" data-testid="plans-warnings-none">✓ ${escapeHtml(t('planNoWarning'))}</div>`;
      return;
    }
    const items = ws.map((w) => {
      const zone = w.zone != null ? byId?.get(String(w.zone)) : null;
      const target = w.zone != null ? String(w.zone) : w.constraint === 'unassigned' ? UNASSIGNED : '';
      const where = zone ? `${zone.id} ${zone.name}` : w.zone ?? '';
      const soft = SOFT_WARNINGS.has(w.constraint);
      return `<li class="pw-item${soft ? ' soft' : ''}" data-testid="plan-warning" data-constraint="${escapeHtml(w.constraint)}"${target ? ` data-zone="${escapeHtml(target)}" tabindex="0" role="button"` : ''}>
        ${where ? `<b>${escapeHtml(where)}</b> ` : ''}${escapeHtml(violationText(w))}</li>`;
    });
    this.warningsEl.innerHTML = `<div class="pw-head bad-text">${escapeHtml(t('planWarnings', { n: fmt(ws.length) }))}</div><ul class="pw-list">${items.join('')}</ul>`;
  }

  renderZones() {
    const z = this.zoning;
    if (!z) {
      this.zonesEl.innerHTML = '';
      return;
    }
    const items = z.zones.map((zone) => {
      const id = String(zone.id);
      const bad = hasViolations(zone);
      const n = zone.members?.length ?? 0;
      const details = bad ? zone.violations.map(violationText) : [];
      return `<li class="zone-item${bad ? ' bad' : ''}${id === this.active ? ' active' : ''}" data-zone="${escapeHtml(id)}" data-testid="plan-zone-item" data-members="${n}" data-population="${Number(zone.population) || 0}" tabindex="0" role="button">
        ${swatch(zoneColor(zone.colour), bad ? 'bad' : '')}
        <span class="zi-main">
          <span class="zi-title"><b class="zi-name" data-testid="plan-zone-name">${escapeHtml(zone.name)}</b><span class="zi-type">${escapeHtml(tv(zone.type))}</span></span>
          <span class="zi-meta"><span class="zi-idtext">${escapeHtml(id)}</span> · <span class="key-star">★</span><span data-testid="plan-zone-key">${escapeHtml(zone.key_village?.name ?? t('planNoKey'))}</span> · <span data-testid="plan-zone-count">${escapeHtml(tn('zoneMembers', n))}</span> · <span data-testid="plan-zone-pop">${fmt(zone.population)}${escapeHtml(t('unitPerson') ? ` ${t('unitPerson')}` : '')}</span></span>
          ${bad ? `<span class="zi-violations">${details.map((d) => `<span>${escapeHtml(d)}</span>`).join('')}</span>` : ''}
        </span>
        ${bad ? `<span class="zi-badge" data-testid="plan-zone-violation" title="${escapeHtml(details.join('\n'))}">${escapeHtml(tn('zoneViolations', zone.violations.length))}</span>` : ''}
      </li>`;
    });
    if (z.unassigned.length) {
      items.push(`<li class="zone-item unassigned${this.active === UNASSIGNED ? ' active' : ''}" data-zone="${UNASSIGNED}" data-testid="plan-zone-unassigned" tabindex="0" role="button">
        ${swatch('', 'unassigned')}
        <span class="zi-main"><span class="zi-title"><b>${escapeHtml(t('planUnassigned'))}</b></span>
        <span class="zi-meta">${escapeHtml(tn('zoneMembers', z.unassigned.length))}</span></span>
      </li>`);
    }
    this.zonesEl.innerHTML = items.join('');
  }

  renderHistory() {
    const p = this.plan;
    const list = this.versions?.plan === p?.id ? this.versions.versions ?? [] : null;
    if (!p || list == null) {
      this.historyEl.innerHTML = `<li class="ph-item muted"><i class="spinner"></i></li>`;
      return;
    }
    if (!list.length) {
      this.historyEl.innerHTML = `<li class="ph-item muted">${escapeHtml(t('planHistoryEmpty'))}</li>`;
      return;
    }
    const head = this.versions.head ?? p.head ?? p.version;
    const disabled = this.busy || !this.canEdit ? ' disabled' : '';
    this.historyEl.innerHTML = [...list]
      .sort((a, b) => b.version - a.version)
      .map((v) => {
        const text = [v.message, v.summary].filter((s) => s && String(s).trim()).map((s) => pickLang(s));
        return `<li class="ph-item${v.version === head ? ' head' : ''}" data-testid="plan-version-item" data-version="${escapeHtml(v.version)}">
          <div class="ph-main">
            <div class="ph-title"><b>${escapeHtml(t('planVersionShort', { v: fmt(v.version) }))}</b> <span class="muted">${escapeHtml(v.author ?? '')} · ${escapeHtml(when(v.at))}</span></div>
            ${text.length ? `<div class="ph-text">${text.map((s) => escapeHtml(shorten(s, 160))).join('<br>')}</div>` : ''}
          </div>
          ${
            v.version === head
              ? `<span class="ph-head">${escapeHtml(t('planHistoryCurrent'))}</span>`
              : `<button type="button" class="btn ph-restore" data-restore="${escapeHtml(v.version)}" data-testid="plan-restore" title="${escapeHtml(t('planRestoreTitle', { v: fmt(v.version) }))}"${disabled}>${escapeHtml(t('planRestore'))}</button>`
          }
        </li>`;
      })
      .join('');
  }

  renderDownloads() {
    const p = this.plan;
    if (!p) return;
    const exports = EXPORTS.map(
      ([format, key, opts]) => `<a class="pd-link" href="${escapeHtml(planExportUrl(p.id, format, p.version, opts))}" download data-testid="plan-export-${format}${opts ? '-gk' : ''}">${escapeHtml(t(key))}</a>`,
    );
    const sheet = (zone, format, paper, label) =>
      `<a class="pd-link" href="${escapeHtml(planSheetUrl(p.id, { zone, format, paper }))}" target="_blank" rel="noopener" data-testid="plan-sheet${zone ? '-zone' : ''}-${format}-${paper}">${label}</a>`;
    const zones = p.zones ?? [];
    if (this.sheetZone && !zones.some((z) => String(z.id) === this.sheetZone)) this.sheetZone = '';
    const zone = this.sheetZone || (this.active && this.active !== UNASSIGNED ? this.active : String(zones[0]?.id ?? ''));
    const zoneOptions = zones.map((z) => `<option value="${escapeHtml(z.id)}"${String(z.id) === zone ? ' selected' : ''}>${escapeHtml(z.id)} ${escapeHtml(z.name)}</option>`);
    this.downloadsEl.innerHTML = `
      <h4>${escapeHtml(t('planExports'))} <span class="muted">${escapeHtml(t('planVersionShort', { v: fmt(p.version) }))}</span></h4>
      <div class="pd-links">${exports.join('')}</div>
      <h4>${escapeHtml(t('planSheets'))}</h4>
      <div class="pd-sheet"><span>${escapeHtml(t('planSheetCounty'))}</span>${sheet(null, 'pdf', 'a3', 'PDF A3')}${sheet(null, 'pdf', 'a4', 'PDF A4')}${sheet(null, 'pdf', 'a3-portrait', escapeHtml(t('planSheetA3Portrait')))}${sheet(null, 'pdf', 'a1-portrait', escapeHtml(t('planSheetA1Portrait')))}</div>
      ${
        zones.length
          ? `<div class="pd-sheet"><select data-sheet-zone data-testid="plan-sheet-zone" aria-label="${escapeHtml(t('planSheetZone'))}">${zoneOptions.join('')}</select>
            ${sheet(zone, 'pdf', 'a3', 'PDF A3')}${sheet(zone, 'pdf', 'a4', 'PDF A4')}</div>`
          : ''
      }
      <p class="plan-hint muted">${escapeHtml(t('planSheetNote'))}</p>`;
  }

  /** The side panel content of zone `id` of the plan (or of its unassigned villages). */
  detailHtml(id) {
    const p = this.plan;
    const zoning = this.zoning;
    if (!p || !zoning) return '';
    const byCode = this.byCode;
    const kicker = `<div class="kicker">${escapeHtml(t('planKicker', { name: p.name }))}<span class="sep">·</span>${escapeHtml(t('planVersionShort', { v: fmt(p.version) }))}</div>`;
    if (id === UNASSIGNED) {
      const rows = (p.unassigned ?? []).map((u) => {
        const v = byCode.get(String(u.code));
        return `<tr class="member-row" data-village="${escapeHtml(u.code)}" tabindex="0" title="${escapeHtml(u.code)}">
          <td class="m-name">${escapeHtml(u.name ?? v?.name ?? u.code)}</td><td class="m-town">${escapeHtml(v?.town ?? '')}</td>
          <td class="num">${v ? fmt(v.population) : '—'}</td></tr>`;
      });
      return `<div data-testid="plan-zone-detail" data-zone="${UNASSIGNED}">
        <header class="panel-header">${kicker}
          <h2 class="zone-title">${swatch('', 'unassigned')}${escapeHtml(t('planUnassigned'))}</h2>
          <div class="chips"><span class="chip" style="--chip:#9aa5b1">${escapeHtml(tn('zoneMembers', rows.length))}</span></div>
        </header>
        <section class="panel-section"><table class="member-table" data-testid="zone-members"><tbody>${rows.join('')}</tbody></table></section>
      </div>`;
    }
    const z = zoning.byId.get(id);
    if (!z) return `<p class="panel-msg muted">${escapeHtml(id)}</p>`;
    const bad = hasViolations(z);
    const keyCode = keyCodeOf(z);
    const edit = this.canEdit; // edit() itself refuses while a write is under way
    const num = (v, d) => (v == null || !Number.isFinite(Number(v)) ? '—' : fmt(v, d));
    const types = Array.isArray(p.zone_types) && p.zone_types.length ? p.zone_types : [z.type];
    const members = [...(z.memberInfo ?? [])].sort((a, b) => Number(String(b.code) === keyCode) - Number(String(a.code) === keyCode));
    const rows = members.map((m) => {
      const code = String(m.code);
      const key = code === keyCode;
      const strong = isStrong(m);
      return `<tr class="member-row${key ? ' key' : ''}" data-village="${escapeHtml(code)}" tabindex="0" title="${escapeHtml(code)}">
        <td class="m-key">${key ? `<span class="key-star" title="${escapeHtml(t('zoneKeyVillage'))}">★</span>` : ''}</td>
        <td class="m-name">${escapeHtml(m.name ?? byCode.get(code)?.name ?? code)}</td>
        <td class="num">${fmt(m.population)}</td>
        <td class="m-strong"><i class="dot" style="--c:${strong ? STRONG_COLOR : NORMAL_COLOR}" title="${escapeHtml(t(strong ? 'strongVillage' : 'normalVillage'))}"></i></td>
        <td class="m-act">${edit && !key ? `<button type="button" class="link-btn" data-plan-action="set-key" data-zone="${escapeHtml(id)}" data-village="${escapeHtml(code)}" data-testid="plan-detail-set-key">${escapeHtml(t('planSetKey'))}</button>` : ''}</td>
      </tr>`;
    });
    const violations = bad
      ? `<section class="zone-violations" data-testid="zone-detail-violations">
          <h3>${escapeHtml(t('zoneViolationList'))}</h3>
          <ul>${z.violations.map((v) => `<li>${escapeHtml(violationText(v))}</li>`).join('')}</ul>
        </section>`
      : '';
    const editor = edit
      ? `<section class="panel-section plan-edit">
          <form data-plan-form="rename" data-zone="${escapeHtml(id)}" class="plan-row">
            <label class="zf-field"><span>${escapeHtml(t('planZoneName'))}</span>
              <input name="value" type="text" maxlength="60" value="${escapeHtml(z.name)}" data-testid="plan-detail-name" /></label>
            <button type="submit" class="btn" data-testid="plan-detail-rename">${escapeHtml(t('planSave'))}</button>
          </form>
          <label class="zf-field"><span>${escapeHtml(t('planZoneType'))}</span>
            <select data-plan-type="${escapeHtml(id)}" data-testid="plan-detail-type">${types.map((ty) => `<option value="${escapeHtml(ty)}"${ty === z.type ? ' selected' : ''}>${escapeHtml(tv(ty))}</option>`).join('')}</select></label>
          <form data-plan-form="notes" data-zone="${escapeHtml(id)}">
            <label class="zf-field"><span>${escapeHtml(t('planZoneNotes'))}</span>
              <textarea name="value" rows="2" maxlength="4000" data-testid="plan-detail-notes">${escapeHtml(z.notes ?? '')}</textarea></label>
            <div class="zf-actions"><button type="submit" class="btn" data-testid="plan-detail-save-notes">${escapeHtml(t('planSave'))}</button></div>
          </form>
        </section>`
      : z.notes
        ? `<section class="panel-section"><h3>${escapeHtml(t('planZoneNotes'))}</h3><p class="zone-explanation">${escapeHtml(z.notes)}</p></section>`
        : '';
    const others = z.other_members?.length
      ? `<section class="panel-section"><h3>${escapeHtml(t('planOtherMembers'))}</h3><p>${z.other_members.map((o) => escapeHtml(o)).join('、')}</p></section>`
      : '';
    const sheet = (format, paper, label) => `<a class="pd-link" href="${escapeHtml(planSheetUrl(p.id, { zone: id, format, paper }))}" target="_blank" rel="noopener">${label}</a>`;
    return `<div data-testid="plan-zone-detail" data-zone="${escapeHtml(id)}">
      <header class="panel-header">${kicker}
        <h2 class="zone-title">${swatch(zoneColor(z.colour), bad ? 'bad' : '')}<span data-testid="plan-detail-title">${escapeHtml(z.name)}</span> <small class="muted" data-testid="zone-detail-id">${escapeHtml(id)}</small></h2>
        <div class="chips">
          <span class="chip plain">${escapeHtml(tv(z.type))}</span>
          <span class="chip key-chip"${keyCode ? ` data-village="${escapeHtml(keyCode)}"` : ''}><span class="key-star">★</span>${escapeHtml(t('zoneKeyVillage'))} ${escapeHtml(z.key_village?.name ?? t('planNoKey'))}</span>
          <span class="chip plain">${escapeHtml(tn('zoneMembers', z.members?.length ?? 0))}</span>
          ${bad ? `<span class="chip bad">${escapeHtml(tn('zoneViolations', z.violations.length))}</span>` : ''}
        </div>
      </header>
      ${violations}
      <dl class="stats">
        ${statRow(t('zonePopulation'), `${fmt(z.population)}${unit('unitPerson')}`, 'plan-detail-population')}
        ${statRow(t('planCollectiveIncome'), incomeHtml(z.collective_income))}
        ${statRow(t('zoneArea'), z.area_km2 == null ? '—' : `${num(z.area_km2, 1)} <small>km²</small>`)}
        ${statRow(t('zoneFarthest'), z.key_to_farthest_member_km == null ? '—' : `${num(z.key_to_farthest_member_km, 1)} <small>km</small>`)}
        ${statRow(t('zoneConnected'), z.connected === false ? `<span class="bad-text">${escapeHtml(t('no'))} · ${escapeHtml(t('zoneParts', { n: fmt(z.parts) }))}</span>` : escapeHtml(t('yes')))}
      </dl>
      ${editor}
      <section class="panel-section">
        <h3>${escapeHtml(t('zoneMemberList'))}</h3>
        <table class="member-table" data-testid="zone-members"><tbody>${rows.join('')}</tbody></table>
      </section>
      ${others}
      <section class="panel-section"><h3>${escapeHtml(t('planSheetZone'))}</h3>
        <div class="pd-links">${sheet('pdf', 'a3', 'PDF A3')}${sheet('pdf', 'a4', 'PDF A4')}${sheet('svg', 'a3', 'SVG')}${sheet('png', 'a3', 'PNG')}</div></section>
    </div>`;
  }
}
