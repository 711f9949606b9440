// Talking to the liancun server. Every URL is resolved against the page: the API lives at the
// site root (/tiles/…, /villages), the page's own config next to it (/map/config.json).

export class ApiError extends Error {
  /** status 0 = the request never got an answer (network error). */
  constructor(status, url, detail) {
    super(status ? `HTTP ${status}${detail ? ` — ${detail}` : ''}` : detail || 'network error');
    this.status = status;
    this.url = url;
    this.detail = detail;
  }
}

export function apiUrl(path) {
  return new URL(path, window.location.href).href;
}

export async function getJson(path, { signal } = {}) {
  const url = apiUrl(path);
  let res;
  try {
    res = await fetch(url, { headers: { Accept: 'application/json' }, signal });
  } catch (e) {
    if (e?.name === 'AbortError') throw e;
    throw new ApiError(0, url, e?.message);
  }
  if (!res.ok) {
    let detail = '';
    try {
      const body = await res.json(); // problem+json: {title, detail, status}
      detail = body.detail || body.title || '';
    } catch {
      /* not JSON: the status says it all */
    }
    throw new ApiError(res.status, url, detail);
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
