import type { CheckedCondition, CheckedExpr } from './analyze.js';

/**
 * Choosing a "driver" for a search sorted by creation date: a condition on one tag or metadata
 * value whose side-table index (value, created_at, file_id) yields candidate files already in
 * creation order, so a page reads about `limit` index entries instead of sorting every match.
 * The candidates are a superset (keys are lower-cased values); the full filter is applied to
 * them afterwards, so the driver only decides speed, never results.
 */
export type Driver =
  | { kind: 'tags'; keys: string[] }
  | { kind: 'meta'; source: 'custom' | 'embedded'; field: string; keys: string[] };

function conjuncts(e: CheckedExpr): CheckedExpr[] {
  return e.kind === 'and' ? e.items.flatMap(conjuncts) : [e];
}

/** Conditions whose own index is usually the better start (ranges, exact paths, full text). */
function prefersOwnIndex(c: CheckedCondition): boolean {
  if (c.negated) return false;
  if (c.op === 'HAS') return true;
  const k = c.target.kind;
  return k === 'path' || k === 'date' || k === 'id' || k === 'name';
}

function driverOf(c: CheckedCondition): Driver | undefined {
  if (c.negated) return undefined;
  if (c.target.kind === 'tags' && c.op === 'IN') {
    return { kind: 'tags', keys: c.operands.flatMap((o) => (o.t === 'text' ? [o.v] : [])) };
  }
  if (c.target.kind === 'meta' && (c.op === '=' || c.op === 'IN')) {
    const keys: string[] = [];
    for (const o of c.operands) {
      if (o.t === 'text') keys.push(o.v.toLowerCase());
      // The store keeps String(value) lower-cased for numbers and booleans too.
      else if (o.t === 'num' || o.t === 'bool') keys.push(String(o.v));
      else return undefined;
    }
    return { kind: 'meta', source: c.target.source, field: c.target.field, keys };
  }
  return undefined;
}

/** A driver for `filter` sorted by creation date, or undefined to use the general plan. */
export function pickDriver(filter: CheckedExpr): Driver | undefined {
  const parts = conjuncts(filter);
  const conds = parts.filter((p): p is CheckedCondition => p.kind === 'cond');
  if (conds.some(prefersOwnIndex)) return undefined;
  for (const c of conds) {
    const d = driverOf(c);
    if (d && d.keys.length > 0) return d;
  }
  return undefined;
}
