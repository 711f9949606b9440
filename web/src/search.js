// The search box: village name substring or code prefix over the /villages list.
import { t } from './i18n.js';
import { escapeHtml } from './panel.js';

const MAX_RESULTS = 10;

export function matchVillages(villages, query) {
  const q = query.trim();
  if (!q) return [];
  const lower = q.toLowerCase();
  const isCode = /^\d+$/.test(q);
  const hits = [];
  for (const v of villages) {
    const name = String(v.name ?? '');
    const code = String(v.code ?? '');
    let score = -1;
    if (isCode && code.startsWith(q)) score = 0;
    else if (name === q) score = 0;
    else if (name.startsWith(q)) score = 1;
    else if (name.toLowerCase().includes(lower)) score = 2;
    else if (String(v.town ?? '').includes(q)) score = 3; // a town name lists its villages
    if (score >= 0) hits.push({ v, score });
  }
  hits.sort((a, b) => a.score - b.score || String(a.v.code).localeCompare(String(b.v.code)));
  return hits.slice(0, MAX_RESULTS).map((h) => h.v);
}

export class SearchBox {
  constructor({ onPick }) {
    this.input = document.getElementById('search-input');
    this.list = document.getElementById('search-results');
    this.villages = null; // null = not loaded (yet)
    this.results = [];
    this.active = -1;
    this.onPick = onPick;
    this.input.addEventListener('input', () => this.update());
    this.input.addEventListener('focus', () => this.update());
    this.input.addEventListener('keydown', (e) => this.key(e));
    this.input.addEventListener('blur', () => setTimeout(() => this.hide(), 150));
    this.list.addEventListener('mousedown', (e) => e.preventDefault()); // keep focus while clicking
    this.list.addEventListener('click', (e) => {
      const li = e.target.closest('li[data-index]');
      if (li) this.pick(Number(li.dataset.index));
    });
  }

  setVillages(villages) {
    this.villages = villages;
    if (document.activeElement === this.input) this.update();
  }

  update() {
    const q = this.input.value;
    if (!q.trim()) return this.hide();
    if (this.villages === null) {
      this.results = [];
      this.renderMessage(t('searchUnavailable'));
      return;
    }
    this.results = matchVillages(this.villages, q);
    this.active = this.results.length ? 0 : -1;
    if (!this.results.length) return this.renderMessage(t('searchNone'));
    this.render();
  }

  render() {
    this.list.innerHTML = this.results
      .map(
        (v, i) => `<li role="option" data-testid="search-result" data-index="${i}" data-code="${escapeHtml(v.code)}"
            class="${i === this.active ? 'active' : ''}" aria-selected="${i === this.active}">
          <span class="r-name">${escapeHtml(v.name)}</span>
          <span class="r-meta">${escapeHtml(v.town ?? '')} · ${escapeHtml(v.code)}</span>
        </li>`,
      )
      .join('');
    this.show();
  }

  renderMessage(msg) {
    this.list.innerHTML = `<li class="r-empty">${escapeHtml(msg)}</li>`;
    this.show();
  }

  show() {
    this.list.hidden = false;
    this.input.setAttribute('aria-expanded', 'true');
  }

  hide() {
    this.list.hidden = true;
    this.input.setAttribute('aria-expanded', 'false');
  }

  key(e) {
    if (e.key === 'Escape') {
      this.hide();
      return;
    }
    if (this.list.hidden || !this.results.length) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const n = this.results.length;
      this.active = (this.active + (e.key === 'ArrowDown' ? 1 : n - 1)) % n;
      this.render();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      this.pick(Math.max(0, this.active));
    }
  }

  pick(i) {
    const v = this.results[i];
    if (!v) return;
    this.input.value = v.name;
    this.hide();
    this.input.blur();
    this.onPick(v);
  }

  /** Re-render after a language change. */
  refresh() {
    if (!this.list.hidden) this.update();
  }
}
