/**
 * The extension providers against local HTTP servers that speak each service's wire format:
 * Cloud Vision images:annotate, Rekognition DetectLabels (SigV4 verified by the stub with the
 * shared secret), OpenAI chat completions with an inline image, and a remove.bg-compatible API.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import sharp from 'sharp';
import { ConfigError, resolveConfig } from '../../src/config/index.js';
import { RekognitionTagger } from '../../src/adapters/extensions/aws-rekognition.js';
import { GoogleVisionTagger } from '../../src/adapters/extensions/google-vision.js';
import { OpenAiDescriber } from '../../src/adapters/extensions/openai.js';
import { RemoveBgHttp } from '../../src/adapters/extensions/remove-bg.js';
import { ExtensionProviderError, type ProviderImage } from '../../src/ports/extension-providers.js';
import { mergeAiTags, selectAiTags } from '../../src/services/extension-service.js';
import { parseExtensionConfig, parseExtensionEntries } from '../../src/services/extension-rules.js';
import { openAiStub, rekognitionStub, removeBgStub, startStub, subjectOnPlainBackground, visionStub, type Stub } from '../support/provider-stubs.js';

const stubs: Stub[] = [];
after(async () => {
  for (const s of stubs) await s.close();
});

async function jpeg(): Promise<ProviderImage> {
  return { bytes: await subjectOnPlainBackground(64), mime: 'image/jpeg' };
}

async function rejectsWith(p: Promise<unknown>, check: (e: ExtensionProviderError) => void): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof ExtensionProviderError, `expected ExtensionProviderError, got ${String(e)}`);
    check(e);
    return true;
  });
}

describe('Google Cloud Vision label detection', () => {
  test('API key: one LABEL_DETECTION request, scores scaled to 0–100', async () => {
    const stub = await visionStub({ apiKey: 'gkey', labels: [{ description: 'Cat', score: 0.9712 }, { description: 'Whiskers', score: 0.8 }, { description: 'Pet', score: 0.5 }] });
    stubs.push(stub);
    const tagger = new GoogleVisionTagger({ endpoint: `${stub.origin}/v1/images:annotate`, apiKey: 'gkey', accessToken: null, timeoutMs: 5000 });
    const labels = await tagger.detectLabels(await jpeg(), { maxLabels: 2, minConfidence: 10 });
    assert.deepEqual(labels.map((l) => l.name), ['Cat', 'Whiskers']);
    assert.ok(Math.abs(labels[0]!.confidence - 97.12) < 1e-9);
    const req = stub.requests.at(-1)!;
    assert.equal(req.query.get('key'), 'gkey');
    const body = JSON.parse(req.body.toString());
    assert.deepEqual(body.requests[0].features, [{ type: 'LABEL_DETECTION', maxResults: 2 }]);
  });

  test('bearer token instead of a key', async () => {
    const stub = await visionStub({ accessToken: 'ya29.token', labels: [{ description: 'Dog', score: 0.7 }] });
    stubs.push(stub);
    const tagger = new GoogleVisionTagger({ endpoint: `${stub.origin}/v1/images:annotate`, apiKey: null, accessToken: 'ya29.token', timeoutMs: 5000 });
    assert.deepEqual(await tagger.detectLabels(await jpeg(), { maxLabels: 5, minConfidence: 0 }), [{ name: 'Dog', confidence: 70 }]);
    assert.equal(stub.requests.at(-1)!.headers.authorization, 'Bearer ya29.token');
    assert.equal(stub.requests.at(-1)!.query.get('key'), null);
  });

  test('a bad key is final, a 503 may pass, a per-image error is reported', async () => {
    const stub = await visionStub({ apiKey: 'right', labels: [] });
    stubs.push(stub);
    const wrong = new GoogleVisionTagger({ endpoint: `${stub.origin}/v1/images:annotate`, apiKey: 'wrong', accessToken: null, timeoutMs: 5000 });
    await rejectsWith(wrong.detectLabels(await jpeg(), { maxLabels: 5, minConfidence: 0 }), (e) => {
      assert.equal(e.retryable, false);
      assert.equal(e.status, 403);
      assert.match(e.message, /API key not valid/);
    });
    const right = new GoogleVisionTagger({ endpoint: `${stub.origin}/v1/images:annotate`, apiKey: 'right', accessToken: null, timeoutMs: 5000 });
    stub.behaviour.failNext = { count: 1, status: 503 };
    await rejectsWith(right.detectLabels(await jpeg(), { maxLabels: 5, minConfidence: 0 }), (e) => assert.equal(e.retryable, true));
    await rejectsWith(right.detectLabels({ bytes: Buffer.from('not an image'), mime: 'image/jpeg' }, { maxLabels: 5, minConfidence: 0 }), (e) => {
      assert.equal(e.retryable, false);
      assert.match(e.message, /Bad image data/);
    });
  });

  test('an unreachable endpoint and a timeout are retryable', async () => {
    const dead = await startStub(() => undefined);
    const origin = dead.origin;
    await dead.close();
    const tagger = new GoogleVisionTagger({ endpoint: `${origin}/v1/images:annotate`, apiKey: 'k', accessToken: null, timeoutMs: 2000 });
    await rejectsWith(tagger.detectLabels(await jpeg(), { maxLabels: 1, minConfidence: 0 }), (e) => assert.equal(e.retryable, true));
    const slow = await visionStub({ apiKey: 'k', labels: [] });
    stubs.push(slow);
    slow.behaviour.hang = true;
    const t2 = new GoogleVisionTagger({ endpoint: `${slow.origin}/v1/images:annotate`, apiKey: 'k', accessToken: null, timeoutMs: 300 });
    await rejectsWith(t2.detectLabels(await jpeg(), { maxLabels: 1, minConfidence: 0 }), (e) => {
      assert.equal(e.retryable, true);
      assert.match(e.message, /did not answer within 300 ms/);
    });
  });
});

describe('AWS Rekognition DetectLabels (JSON 1.1, SigV4)', () => {
  const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };

  test('a SigV4-signed request the service verifies with the same secret', async () => {
    const stub = await rekognitionStub({ ...creds, region: 'eu-west-1', labels: [{ Name: 'Teddy Bear', Confidence: 98.52 }, { Name: 'Toy', Confidence: 91.7 }, { Name: 'Heart', Confidence: 40 }] });
    stubs.push(stub);
    const tagger = new RekognitionTagger({ ...creds, region: 'eu-west-1', sessionToken: null, endpoint: `${stub.origin}/`, timeoutMs: 5000 });
    const labels = await tagger.detectLabels(await jpeg(), { maxLabels: 10, minConfidence: 50 });
    assert.deepEqual(stub.signatureProblems, []);
    assert.deepEqual(labels, [{ name: 'Teddy Bear', confidence: 98.52 }, { name: 'Toy', confidence: 91.7 }]);
    const req = stub.requests.at(-1)!;
    assert.equal(req.headers['x-amz-target'], 'RekognitionService.DetectLabels');
    assert.equal(req.headers['content-type'], 'application/x-amz-json-1.1');
    const body = JSON.parse(req.body.toString());
    assert.equal(body.MaxLabels, 10);
    assert.equal(body.MinConfidence, 50);
    assert.ok(Buffer.from(body.Image.Bytes, 'base64').length > 100);
  });

  test('a session token is sent and signed', async () => {
    const stub = await rekognitionStub({ ...creds, region: 'us-east-1', labels: [{ Name: 'Cat', Confidence: 80 }] });
    stubs.push(stub);
    const tagger = new RekognitionTagger({ ...creds, region: 'us-east-1', sessionToken: 'FQoGZXIvYXdzEXAMPLE', endpoint: `${stub.origin}/`, timeoutMs: 5000 });
    await tagger.detectLabels(await jpeg(), { maxLabels: 1, minConfidence: 0 });
    const req = stub.requests.at(-1)!;
    assert.equal(req.headers['x-amz-security-token'], 'FQoGZXIvYXdzEXAMPLE');
    assert.match(String(req.headers.authorization), /SignedHeaders=[^,]*x-amz-security-token/);
  });

  test('the wrong secret fails the signature check, for good; throttling is retryable', async () => {
    const stub = await rekognitionStub({ ...creds, region: 'us-east-1', labels: [] });
    stubs.push(stub);
    const wrong = new RekognitionTagger({ ...creds, secretAccessKey: 'not-the-secret', region: 'us-east-1', sessionToken: null, endpoint: `${stub.origin}/`, timeoutMs: 5000 });
    await rejectsWith(wrong.detectLabels(await jpeg(), { maxLabels: 1, minConfidence: 0 }), (e) => {
      assert.equal(e.retryable, false);
      assert.match(e.message, /InvalidSignatureException/);
    });
    assert.deepEqual(stub.signatureProblems, ['signature mismatch']);
    stub.behaviour.failNext = { count: 1, status: 400 };
    const right = new RekognitionTagger({ ...creds, region: 'us-east-1', sessionToken: null, endpoint: `${stub.origin}/`, timeoutMs: 5000 });
    await rejectsWith(right.detectLabels(await jpeg(), { maxLabels: 1, minConfidence: 0 }), (e) => {
      assert.equal(e.retryable, true, 'ThrottlingException is transient even on a 400');
      assert.match(e.message, /ThrottlingException/);
    });
  });
});

describe('OpenAI-compatible chat completions', () => {
  test('describe: the image goes inline as a data URL, the answer becomes the description', async () => {
    const stub = await openAiStub({ apiKey: 'sk-test', model: 'vision-1', description: '  An orange disc on a blue background.\n' });
    stubs.push(stub);
    const d = new OpenAiDescriber({ baseUrl: `${stub.origin}/v1`, apiKey: 'sk-test', model: 'vision-1', timeoutMs: 5000 });
    assert.equal(await d.describe(await jpeg(), {}), 'An orange disc on a blue background.');
    const body = JSON.parse(stub.requests.at(-1)!.body.toString());
    assert.equal(body.model, 'vision-1');
    const parts = body.messages.find((m: { role: string }) => m.role === 'user').content;
    assert.ok(parts.some((p: { type: string; image_url?: { url: string } }) => p.type === 'image_url' && p.image_url!.url.startsWith('data:image/jpeg;base64,')));
  });

  test('answer: questions as JSON, answers parsed per question', async () => {
    const stub = await openAiStub({
      apiKey: 'sk-test',
      model: 'vision-1',
      description: '',
      answer: (qs) => qs.map((q) => (q.type === 'yes_no' ? { id: q.id, answer: 'YES' } : { id: q.id, selected: ['Shirt', 'hat', 42] })),
    });
    stubs.push(stub);
    const d = new OpenAiDescriber({ baseUrl: `${stub.origin}/v1/`, apiKey: 'sk-test', model: 'vision-1', timeoutMs: 5000 });
    const answers = await d.answer(
      await jpeg(),
      [
        { kind: 'select', instruction: 'Which clothes?', options: ['shirt', 'dress'], min: 0, max: 2 },
        { kind: 'yes_no', instruction: 'Is it luxury?' },
      ],
      {},
    );
    assert.deepEqual(answers, [
      { kind: 'select', selected: ['Shirt', 'hat', 42] },
      { kind: 'yes_no', answer: 'yes' },
    ]);
    assert.equal(JSON.parse(stub.requests.at(-1)!.body.toString()).response_format.type, 'json_object');
  });

  test('a wrong key is final; an overloaded server is retryable', async () => {
    const stub = await openAiStub({ apiKey: 'sk-right', model: 'm', description: 'x' });
    stubs.push(stub);
    const wrong = new OpenAiDescriber({ baseUrl: `${stub.origin}/v1`, apiKey: 'sk-wrong', model: 'm', timeoutMs: 5000 });
    await rejectsWith(wrong.describe(await jpeg(), {}), (e) => {
      assert.equal(e.retryable, false);
      assert.match(e.message, /Incorrect API key/);
    });
    stub.behaviour.failNext = { count: 1, status: 529 };
    const right = new OpenAiDescriber({ baseUrl: `${stub.origin}/v1`, apiKey: 'sk-right', model: 'm', timeoutMs: 5000 });
    await rejectsWith(right.describe(await jpeg(), {}), (e) => assert.equal(e.retryable, true));
  });
});

describe('remove.bg-compatible background removal', () => {
  test('multipart image_file + options; the answer is a PNG whose background is transparent', async () => {
    const stub = await removeBgStub({ apiKey: 'rb-key' });
    stubs.push(stub);
    const r = new RemoveBgHttp({ endpoint: `${stub.origin}/v1.0/removebg`, apiKey: 'rb-key', timeoutMs: 5000 });
    const input = await subjectOnPlainBackground(96);
    const out = await r.removeBackground({ bytes: input, mime: 'image/jpeg' }, { add_shadow: true, bg_color: '81d4fa' }, {});
    assert.equal(out.mime, 'image/png');
    assert.deepEqual(stub.fields.at(-1), { size: 'auto', format: 'png', add_shadow: 'true', bg_color: '81d4fa' });
    const { data, info } = await sharp(out.bytes).raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 4);
    const alphaAt = (x: number, y: number) => data[(y * info.width + x) * 4 + 3]!;
    assert.equal(alphaAt(2, 2), 0, 'the corner (background) is transparent');
    assert.equal(alphaAt(48, 48), 255, 'the subject in the middle is opaque');
  });

  test('errors: a bad key is final with the service message', async () => {
    const stub = await removeBgStub({ apiKey: 'rb-key' });
    stubs.push(stub);
    const r = new RemoveBgHttp({ endpoint: `${stub.origin}/v1.0/removebg`, apiKey: 'nope', timeoutMs: 5000 });
    await rejectsWith(r.removeBackground({ bytes: await subjectOnPlainBackground(), mime: 'image/jpeg' }, {}, {}), (e) => {
      assert.equal(e.retryable, false);
      assert.match(e.message, /API Key invalid/);
    });
  });
});

describe('what the extension service keeps', () => {
  test('minConfidence and maxTags as documented; confidences rounded; duplicates dropped', () => {
    const tags = selectAiTags(
      [
        { name: 'Toy', confidence: 91.734 },
        { name: 'Teddy bear', confidence: 83.5 },
        { name: 'toy', confidence: 60 },
        { name: 'Red', confidence: 49.99 },
        { name: 'Art', confidence: 72.83 },
      ],
      { minConfidence: 50, maxTags: 2 },
      'google-auto-tagging',
    );
    assert.deepEqual(tags, [
      { name: 'Toy', confidence: 91.73, source: 'google-auto-tagging' },
      { name: 'Teddy bear', confidence: 83.5, source: 'google-auto-tagging' },
    ]);
    assert.deepEqual(selectAiTags([{ name: 'X', confidence: 99 }], { minConfidence: 0, maxTags: 0 }, 's'), []);
  });

  test('merging: same name and source replaced, other sources kept', () => {
    const merged = mergeAiTags(
      [
        { name: 'Toy', confidence: 50, source: 'google-auto-tagging' },
        { name: 'Toy', confidence: 80, source: 'aws-auto-tagging' },
        { name: 'Old', confidence: 70, source: 'google-auto-tagging' },
      ],
      [{ name: 'toy', confidence: 90, source: 'google-auto-tagging' }],
    );
    assert.deepEqual(merged, [
      { name: 'Toy', confidence: 80, source: 'aws-auto-tagging' },
      { name: 'Old', confidence: 70, source: 'google-auto-tagging' },
      { name: 'toy', confidence: 90, source: 'google-auto-tagging' },
    ]);
    assert.equal(mergeAiTags(null, []), null);
  });

  test('extension entries and saved configs are checked against the spec', () => {
    assert.throws(() => parseExtensionEntries([{ name: 'google-auto-tagging', minConfidence: 10, maxTags: 31 }]), /maxTags must be between 0 and 30/);
    assert.throws(() => parseExtensionEntries([{ name: 'ai-tasks', tasks: [{ type: 'select_tags', instruction: '' }] }]), /instruction/);
    assert.throws(() => parseExtensionEntries([{ name: 'ai-tasks', tasks: [{ type: 'guess', instruction: 'x' }] }]), /unknown type/);
    assert.throws(() => parseExtensionEntries([{ name: 'remove-bg', options: { bg_color: 'not a colour!' } }]), /bg_color/);
    assert.deepEqual(parseExtensionEntries([{ name: 'remove-bg', options: { bg_color: '#FFF', extra: 1 } }]), [{ name: 'remove-bg', options: { bg_color: 'FFF' } }]);
    assert.throws(() => parseExtensionConfig({ name: 'saved-extension', id: 'x' }), /cannot refer to another saved extension/);
    assert.deepEqual(parseExtensionConfig({ name: 'ai-auto-description' }), { name: 'ai-auto-description' });
  });
});

describe('provider and webhook settings', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'tessera-ext-cfg-'));

  test('nothing set: no providers, a webhook secret generated once and kept', () => {
    const d = dir();
    const a = resolveConfig({}, { TESSERA_DATA_DIR: d });
    assert.deepEqual(
      { g: a.extensions.googleVision, a: a.extensions.awsRekognition, o: a.extensions.openai, r: a.extensions.removeBg },
      { g: null, a: null, o: null, r: null },
    );
    assert.equal(a.webhooks.url, null);
    assert.equal(a.webhooks.secretGenerated, true);
    assert.match(a.webhooks.secret, /^whsec_/);
    const b = resolveConfig({}, { TESSERA_DATA_DIR: d });
    assert.equal(b.webhooks.secret, a.webhooks.secret);
    assert.equal(b.webhooks.secretGenerated, false);
  });

  test('each provider from its settings, with documented defaults', () => {
    const c = resolveConfig(
      {},
      {
        TESSERA_DATA_DIR: dir(),
        TESSERA_GOOGLE_VISION_API_KEY: 'g',
        TESSERA_AWS_REKOGNITION_REGION: 'eu-central-1',
        TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID: 'id',
        TESSERA_AWS_REKOGNITION_SECRET_ACCESS_KEY: 'secret',
        TESSERA_OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1/',
        TESSERA_REMOVE_BG_API_KEY: 'r',
        TESSERA_WEBHOOK_URL: 'https://hooks.example.org/imagekit',
        TESSERA_WEBHOOK_SECRET: 'whsec_abcdefgh',
      },
    );
    assert.equal(c.extensions.googleVision?.endpoint, 'https://vision.googleapis.com/v1/images:annotate');
    assert.equal(c.extensions.awsRekognition?.endpoint, 'https://rekognition.eu-central-1.amazonaws.com/');
    assert.deepEqual(c.extensions.openai, { baseUrl: 'http://127.0.0.1:11434/v1', apiKey: null, model: 'gpt-4o-mini' });
    assert.equal(c.extensions.removeBg?.endpoint, 'https://api.remove.bg/v1.0/removebg');
    assert.equal(c.webhooks.url, 'https://hooks.example.org/imagekit');
    assert.equal(c.webhooks.secret, 'whsec_abcdefgh');
  });

  test('incomplete or contradictory settings stop the server with one clear line', () => {
    const bad: Array<[Record<string, string>, RegExp]> = [
      [{ TESSERA_GOOGLE_VISION_API_KEY: 'a', TESSERA_GOOGLE_VISION_ACCESS_TOKEN: 'b' }, /not both/],
      [{ TESSERA_GOOGLE_VISION_ENDPOINT: 'https://x/' }, /neither/],
      [{ TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID: 'id' }, /both TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID/],
      [{ TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID: 'id', TESSERA_AWS_REKOGNITION_SECRET_ACCESS_KEY: 's' }, /REGION/],
      [{ TESSERA_AWS_REKOGNITION_ACCESS_KEY_ID: 'id', TESSERA_AWS_REKOGNITION_SECRET_ACCESS_KEY: 's', TESSERA_AWS_REKOGNITION_REGION: 'moon' }, /us-east-1/],
      [{ TESSERA_OPENAI_MODEL: 'gpt' }, /TESSERA_OPENAI_MODEL/],
      [{ TESSERA_REMOVE_BG_ENDPOINT: 'ftp://x' }, /TESSERA_REMOVE_BG_ENDPOINT must be an http/],
      [{ TESSERA_WEBHOOK_URL: 'not a url' }, /TESSERA_WEBHOOK_URL/],
      [{ TESSERA_WEBHOOK_SECRET: 'short' }, /TESSERA_WEBHOOK_SECRET/],
      [{ TESSERA_EXTENSION_TIMEOUT_MS: '5' }, /TESSERA_EXTENSION_TIMEOUT_MS/],
    ];
    for (const [env, pattern] of bad) {
      assert.throws(() => resolveConfig({}, { TESSERA_DATA_DIR: dir(), ...env }), (e: unknown) => e instanceof ConfigError && pattern.test(e.message), JSON.stringify(env));
    }
  });
});
