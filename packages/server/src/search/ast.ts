/**
 * The searchQuery syntax tree, as the parser produces it: no field is resolved and no value is
 * interpreted yet (that is the analyser's job), so every node keeps the position it came from
 * for error messages. Positions are 1-based character offsets into the query string.
 */

/** Operators as written, without a leading NOT (that is `negated`). */
export type BaseOp = '=' | ':' | '<' | '<=' | '>' | '>=' | 'IN' | 'HAS' | 'EXISTS';

export type Literal =
  /** "quoted" (quoted: true) or a bare word such as 7d, 50kb, red_dress.jpg (quoted: false). */
  | { type: 'string'; value: string; quoted: boolean; pos: number }
  /** A bare number; `raw` keeps the text for fields that read it as a string. */
  | { type: 'number'; value: number; raw: string; pos: number }
  /** Bare true / false. */
  | { type: 'boolean'; value: boolean; pos: number };

export interface Condition {
  kind: 'cond';
  /** The field as written, without quotes: `name`, `customMetadata.brand`. */
  field: string;
  fieldPos: number;
  op: BaseOp;
  negated: boolean;
  opPos: number;
  /** One literal for comparisons, HAS and `:`; the list for IN; none for EXISTS. */
  values: Literal[];
}

export interface AndNode {
  kind: 'and';
  items: Expr[];
}

export interface OrNode {
  kind: 'or';
  items: Expr[];
}

export type Expr = Condition | AndNode | OrNode;
