/** searchQuery: parse → analyse → compile to parameterised SQL. Pure: no I/O, no adapters. */
export type { BaseOp, Condition, Expr, Literal } from './ast.js';
export { SearchQueryError } from './errors.js';
export { parseSearchQuery, SEARCH_LIMITS } from './parser.js';
export {
  analyzeSearchQuery,
  hasFullText,
  hasWords,
  mentionsFileVersions,
  parseDate,
  parseSize,
  SQLITE_WORDS_FUNCTION,
  wordsText,
  type AnalyzeContext,
  type CheckedCondition,
  type CheckedExpr,
  type CustomType,
  type Operand,
  type Target,
} from './analyze.js';
export {
  andAll,
  compileFilter,
  ftsMatch,
  orAll,
  orderBy,
  prefixUpperBound,
  relevanceQuery,
  type FtsColumn,
  rowKey,
  toSql,
  type CompileOptions,
  type Compiled,
  type Dialect,
  type SortDir,
  type SortKey,
  type Source,
} from './compile.js';
export { pickDriver, type Driver } from './plan.js';
