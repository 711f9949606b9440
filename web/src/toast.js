// Non-blocking messages (server errors and the like), newest on top, deduplicated.
import { t } from './i18n.js';
import { ApiError } from './api.js';

const shown = new Map(); // text -> element

export function toast(text, { kind = 'error', timeout = 9000 } = {}) {
  const box = document.getElementById('toasts');
  if (!box) return;
  if (shown.has(text)) {
    const el = shown.get(text);
    el.classList.remove('pulse');
    void el.offsetWidth;
    el.classList.add('pulse');
    return;
  }
  const el = document.createElement('div');
  el.className = `toast toast-${kind}`;
  el.setAttribute('data-testid', 'toast');
  const span = document.createElement('span');
  span.textContent = text;
  const close = document.createElement('button');
  close.type = 'button';
  close.className = 'toast-close';
  close.textContent = '×';
  close.title = t('close');
  const remove = () => {
    el.remove();
    shown.delete(text);
  };
  close.addEventListener('click', remove);
  el.append(span, close);
  box.prepend(el);
  shown.set(text, el);
  while (box.children.length > 4) {
    const last = box.lastElementChild;
    shown.delete(last.querySelector('span')?.textContent);
    last.remove();
  }
  if (timeout) setTimeout(remove, timeout);
}

/** A message for a failed request of `what` (already translated). */
export function apiErrorText(err, what) {
  if (err instanceof ApiError && err.status) {
    return t('errHttp', { status: err.status, what: `${what}${err.detail ? ` — ${err.detail}` : ''}` });
  }
  return t('errNetwork', { what });
}

export function toastApiError(err, what) {
  console.warn(what, err);
  toast(apiErrorText(err, what));
}
