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

export async function getJson(path, { signal, method = 'GET', body } = {}) {
  const url = apiUrl(path);
  const headers = { Accept: 'application/json' };
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
