import type { ExprOperator, ExprVariable, Expression } from './types.js';

/**
 * ImageKit's arithmetic expressions: `{value}_{operator}_{value}…` where values are variables
 * (iw, ih, iar, cw, ch, car, bw, bh, bar) or positive numbers, operators add, sub, mul, div, mod, pow.
 * Evaluation order, as documented: mul/div first, then add/sub, then mod, then pow, each left to right.
 */

export const EXPR_VARIABLES: readonly ExprVariable[] = ['iw', 'ih', 'iar', 'cw', 'ch', 'car', 'bw', 'bh', 'bar'];
export const BASE_VARIABLES: readonly ExprVariable[] = ['bw', 'bh', 'bar'];
const OPERATORS: readonly ExprOperator[] = ['add', 'sub', 'mul', 'div', 'mod', 'pow'];
const NUMBER = /^\d+(\.\d+)?$/;

export function isNumberText(text: string): boolean {
  return NUMBER.test(text);
}

/**
 * Parses `text` as an expression, or returns undefined when it is not one (so callers can try
 * other forms first). A bare variable (`bw`) is an expression; a bare number is not.
 */
export function parseExpression(text: string): Expression | undefined {
  const parts = text.split('_');
  if (parts.length % 2 === 0) return undefined;
  const operands: Array<number | ExprVariable> = [];
  const operators: ExprOperator[] = [];
  let hasVariable = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    if (i % 2 === 0) {
      if ((EXPR_VARIABLES as readonly string[]).includes(part)) {
        operands.push(part as ExprVariable);
        hasVariable = true;
      } else if (NUMBER.test(part)) {
        operands.push(Number(part));
      } else {
        return undefined;
      }
    } else {
      if (!(OPERATORS as readonly string[]).includes(part)) return undefined;
      operators.push(part as ExprOperator);
    }
  }
  // A lone number is a number, not an expression; `10_add_5` is an expression.
  if (!hasVariable && operators.length === 0) return undefined;
  return { kind: 'expr', operands, operators };
}

export function expressionVariables(e: Expression): ExprVariable[] {
  return e.operands.filter((o): o is ExprVariable => typeof o === 'string');
}

export function formatExpression(e: Expression): string {
  const out: string[] = [];
  e.operands.forEach((o, i) => {
    if (i > 0) out.push(e.operators[i - 1] as string);
    out.push(typeof o === 'number' ? formatNumber(o) : o);
  });
  return out.join('_');
}

/** Shortest faithful text of a number (no exponent, no trailing zeros). */
export function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(Number(n.toFixed(6)));
}

function apply(op: ExprOperator, a: number, b: number): number {
  switch (op) {
    case 'add':
      return a + b;
    case 'sub':
      return a - b;
    case 'mul':
      return a * b;
    case 'div':
      return b === 0 ? Number.NaN : a / b;
    case 'mod':
      return b === 0 ? Number.NaN : a % b;
    case 'pow':
      return a ** b;
  }
}

/** Evaluates with the given variables; NaN when a variable is missing or a division by zero occurs. */
export function evaluateExpression(e: Expression, vars: Partial<Record<ExprVariable, number>>): number {
  let values = e.operands.map((o) => (typeof o === 'number' ? o : vars[o] ?? Number.NaN));
  let ops = [...e.operators];
  // One pass per precedence level, highest first; each pass folds left to right.
  for (const level of [['mul', 'div'], ['add', 'sub'], ['mod'], ['pow']] as ExprOperator[][]) {
    const nextValues: number[] = [values[0] as number];
    const nextOps: ExprOperator[] = [];
    for (let i = 0; i < ops.length; i++) {
      const op = ops[i] as ExprOperator;
      const right = values[i + 1] as number;
      if (level.includes(op)) {
        nextValues[nextValues.length - 1] = apply(op, nextValues[nextValues.length - 1] as number, right);
      } else {
        nextOps.push(op);
        nextValues.push(right);
      }
    }
    values = nextValues;
    ops = nextOps;
  }
  return values[0] as number;
}
