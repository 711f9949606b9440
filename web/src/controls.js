// Layer list (checkboxes) and legend, both following the current language, colouring mode,
// visible layers and zoom.
import { t, tv } from './i18n.js';
import { badgeCanvas, keyVillageCanvas, numberedMarkerCanvas, targetCanvas } from './icons.js';
import { escapeHtml } from './panel.js';
import { LIST_ORDER, townColors } from './layers.js';
import {
  AREA_EXISTING, AREA_NEW, COVERED_COLOR, FACILITY_KINDS, GREENHOUSE_KINDS, GREENHOUSE_LINE, HIGHLIGHT_COLOR,
  INDUSTRIES, LAND_CLASSES, KEY_VILLAGE_COLOR, MEDIAN_COLOR, MEMBER_KINDS, NEW_SITE_COLOR, NORMAL_COLOR,
  RANK_COLOR, ROAD_CLASSES, STRONG_COLOR, UNCOVERED_COLOR, ZONE_COLORS, ZONE_LINE,
} from './palette.js';

const badgeUrls = new Map();
function badgeUrl(entry, shape) {
  const key = `${shape}:${entry.value}`;
  if (!badgeUrls.has(key)) badgeUrls.set(key, badgeCanvas(entry, shape, 18, 2).toDataURL());
  return badgeUrls.get(key);
}

const swatch = (color, cls = '') => `<i class="swatch ${cls}" style="--c:${color}"></i>`;

let keyUrl = null;
const keyVillageUrl = () => (keyUrl ??= keyVillageCanvas(KEY_VILLAGE_COLOR, 18, 2).toDataURL());

/** Data URLs of the facility-analysis markers (the map's images at legend size). */
const markUrls = new Map();
function markUrl(kind) {
  if (!markUrls.has(kind)) {
    const c =
      kind === 'median'
        ? targetCanvas(MEDIAN_COLOR, 18, 2)
        : numberedMarkerCanvas(1, kind === 'new' ? { color: NEW_SITE_COLOR, shape: 'diamond', size: 18, ratio: 2 } : { color: RANK_COLOR, size: 18, ratio: 2 });
    markUrls.set(kind, c.toDataURL());
  }
  return markUrls.get(kind);
}

/** One swatch showing the zone palette's first colours side by side. */
function paletteSwatch() {
  const n = 4;
  const stops = ZONE_COLORS.slice(0, n).map((c, i) => `${c} ${(100 * i) / n}% ${(100 * (i + 1)) / n}%`);
  return `<i class="swatch palette" style="--c:linear-gradient(90deg, ${stops.join(', ')})"></i>`;
}

/** Small sample of each layer for the layer list. */
function layerSample(layer) {
  switch (layer) {
    case 'villages':
      return `<i class="swatch outline" style="--c:#9db6cc;--o:#5d6873"></i>`;
    case 'parcels':
      return `<i class="swatch split" style="--a:${LAND_CLASSES[1].color};--b:${LAND_CLASSES[3].color}"></i>`;
    case 'greenhouses':
      return `<i class="swatch outline" style="--c:${GREENHOUSE_KINDS[1].color};--o:${GREENHOUSE_LINE}"></i>`;
    case 'facilities':
      return `<img class="badge" src="${badgeUrl(FACILITY_KINDS[0], 'circle')}" alt="" />`;
    case 'roads':
      return `<i class="swatch line" style="--c:${ROAD_CLASSES[0].color}"></i>`;
    case 'members':
      return `<img class="badge" src="${badgeUrl(MEMBER_KINDS[0], 'square')}" alt="" />`;
    default:
      return '';
  }
}

export class LayerList {
  /** `available`: layer id → TileJSON for the layers the server has. */
  constructor({ available, visible, onToggle }) {
    this.el = document.getElementById('layer-list');
    this.available = available;
    this.visible = visible; // Set of layer ids
    this.onToggle = onToggle;
    this.zoom = 0;
    this.el.addEventListener('change', (e) => {
      const input = e.target.closest('input[data-layer]');
      if (!input) return;
      const layer = input.dataset.layer;
      if (input.checked) this.visible.add(layer);
      else this.visible.delete(layer);
      this.onToggle(layer, input.checked);
    });
  }

  setZoom(z) {
    const before = this.zoom;
    this.zoom = z;
    // Re-render only when a layer crosses its minzoom.
    for (const l of LIST_ORDER) {
      const mz = this.available[l]?.minzoom ?? 0;
      if ((before < mz) !== (z < mz)) return this.render();
    }
  }

  render() {
    this.el.innerHTML = LIST_ORDER.filter((l) => this.available[l])
      .map((l) => {
        const mz = this.available[l].minzoom ?? 0;
        const hint = this.zoom < mz ? `<span class="zoom-hint" title="${escapeHtml(t('layerZoomHint', { z: mz }))}">${mz}+</span>` : '';
        return `<li class="${this.zoom < mz ? 'out-of-zoom' : ''}">
          <label>
            <input type="checkbox" data-layer="${l}" data-testid="layer-toggle-${l}" ${this.visible.has(l) ? 'checked' : ''} />
            <span class="sample">${layerSample(l)}</span>
            <span class="layer-name">${escapeHtml(t(`layer_${l}`))}</span>
            ${hint}
          </label>
        </li>`;
      })
      .join('');
  }
}

export class Legend {
  constructor() {
    this.el = document.getElementById('legend');
    this.mode = 'town';
    this.towns = [];
    this.visible = new Set();
    this.available = {};
    this.zoom = 0;
    this.hasSelection = false;
    this.zoning = null; // { bad, unassigned } while a zoning is loaded
    this.problem = false; // villages of a failed request are outlined
    this.facilities = null; // what a facility analysis draws (facilities.js overlay.legend)
  }

  update(patch) {
    Object.assign(this, patch);
    this.render();
  }

  setZoom(z) {
    const before = this.zoom;
    this.zoom = z;
    for (const l of LIST_ORDER) {
      const mz = this.available[l]?.minzoom ?? 0;
      if ((before < mz) !== (z < mz)) return this.render();
    }
  }

  section(layer, title, items, cols = 1) {
    const mz = this.available[layer]?.minzoom ?? 0;
    // A layer not drawn at this zoom shows only its title and the zoom it needs.
    if (this.zoom < mz) {
      return `<div class="legend-section out-of-zoom" data-layer="${layer}">
        <h3>${escapeHtml(title)}<span class="zoom-hint">${escapeHtml(t('layerZoomHint', { z: mz }))}</span></h3>
      </div>`;
    }
    return `<div class="legend-section" data-layer="${layer}">
      <h3>${escapeHtml(title)}</h3>
      <ul class="legend-items cols-${cols}">${items.join('')}</ul>
    </div>`;
  }

  render() {
    const parts = [];
    const item = (sample, label, title) =>
      `<li${title ? ` title="${escapeHtml(title)}"` : ''}>${sample}<span>${escapeHtml(label)}</span></li>`;
    const on = (l) => this.available[l] && this.visible.has(l);

    if (on('villages')) {
      let items;
      if (this.mode === 'zone') {
        items = [item(paletteSwatch(), t('legendZoneColours'), t('legendZoneColours'))];
        if (this.zoning?.unassigned) items.push(item(swatch('#d5d8dc', 'hatch'), t('legendUnassigned')));
      } else if (this.mode === 'coverage') {
        items = [item(swatch(COVERED_COLOR), t('legendCovered')), item(swatch(UNCOVERED_COLOR, 'uncovered'), t('legendUncovered'))];
      } else if (this.mode === 'industry') {
        items = INDUSTRIES.map((i) => item(swatch(i.color), tv(i.value)));
      } else if (this.mode === 'strong') {
        items = [item(swatch(STRONG_COLOR), t('strongVillage')), item(swatch(NORMAL_COLOR), t('normalVillage'))];
      } else if (this.towns.length) {
        items = townColors(this.towns).map((tc) => item(swatch(tc.color), tc.value));
      } else {
        items = [`<li class="muted">${escapeHtml(t('legendNoTowns'))}</li>`];
      }
      items.push(item(`<i class="swatch outline" style="--c:transparent;--o:${HIGHLIGHT_COLOR}"></i>`, t('legendSelected')));
      const modeName = t({ town: 'modeTown', industry: 'modeIndustry', strong: 'modeStrong', zone: 'modeZone', coverage: 'modeCoverage' }[this.mode]);
      parts.push(this.section('villages', t('legendVillages', { mode: modeName }), items, this.mode === 'zone' || this.mode === 'coverage' ? 1 : 2));
    }
    if (on('parcels')) {
      parts.push(
        this.section(
          'parcels',
          t('legendParcels'),
          LAND_CLASSES.map((c) => item(swatch(c.color), `${c.cls} ${tv(c.name)}`, `${c.cls} ${c.name}`)),
          2,
        ),
      );
    }
    if (on('greenhouses')) {
      parts.push(
        this.section(
          'greenhouses',
          t('legendGreenhouses'),
          GREENHOUSE_KINDS.map((g) => item(`<i class="swatch outline" style="--c:${g.color};--o:${GREENHOUSE_LINE}"></i>`, tv(g.value))),
          2,
        ),
      );
    }
    if (on('facilities')) {
      parts.push(
        this.section(
          'facilities',
          t('legendFacilities'),
          FACILITY_KINDS.map((k) => item(`<img class="badge" src="${badgeUrl(k, 'circle')}" alt="" />`, tv(k.value))),
          2,
        ),
      );
    }
    if (on('roads')) {
      parts.push(this.section('roads', t('legendRoads'), ROAD_CLASSES.map((r) => item(swatch(r.color, `line w-${r.value === '县道' ? 'wide' : 'thin'}`), tv(r.value))), 2));
    }
    if (on('members')) {
      parts.push(
        this.section(
          'members',
          t('legendMembers'),
          MEMBER_KINDS.map((k) => item(`<img class="badge" src="${badgeUrl(k, 'square')}" alt="" />`, tv(k.value))),
          2,
        ),
      );
    }
    // The zone overlay, when there is one, comes first: it is what the map is about then.
    if (this.zoning || this.problem) {
      const items = [];
      if (this.zoning) {
        items.push(item(swatch('transparent', 'zone-line'), t('legendZoneBoundary'), t('legendZoneBoundary')));
        items.push(item(`<img class="badge" src="${keyVillageUrl()}" alt="" />`, t('legendKeyVillage'), t('legendKeyVillage')));
        items.push(item(swatch('transparent', 'violation'), t('legendViolation'), t('legendViolation')));
        if (this.zoning.unassigned && this.mode !== 'zone') items.push(item(swatch('#d5d8dc', 'hatch'), t('legendUnassigned'), t('legendUnassigned')));
      }
      if (this.problem) items.push(item(swatch('rgba(217,45,32,0.14)', 'problem'), t('legendProblem'), t('legendProblem')));
      parts.unshift(`<div class="legend-section" data-layer="zones" data-testid="legend-zones" style="--zl:${ZONE_LINE}">
        <h3>${escapeHtml(t('legendZones'))}</h3>
        <ul class="legend-items cols-2">${items.join('')}</ul>
      </div>`);
    }
    // A facility analysis comes first of all (above the zones): it is the latest layer of meaning.
    const f = this.facilities;
    if (f) {
      const items = [];
      const area = (c) => `<i class="swatch area" style="--c:${c}2e;--o:${c}"></i>`;
      if (f.areasExisting) items.push(item(area(AREA_EXISTING), t('legendFacAreaExisting'), t('legendFacAreaExisting')));
      if (f.areasNew) items.push(item(area(AREA_NEW), t('legendFacAreaNew'), t('legendFacAreaNew')));
      if (f.sitesExisting) items.push(item(`<i class="swatch area" style="--c:${AREA_EXISTING};--o:#fff;width:9px;height:9px;margin:0 3.5px"></i>`, t('legendFacExisting'), t('legendFacExisting')));
      if (f.sitesNew) items.push(item(`<img class="badge" src="${markUrl('new')}" alt="" />`, t('legendFacNew'), t('legendFacNew')));
      if (f.spider) items.push(item(swatch(NEW_SITE_COLOR, 'line w-thin'), t('legendFacSpider'), t('legendFacSpider')));
      if (f.uncovered && this.mode !== 'coverage') items.push(item(swatch('#fbd3b3', 'uncovered'), t('legendUncovered'), t('legendUncovered')));
      if (f.ranked) items.push(item(swatch('transparent', 'ranked'), t('legendRanked'), t('legendRanked')));
      if (f.rankMarks) items.push(item(`<img class="badge" src="${markUrl('rank')}" alt="" />`, t('legendRankMarks'), t('legendRankMarks')));
      if (f.median) items.push(item(`<img class="badge" src="${markUrl('median')}" alt="" />`, t('legendMedian'), t('legendMedian')));
      parts.unshift(`<div class="legend-section" data-layer="facility-analysis" data-testid="legend-facilities">
        <h3>${escapeHtml(t('legendFac'))}</h3>
        <ul class="legend-items cols-2">${items.join('')}</ul>
      </div>`);
    }
    this.el.innerHTML = parts.join('');
  }
}
