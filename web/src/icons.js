// Map symbols drawn on a canvas at run time: no sprite sheet, no glyph server (the service runs
// offline). Facilities are round badges, other members square badges, each with a white glyph;
// village and town names are rendered to images too, so that symbol layers need only
// `icon-image` and never `text-field` (which would need a `glyphs` URL).

export const FONT_STACK =
  '"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "Helvetica Neue", Arial, sans-serif';

function makeCanvas(w, h, ratio) {
  const c = document.createElement('canvas');
  c.width = Math.ceil(w * ratio);
  c.height = Math.ceil(h * ratio);
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.scale(ratio, ratio);
  return { c, ctx };
}

function star(ctx, cx, cy, r) {
  ctx.beginPath();
  for (let i = 0; i < 10; i++) {
    const rr = i % 2 === 0 ? r : r * 0.42;
    const a = -Math.PI / 2 + (i * Math.PI) / 5;
    const x = cx + rr * Math.cos(a);
    const y = cy + rr * Math.sin(a);
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  }
  ctx.closePath();
  ctx.fill();
}

function cross(ctx, cx, cy, r) {
  const w = r * 0.38;
  ctx.fillRect(cx - w, cy - r * 0.85, 2 * w, r * 1.7);
  ctx.fillRect(cx - r * 0.85, cy - w, r * 1.7, 2 * w);
}

function heart(ctx, cx, cy, r) {
  const s = r * 0.95;
  ctx.beginPath();
  ctx.moveTo(cx, cy + s * 0.8);
  ctx.bezierCurveTo(cx - s * 1.25, cy - s * 0.05, cx - s * 0.55, cy - s * 1.05, cx, cy - s * 0.35);
  ctx.bezierCurveTo(cx + s * 0.55, cy - s * 1.05, cx + s * 1.25, cy - s * 0.05, cx, cy + s * 0.8);
  ctx.fill();
}

function snow(ctx, cx, cy, r) {
  ctx.lineWidth = Math.max(1.4, r * 0.2);
  ctx.lineCap = 'round';
  for (let i = 0; i < 3; i++) {
    const a = (i * Math.PI) / 3 + Math.PI / 2;
    const dx = Math.cos(a) * r * 0.9;
    const dy = Math.sin(a) * r * 0.9;
    ctx.beginPath();
    ctx.moveTo(cx - dx, cy - dy);
    ctx.lineTo(cx + dx, cy + dy);
    ctx.stroke();
  }
  ctx.beginPath();
  ctx.arc(cx, cy, r * 0.18, 0, 2 * Math.PI);
  ctx.fill();
}

function sprout(ctx, cx, cy, r) {
  ctx.lineWidth = Math.max(1.3, r * 0.18);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(cx, cy + r * 0.85);
  ctx.lineTo(cx, cy - r * 0.1);
  ctx.stroke();
  ctx.beginPath();
  ctx.ellipse(cx - r * 0.42, cy - r * 0.32, r * 0.48, r * 0.24, -Math.PI / 5, 0, 2 * Math.PI);
  ctx.fill();
  ctx.beginPath();
  ctx.ellipse(cx + r * 0.42, cy - r * 0.52, r * 0.48, r * 0.24, Math.PI / 5, 0, 2 * Math.PI);
  ctx.fill();
}

function dot(ctx, cx, cy, r) {
  ctx.beginPath();
  ctx.arc(cx, cy, r * 0.4, 0, 2 * Math.PI);
  ctx.fill();
}

function factory(ctx, cx, cy, r) {
  const x0 = cx - r * 0.85;
  const x1 = cx + r * 0.85;
  const y1 = cy + r * 0.75;
  ctx.beginPath();
  ctx.moveTo(x0, y1);
  ctx.lineTo(x0, cy - r * 0.75); // chimney
  ctx.lineTo(x0 + r * 0.35, cy - r * 0.75);
  ctx.lineTo(x0 + r * 0.35, cy - r * 0.05);
  ctx.lineTo(cx - r * 0.1, cy - r * 0.45);
  ctx.lineTo(cx - r * 0.1, cy - r * 0.05);
  ctx.lineTo(cx + r * 0.38, cy - r * 0.45);
  ctx.lineTo(cx + r * 0.38, cy - r * 0.05);
  ctx.lineTo(x1, cy - r * 0.45);
  ctx.lineTo(x1, y1);
  ctx.closePath();
  ctx.fill();
}

function flag(ctx, cx, cy, r) {
  ctx.lineWidth = Math.max(1.3, r * 0.17);
  ctx.lineCap = 'round';
  ctx.beginPath();
  ctx.moveTo(cx - r * 0.55, cy + r * 0.85);
  ctx.lineTo(cx - r * 0.55, cy - r * 0.85);
  ctx.stroke();
  ctx.beginPath();
  ctx.moveTo(cx - r * 0.5, cy - r * 0.85);
  ctx.lineTo(cx + r * 0.8, cy - r * 0.45);
  ctx.lineTo(cx - r * 0.5, cy - r * 0.05);
  ctx.closePath();
  ctx.fill();
}

function house(ctx, cx, cy, r) {
  ctx.beginPath();
  ctx.moveTo(cx, cy - r * 0.9);
  ctx.lineTo(cx + r * 0.9, cy - r * 0.05);
  ctx.lineTo(cx + r * 0.62, cy - r * 0.05);
  ctx.lineTo(cx + r * 0.62, cy + r * 0.8);
  ctx.lineTo(cx - r * 0.62, cy + r * 0.8);
  ctx.lineTo(cx - r * 0.62, cy - r * 0.05);
  ctx.lineTo(cx - r * 0.9, cy - r * 0.05);
  ctx.closePath();
  ctx.fill();
}

const GLYPHS = { star, cross, heart, snow, sprout, dot, factory, flag, house };

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

/**
 * A badge: `shape` 'circle' (facilities) or 'square' (members), filled with `entry.color`, white
 * border and white glyph. `size` in CSS pixels.
 */
export function badgeCanvas(entry, shape = 'circle', size = 22, ratio = 2) {
  const { c, ctx } = makeCanvas(size, size, ratio);
  const m = size / 2;
  ctx.shadowColor = 'rgba(0,0,0,0.35)';
  ctx.shadowBlur = 2;
  ctx.shadowOffsetY = 0.5;
  ctx.fillStyle = '#ffffff';
  if (shape === 'circle') {
    ctx.beginPath();
    ctx.arc(m, m, m - 1.5, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    roundRect(ctx, 1.5, 1.5, size - 3, size - 3, size * 0.2);
    ctx.fill();
  }
  ctx.shadowColor = 'transparent';
  ctx.fillStyle = entry.color;
  if (shape === 'circle') {
    ctx.beginPath();
    ctx.arc(m, m, m - 3, 0, 2 * Math.PI);
    ctx.fill();
  } else {
    roundRect(ctx, 3, 3, size - 6, size - 6, size * 0.14);
    ctx.fill();
  }
  ctx.fillStyle = '#ffffff';
  ctx.strokeStyle = '#ffffff';
  (GLYPHS[entry.glyph] ?? dot)(ctx, m, m, (size - 6) * 0.34);
  return c;
}

export function canvasImageData(c) {
  return c.getContext('2d').getImageData(0, 0, c.width, c.height);
}

/** A name label with a white halo, as image data for map.addImage (pixelRatio = ratio). */
export function labelImage(text, { size = 12, weight = 500, color = '#26313b', halo = '#ffffff', ratio = 2, spacing = 0 } = {}) {
  const font = `${weight} ${size}px ${FONT_STACK}`;
  const probe = makeCanvas(1, 1, 1).ctx;
  probe.font = font;
  const chars = [...String(text)];
  const widths = chars.map((ch) => probe.measureText(ch).width);
  const textWidth = widths.reduce((a, b) => a + b, 0) + spacing * Math.max(0, chars.length - 1);
  const pad = 3;
  const w = Math.ceil(textWidth + 2 * pad);
  const h = Math.ceil(size * 1.35 + 2 * pad);
  const { c, ctx } = makeCanvas(w, h, ratio);
  ctx.font = font;
  ctx.textBaseline = 'middle';
  ctx.lineJoin = 'round';
  ctx.lineWidth = 3;
  ctx.strokeStyle = halo;
  ctx.fillStyle = color;
  let x = pad;
  const y = h / 2 + 0.5;
  for (let i = 0; i < chars.length; i++) {
    ctx.strokeText(chars[i], x, y);
    x += widths[i] + spacing;
  }
  x = pad;
  for (let i = 0; i < chars.length; i++) {
    ctx.fillText(chars[i], x, y);
    x += widths[i] + spacing;
  }
  return canvasImageData(c);
}

/**
 * The 中心村 (key village) mark: a star with a dark outline and a white halo, deliberately not in a
 * round badge so that it does not read as the 党群服务中心 facility icon (a star in a red disc).
 */
export function keyVillageCanvas(color, size = 22, ratio = 2) {
  const { c, ctx } = makeCanvas(size, size, ratio);
  const m = size / 2;
  const path = (r) => {
    ctx.beginPath();
    for (let i = 0; i < 10; i++) {
      const rr = i % 2 === 0 ? r : r * 0.45;
      const a = -Math.PI / 2 + (i * Math.PI) / 5;
      ctx.lineTo(m + rr * Math.cos(a), m + 0.8 + rr * Math.sin(a));
    }
    ctx.closePath();
  };
  const r = m - 2;
  ctx.lineJoin = 'round';
  ctx.shadowColor = 'rgba(0,0,0,0.35)';
  ctx.shadowBlur = 2;
  path(r);
  ctx.lineWidth = 3.2;
  ctx.strokeStyle = '#ffffff';
  ctx.stroke();
  ctx.shadowColor = 'transparent';
  ctx.fillStyle = color;
  ctx.fill();
  ctx.lineWidth = 1.2;
  ctx.strokeStyle = '#3b2f0b';
  ctx.stroke();
  return c;
}

/**
 * A tileable hatching for `fill-pattern`: thin diagonal lines of `color` on a transparent (or
 * `background`) square of `size` CSS pixels.
 */
export function hatchCanvas(color, { size = 8, width = 1.5, background = null, ratio = 2 } = {}) {
  const { c, ctx } = makeCanvas(size, size, ratio);
  if (background) {
    ctx.fillStyle = background;
    ctx.fillRect(0, 0, size, size);
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = width;
  ctx.lineCap = 'square';
  // The main diagonal and its two neighbours' ends, so the lines join across tiles.
  for (const off of [-size, 0, size]) {
    ctx.beginPath();
    ctx.moveTo(off, size);
    ctx.lineTo(off + size, 0);
    ctx.stroke();
  }
  return c;
}

/**
 * A numbered marker (new facility sites, ranked villages): a disc of `color` with a white ring and
 * a white number; `shape` 'circle' or 'diamond' (a square on its corner: new sites, so that they
 * never read as the round facility badges).
 */
export function numberedMarkerCanvas(n, { color, shape = 'circle', size = 24, ratio = 2 } = {}) {
  const label = String(n);
  const { c, ctx } = makeCanvas(size, size, ratio);
  const m = size / 2;
  const outline = (r) => {
    ctx.beginPath();
    if (shape === 'diamond') {
      ctx.moveTo(m, m - r);
      ctx.lineTo(m + r, m);
      ctx.lineTo(m, m + r);
      ctx.lineTo(m - r, m);
      ctx.closePath();
    } else ctx.arc(m, m, r, 0, 2 * Math.PI);
  };
  ctx.shadowColor = 'rgba(0,0,0,0.4)';
  ctx.shadowBlur = 2.5;
  ctx.shadowOffsetY = 0.5;
  ctx.fillStyle = '#ffffff';
  outline(m - 1);
  ctx.fill();
  ctx.shadowColor = 'transparent';
  ctx.fillStyle = color;
  outline(m - (shape === 'diamond' ? 3.2 : 2.6));
  ctx.fill();
  const fontSize = label.length >= 3 ? size * 0.36 : label.length === 2 ? size * 0.44 : size * 0.5;
  ctx.font = `700 ${fontSize}px ${FONT_STACK}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillStyle = '#ffffff';
  ctx.fillText(label, m, m + 0.5);
  return c;
}

/** numberedMarkerCanvas() as image data for map.addImage. */
export function numberedMarkerImage(n, opts) {
  return canvasImageData(numberedMarkerCanvas(n, opts));
}

/**
 * The 1-median mark of the key-village ranking: a ring with a dot, drawn wider than a rank marker
 * (22 px) so that the ring still shows around the number when the 1-median is ranked too.
 */
export function targetCanvas(color, size = 32, ratio = 2) {
  const { c, ctx } = makeCanvas(size, size, ratio);
  const m = size / 2;
  const r = m - 2.5;
  ctx.lineWidth = 4.5;
  ctx.strokeStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(m, m, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.lineWidth = 2.2;
  ctx.strokeStyle = color;
  ctx.beginPath();
  ctx.arc(m, m, r, 0, 2 * Math.PI);
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  ctx.beginPath();
  ctx.arc(m, m, m * 0.42, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = color;
  ctx.beginPath();
  ctx.arc(m, m, m * 0.28, 0, 2 * Math.PI);
  ctx.fill();
  return c;
}
