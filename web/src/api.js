// Talking to the liancun server. Every URL is resolved against the page: the API lives at the
// site root (/tiles/…, /villages), the page's own config next to it (/map/config.json).
//
// One token for everything (localStorage 'liancun.token'): the sign-in of a server run with
// `--read viewer` (auth.js) and the editor token of the 规划方案 card (plans.js) are the same
// value. Every request to this server carries it when one is stored (reads too: under
// `--read viewer` they answer 401 without it); MapLibre's tile requests get it through
// mapRequest(). It is never sent to another host (a basemap server).

export class ApiError extends Error {
  /**
   * status 0 = the request never got an answer (network error). `problem` is the whole
   * problem+json body when there was one: a 422 of the zone analyses adds `constraint` and
   * `villages` (codes) to it, one of the facility analyses `field` (the parameter at fault).
   */
  constructor(status, url, detail, problem = null) {
    super(status ? `HTTP ${status}${detail ? ` — ${detail}` : ''}` : detail || 'network error');
    this.status = status;
    this.url = url;
    this.detail = detail;
    this.problem = problem;
  }
}

export function apiUrl(path) {
  return new URL(path, window.location.href).href;
}

/** Whether `url` is on this server (the only place the token may go). */
export function sameOrigin(url) {
  try {
    return new URL(url, window.location.href).origin === window.location.origin;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The token

const TOKEN_KEY = 'liancun.token';
const tokenListeners = new Set();

function readStored() {
  try {
    return window.localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled: the token lives in this page only
  }
}

let token = readStored();

/** The token stored ('' if none). */
export function getToken() {
  return token;
}

/**
 * Stores `value` ('' or null clears it) and tells every listener. `reason` goes with it:
 * 'rejected' when the server answered 401 to the token (unknown or revoked).
 */
export function setToken(value, { reason = null } = {}) {
  const next = String(value ?? '').trim();
  try {
    if (next) window.localStorage.setItem(TOKEN_KEY, next);
    else window.localStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled */
  }
  if (next === token) return;
  token = next;
  for (const fn of tokenListeners) fn(token, reason);
}

/** `fn(token, reason)` after every change of the token (this page, another tab, a 401). */
export function onTokenChange(fn) {
  tokenListeners.add(fn);
}

// Signing in or out in another tab of the map does the same here.
window.addEventListener('storage', (e) => {
  if (e.key !== TOKEN_KEY && e.key !== null) return;
  const next = readStored();
  if (next === token) return;
  token = next;
  for (const fn of tokenListeners) fn(token, null);
});

/** The server refused the token `sent` (401): drop it, unless it was replaced meanwhile. */
function rejected(sent) {
  if (sent && sent === token) setToken('', { reason: 'rejected' });
}

/**
 * MapLibre's `transformRequest`: tiles (and any other request of the map) to this server carry
 * the token; a basemap on another host never sees it.
 */
export function mapRequest(url) {
  if (!token || !sameOrigin(url)) return undefined;
  return { url, headers: { Authorization: `Bearer ${token}` } };
}

/**
 * Who may read (`config.read`): 'viewer' means every read needs a token. Only the downloads
 * of plans.js ask, because a plain link cannot carry the token.
 */
let readAccess = 'public';
export const setReadAccess = (read) => {
  readAccess = read === 'viewer' ? 'viewer' : 'public';
};
export const readNeedsToken = () => readAccess === 'viewer';

// ---------------------------------------------------------------------------------------------
// Requests

/**
 * One request with the stored token (or `token`: a given one, null for none). A 401 to the
 * stored token drops it (onTokenChange with reason 'rejected'); the error is thrown as usual.
 */
async function send(path, { signal, method = 'GET', body, headers: extra, token: given, accept = 'application/json' } = {}) {
  const url = apiUrl(path);
  const sent = given === undefined ? token : given;
  const headers = { Accept: accept, ...extra };
  if (sent && sameOrigin(url)) headers.Authorization = `Bearer ${sent}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, { method, headers, signal, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, url, e?.message);
  }
  if (!res.ok) {
    let detail = '';
    let problem = null;
    try {
      problem = await res.json(); // problem+json: {title, detail, status, …}
      detail = problem.detail || problem.title || '';
    } catch {
      /* not JSON: the status says it all */
    }
    if (res.status === 401 && given === undefined) rejected(sent);
    throw new ApiError(res.status, url, detail, problem && typeof problem === 'object' ? problem : null);
  }
  return { res, url };
}

export async function getJson(path, opts = {}) {
  const { res, url } = await send(path, opts);
  try {
    return await res.json();
  } catch (e) {
    throw new ApiError(res.status, url, `invalid JSON: ${e.message}`);
  }
}

/** A file (an export, a sheet) as a Blob with the file name the server gives it, if any. */
export async function getBlob(path, opts = {}) {
  const { res } = await send(path, { ...opts, accept: '*/*' });
  const disposition = res.headers.get('Content-Disposition') ?? '';
  const m = disposition.match(/filename\*=UTF-8''([^;]+)/i) ?? disposition.match(/filename="?([^";]+)"?/i);
  let filename = null;
  if (m) {
    try {
      filename = decodeURIComponent(m[1]);
    } catch {
      filename = m[1];
    }
  }
  return { blob: await res.blob(), filename };
}

/** `GET /map/config.json`, without a token: it is public, and a stale token would make it a 401. */
export const getConfig = () => getJson('config.json', { token: null });
/**
 * `GET /auth/whoami` with `token` (a token being checked, not necessarily the stored one): its
 * name, role and whether it may edit plans. A 401 (bad token) is the caller's to handle.
 */
export const whoAmI = (token, opts) => getJson('/auth/whoami', { ...opts, token });
export const getTileJson = (layer) => getJson(`/tiles/${encodeURIComponent(layer)}`);
export const getVillages = () => getJson('/villages');
export const getVillage = (code, opts) => getJson(`/villages/${encodeURIComponent(code)}`, opts);
/** `POST /analysis/zones/propose`: a zone proposal for the bound and search parameters. */
export const proposeZones = (params, opts) => getJson('/analysis/zones/propose', { ...opts, method: 'POST', body: params });
/** `POST /analysis/zones/evaluate`: statistics and violations of a zoning under `params`. */
export const evaluateZones = (zoning, params, opts) =>
  getJson('/analysis/zones/evaluate', { ...opts, method: 'POST', body: { zoning, params } });
/** `GET /analysis/service-radii`: `{service_radii: [{kind, radius_m, level, source}], kinds_present?}`. */
export const getServiceRadii = (opts) => getJson('/analysis/service-radii', opts);
/** `POST /analysis/coverage`: who lives within the service radius of a facility kind. */
export const analyseCoverage = (params, opts) => getJson('/analysis/coverage', { ...opts, method: 'POST', body: params });
/** `POST /analysis/locate`: facility location (lscp, mclp, pmedian, pcenter). */
export const locateFacilities = (params, opts) => getJson('/analysis/locate', { ...opts, method: 'POST', body: params });
/** `POST /analysis/centers`: the villages of a zone or town ranked as its key village. */
export const rankCenters = (params, opts) => getJson('/analysis/centers', { ...opts, method: 'POST', body: params });

// Plans (规划方案). Writes need the stored token to have role editor and, for an existing plan,
// send `If-Match: <the plan's ETag>` (412 when stale).
/** `GET /plans`: `{plans: [{id, name, version, etag, updated_at, updated_by, …}]}`. */
export const listPlans = (opts) => getJson('/plans', opts);
/** `GET /plans/{id}`: the head version with zones, statistics, violations and warnings. */
export const getPlan = (id, opts) => getJson(`/plans/${encodeURIComponent(id)}`, opts);
/** `POST /plans` `{name, from: proposal|empty|zoning, zoning?, params?}` → 201, the new plan. */
export const createPlan = (body, opts) => getJson('/plans', { ...opts, method: 'POST', body });
/** `PATCH /plans/{id}` `{edits, message?}` with If-Match → the new version. */
export const editPlan = (id, etag, edits, opts) =>
  getJson(`/plans/${encodeURIComponent(id)}`, {
    ...opts,
    method: 'PATCH',
    body: opts?.message ? { edits, message: opts.message } : { edits },
    headers: { 'If-Match': etag },
  });
/** `GET /plans/{id}/versions`: `{head, versions: [{version, author, at, message, summary}]}`. */
export const getPlanVersions = (id, opts) => getJson(`/plans/${encodeURIComponent(id)}/versions`, opts);
/** `POST /plans/{id}/restore` `{version}` with If-Match → the new head (a copy of `version`). */
export const restorePlan = (id, etag, version, opts) =>
  getJson(`/plans/${encodeURIComponent(id)}/restore`, { ...opts, method: 'POST', body: { version }, headers: { 'If-Match': etag } });
/**
 * The download URL of an export: geojson, gpkg, shp (zip), csv (members) or stats; `crs`
 * (metric: the workspace's Gauss–Krüger zone, or EPSG:N) and `encoding` (gbk, shp only) optional.
 */
export function planExportUrl(id, format, version, { crs = null, encoding = null } = {}) {
  const q = new URLSearchParams();
  q.set('format', format);
  if (version != null) q.set('version', version);
  if (crs) q.set('crs', crs);
  if (encoding) q.set('encoding', encoding);
  return apiUrl(`/plans/${encodeURIComponent(id)}/export?${q}`);
}
/** The URL of a planning sheet (图件): one zone, or the county overview without `zone`. */
export function planSheetUrl(id, { zone = null, format = 'pdf', paper = 'a3' } = {}) {
  const q = new URLSearchParams();
  if (zone) q.set('zone', zone);
  q.set('format', format);
  q.set('paper', paper);
  return apiUrl(`/plans/${encodeURIComponent(id)}/sheet?${q}`);
}
