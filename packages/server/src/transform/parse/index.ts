/**
 * `tr:` strings → typed, validated steps. Pure: imports nothing heavier than the error catalogue.
 */
export { parseTransformation, DEFAULT_PARSE_LIMITS, DEFAULT_NAMED_TRANSFORMATIONS } from './parser.js';
export { canonicalTransformation } from './canonical.js';
export { evaluateExpression, formatExpression } from './expression.js';
export { PARAMETERS, FONT_NAMES, type ParamEntry } from './table.js';
export { NAMED_COLORS, tryParseColor } from './colors.js';
export type * from './types.js';
