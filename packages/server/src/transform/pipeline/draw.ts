import type { Color, GradientOptions, Radius, Typography } from '../parse/types.js';
import type { Size } from './geometry.js';

/**
 * SVG and Pango markup builders for the drawn parts of the pipeline (rounded corners, gradients,
 * text). Pure string work; the pipeline hands the results to sharp.
 */

function hex2(n: number): string {
  return Math.round(n).toString(16).padStart(2, '0');
}

export function cssColor(c: Color): string {
  return `#${hex2(c.r)}${hex2(c.g)}${hex2(c.b)}`;
}

export function rgba(c: Color): { r: number; g: number; b: number; alpha: number } {
  return { r: c.r, g: c.g, b: c.b, alpha: c.alpha };
}

/** A white shape covering what stays visible after rounding corners (used with blend dest-in). */
export function radiusMaskSvg(size: Size, radius: Radius): Buffer {
  const { width: w, height: h } = size;
  let shape: string;
  if (radius.kind === 'max') {
    shape = `<ellipse cx="${w / 2}" cy="${h / 2}" rx="${w / 2}" ry="${h / 2}" fill="#fff"/>`;
  } else {
    const limit = Math.min(w, h) / 2;
    const [tl, tr, br, bl] = [radius.tl, radius.tr, radius.br, radius.bl].map((r) => Math.min(r, limit)) as [number, number, number, number];
    shape =
      `<path fill="#fff" d="M${tl},0 H${w - tr} A${tr},${tr} 0 0 1 ${w},${tr} V${h - br} ` +
      `A${br},${br} 0 0 1 ${w - br},${h} H${bl} A${bl},${bl} 0 0 1 0,${h - bl} V${tl} A${tl},${tl} 0 0 1 ${tl},0 Z"/>`;
  }
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">${shape}</svg>`);
}

/**
 * A linear gradient the size of the image. Direction follows ImageKit: degrees clockwise from
 * "towards the top"; `from` starts at the beginning of the line and `to` is reached at the stop
 * point (a fraction of the line, or pixels along it) and held beyond.
 */
export function gradientSvg(size: Size, g: GradientOptions, stopValue: number): Buffer {
  const { width: w, height: h } = size;
  const rad = (g.direction * Math.PI) / 180;
  const dx = Math.sin(rad);
  const dy = -Math.cos(rad);
  const length = Math.abs(w * dx) + Math.abs(h * dy) || 1;
  const cx = w / 2;
  const cy = h / 2;
  const x1 = cx - (dx * length) / 2;
  const y1 = cy - (dy * length) / 2;
  const x2 = cx + (dx * length) / 2;
  const y2 = cy + (dy * length) / 2;
  const stop = Math.min(1, Math.max(0, stopValue <= 1 ? stopValue : stopValue / length));
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs>` +
    `<linearGradient id="g" gradientUnits="userSpaceOnUse" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}">` +
    `<stop offset="0" stop-color="${cssColor(g.from)}" stop-opacity="${g.from.alpha}"/>` +
    `<stop offset="${stop}" stop-color="${cssColor(g.to)}" stop-opacity="${g.to.alpha}"/>` +
    `</linearGradient></defs><rect width="${w}" height="${h}" fill="url(#g)"/></svg>`;
  return Buffer.from(svg);
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Pango markup for a text layer: colour, opacity and typography around escaped text. */
export function textMarkup(text: string, color: Color, typography: Typography | undefined): string {
  let inner = escapeMarkup(text);
  if (typography?.strikethrough) inner = `<s>${inner}</s>`;
  if (typography?.italic) inner = `<i>${inner}</i>`;
  if (typography?.bold) inner = `<b>${inner}</b>`;
  const alpha = color.alpha < 1 ? ` fgalpha="${Math.max(1, Math.round(color.alpha * 65535))}"` : '';
  return `<span foreground="${cssColor(color)}"${alpha}>${inner}</span>`;
}

/**
 * Font family for Pango. ImageKit's in-built names are passed through; fontconfig substitutes
 * an installed family when one is missing, so text always renders.
 */
export function pangoFamily(name: string | undefined): string {
  if (!name) return 'DejaVu Sans';
  return name.replace(/_/g, ' ');
}
