// Guards the type test: every usage example in sdk-reference.md must appear, byte for byte, in
// test/types/reference-examples.ts (which `tsc --noEmit` compiles as part of npm test).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const REFERENCE = fileURLToPath(new URL('../../../../shared/reference/sdk-reference.md', import.meta.url));
const TYPE_TEST = fileURLToPath(new URL('./types/reference-examples.ts', import.meta.url));

test('every usage example of sdk-reference.md is in the type test verbatim', (t) => {
  if (!existsSync(REFERENCE)) {
    console.warn(`\n!!! SKIPPED: ${REFERENCE} is missing; cannot check the reference examples !!!\n`);
    t.skip('sdk-reference.md not found');
    return;
  }
  const md = readFileSync(REFERENCE, 'utf8');
  const blocks = [...md.matchAll(/```typescript\n([\s\S]*?)```/g)].map((m) => m[1]!);
  assert.equal(blocks.length, 42, 'the reference has 42 usage examples');
  const typeTest = readFileSync(TYPE_TEST, 'utf8');
  const missing = blocks.filter((b) => !typeTest.includes(`(): Promise<void> {\n${b}}`));
  assert.deepEqual(missing, []);
});
