// Talking to the liancun server. Every URL is resolved against the page: the API lives at the
// site root (/tiles/…, /villages), the page's own config next to it (/map/config.json).

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

export async function getJson(path, { signal, method = 'GET', body, headers: extra } = {}) {
  const url = apiUrl(path);
  const headers = { Accept: 'application/json', ...extra };
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
    throw new ApiError(res.status, url, detail, problem && typeof problem === 'object' ? problem : null);
  }
  try {
    return await res.json();
  } catch (e) {
    throw new ApiError(res.status, url, `invalid JSON: ${e.message}`);
  }
}

export const getConfig = () => getJson('config.json');
/** `GET /auth/whoami` with a token: its name, role and whether it may edit plans (401: bad token). */
export const whoAmI = (token, opts) => getJson('/auth/whoami', { ...opts, headers: { Authorization: `Bearer ${token}` } });
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

// Plans (规划方案). Reads are public by default; writes carry `Authorization: Bearer <token>`
// (role editor) and, for an existing plan, `If-Match: <the plan's ETag>` (412 when stale).
const bearer = (token) => (token ? { Authorization: `Bearer ${token}` } : {});
/** `GET /plans`: `{plans: [{id, name, version, etag, updated_at, updated_by, …}]}`. */
export const listPlans = (opts) => getJson('/plans', opts);
/** `GET /plans/{id}`: the head version with zones, statistics, violations and warnings. */
export const getPlan = (id, opts) => getJson(`/plans/${encodeURIComponent(id)}`, opts);
/** `POST /plans` `{name, from: proposal|empty|zoning, zoning?, params?}` → 201, the new plan. */
export const createPlan = (body, token, opts) => getJson('/plans', { ...opts, method: 'POST', body, headers: bearer(token) });
/** `PATCH /plans/{id}` `{edits, message?}` with If-Match → the new version. */
export const editPlan = (id, etag, edits, token, opts) =>
  getJson(`/plans/${encodeURIComponent(id)}`, {
    ...opts,
    method: 'PATCH',
    body: opts?.message ? { edits, message: opts.message } : { edits },
    headers: { ...bearer(token), 'If-Match': etag },
  });
/** `GET /plans/{id}/versions`: `{head, versions: [{version, author, at, message, summary}]}`. */
export const getPlanVersions = (id, opts) => getJson(`/plans/${encodeURIComponent(id)}/versions`, opts);
/** `POST /plans/{id}/restore` `{version}` with If-Match → the new head (a copy of `version`). */
export const restorePlan = (id, etag, version, token, opts) =>
  getJson(`/plans/${encodeURIComponent(id)}/restore`, { ...opts, method: 'POST', body: { version }, headers: { ...bearer(token), 'If-Match': etag } });
/** The download URL of an export: geojson, gpkg, shp (zip), csv (members) or stats. */
export const planExportUrl = (id, format, version) =>
  apiUrl(`/plans/${encodeURIComponent(id)}/export?format=${encodeURIComponent(format)}${version != null ? `&version=${encodeURIComponent(version)}` : ''}`);
/** The URL of a planning sheet (图件): one zone, or the county overview without `zone`. */
export function planSheetUrl(id, { zone = null, format = 'pdf', paper = 'a3' } = {}) {
  const q = new URLSearchParams();
  if (zone) q.set('zone', zone);
  q.set('format', format);
  q.set('paper', paper);
  return apiUrl(`/plans/${encodeURIComponent(id)}/sheet?${q}`);
}
