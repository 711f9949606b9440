// 登录 Sign-in, for a server run with `liancun serve --read viewer`: every read (tiles, villages,
// analyses, plans) then needs a token, so the map asks for one in a modal form before it loads
// any data, and asks again whenever the token goes: 退出登录 here, 清除 in the 规划方案 card (it
// is the same token, see api.js), or the server refusing it (401: revoked).
//
// Under `--read public` none of this shows. A stored token is still checked once at start-up,
// because it goes with every request and a revoked one would turn each of them into a 401.
import { getToken, onTokenChange, setToken, whoAmI } from './api.js';
import { t } from './i18n.js';
import { apiErrorText } from './toast.js';

export class SignIn {
  /**
   * `onAccess()` runs when tiles refused before may now pass (signed in again, or a bad token
   * dropped under public reads): the map reloads its tiles.
   */
  constructor({ onAccess } = {}) {
    this.dialog = document.getElementById('signin');
    this.form = document.getElementById('signin-form');
    this.input = document.getElementById('signin-token');
    this.errorEl = document.getElementById('signin-error');
    this.submitBtn = document.getElementById('signin-submit');
    this.userRow = document.getElementById('auth-row');
    this.userEl = document.getElementById('auth-user');
    this.onAccess = onAccess;

    this.required = false; // config.read === 'viewer'
    this.who = null; // GET /auth/whoami of `whoToken`
    this.whoToken = null;
    this.error = null; // () => the inline message in the current language, or null
    this.refused = false; // the last token went because the server refused it (401)
    this.stale = false; // public reads: tiles may have gone out with the token refused since
    this.waiters = []; // start() calls waiting for a sign-in
    this.busy = false;
    this.checking = null; // the whoami of tileRefused() under way

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.submit();
    });
    this.input.addEventListener('input', () => this.setError(null));
    // Escape must not dismiss the form: without a token there is nothing to see behind it.
    this.dialog.addEventListener('cancel', (e) => e.preventDefault());
    this.dialog.addEventListener('close', () => {
      if (this.required && !getToken()) this.open(this.error);
    });
    document.getElementById('signout').addEventListener('click', () => setToken(''));
    onTokenChange((token, reason) => this.tokenChanged(token, reason));
  }

  /**
   * Start-up, before any data is requested: checks a stored token and, when `read` is
   * 'viewer', resolves only once a valid token is stored (the form stays up until then).
   * Resolves with whoami's answer for the token, or null.
   */
  async start(read) {
    this.required = read === 'viewer';
    const token = getToken();
    if (token) {
      try {
        this.setWho(token, await whoAmI(token));
      } catch (e) {
        // A 401 drops the token (tokenChanged opens the form, saying why); an unreachable
        // server keeps it: the data requests that follow will report the failure.
        if (e?.status === 401 && getToken() === token) setToken('', { reason: 'rejected' });
        else console.warn('whoami', e);
      }
    }
    this.render();
    if (!this.required || getToken()) return this.who;
    // The 规划方案 card may have had the stored token refused before the config came.
    if (!this.dialog.open) this.open(this.refused ? () => t('signinExpired') : null);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The form's submit: whoami decides; a good token is stored and start-up goes on. */
  async submit() {
    const token = this.input.value.trim();
    if (!token) return this.setError(() => t('signinEmpty'));
    if (this.busy) return;
    this.setBusy(true);
    try {
      const who = await whoAmI(token);
      this.setWho(token, who);
      this.input.value = '';
      this.setError(null);
      setToken(token); // before close(): the dialog's close handler reopens it without a token
      this.close();
      const waiters = this.waiters.splice(0);
      for (const resolve of waiters) resolve(who);
      if (!waiters.length) this.onAccess?.(); // signed in again over a running map
    } catch (e) {
      if (e?.name === 'AbortError') return;
      this.setError(e?.status === 401 ? () => t('signinBad') : () => apiErrorText(e, t('signinCheck')));
      this.input.focus();
      this.input.select();
    } finally {
      this.setBusy(false);
    }
  }

  /**
   * A tile answered 401. It may be an old one, sent before the current token was stored, so
   * whoami decides whether the token goes (one check at a time). Under public reads the tiles
   * refused with a dropped token are asked for again, once, without it.
   */
  tileRefused() {
    const token = getToken();
    if (!token) {
      if (this.stale && !this.required) {
        this.stale = false;
        this.onAccess?.();
      }
      return;
    }
    if (this.checking) return;
    this.checking = whoAmI(token)
      .then((who) => this.setWho(token, who))
      .catch((e) => {
        if (e?.status === 401 && getToken() === token) setToken('', { reason: 'rejected' });
      })
      .finally(() => {
        this.checking = null;
        if (!getToken()) this.tileRefused();
      });
  }

  /** The token changed anywhere (this form, 退出登录, the 规划方案 card, a 401, another tab). */
  tokenChanged(token, reason) {
    if (this.required && token && token !== this.whoToken) this.refreshWho(token);
    if (!token) this.setWho(null, null);
    this.refused = !token && reason === 'rejected';
    if (this.refused) this.stale = true;
    this.render();
    if (this.required && !token) this.open(reason === 'rejected' ? () => t('signinExpired') : null);
  }

  /** Whoami of a token stored by someone else (the 规划方案 card), for the 已登录 line. */
  async refreshWho(token) {
    try {
      const who = await whoAmI(token);
      if (getToken() === token) this.setWho(token, who);
    } catch (e) {
      if (e?.status === 401 && getToken() === token) setToken('', { reason: 'rejected' });
    }
    this.render();
  }

  setWho(token, who) {
    this.whoToken = token;
    this.who = who;
  }

  open(error = null) {
    this.setError(error);
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
  }

  close() {
    if (this.dialog.open) this.dialog.close();
  }

  /** `error`: a function giving the message in the current language (null: none). */
  setError(error) {
    this.error = error;
    this.input.classList.toggle('invalid', Boolean(error));
    this.input.setAttribute('aria-invalid', error ? 'true' : 'false');
    this.renderError();
  }

  setBusy(busy) {
    this.busy = busy;
    this.submitBtn.disabled = busy;
    this.form.setAttribute('aria-busy', busy ? 'true' : 'false');
  }

  renderError() {
    const text = this.error?.() ?? '';
    this.errorEl.textContent = text;
    this.errorEl.hidden = !text;
  }

  /** The 已登录 line and 退出登录 of the header: only when reads need a token. */
  render() {
    const token = getToken();
    this.userRow.hidden = !(this.required && token);
    const who = token && this.whoToken === token ? this.who : null;
    this.userEl.textContent = who ? t('authUser', { name: who.name, role: who.role ?? '—' }) : t('authSignedIn');
    this.renderError();
  }
}
