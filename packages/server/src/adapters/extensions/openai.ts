import {
  ExtensionProviderError,
  type CallOptions,
  type Describer,
  type ProviderImage,
  type VisionTaskAnswer,
  type VisionTaskQuestion,
} from '../../ports/extension-providers.js';
import { errorDetail, parseJson, providerFetch, statusError } from './http.js';

/**
 * ai-auto-description and ai-tasks through an OpenAI-compatible chat completions endpoint
 * (`POST <base>/chat/completions`, `Authorization: Bearer <key>`), the image sent inline as a
 * `data:` URL in an `image_url` content part. Works with OpenAI and with the many servers that
 * speak the same format (vLLM, Ollama, LM Studio …). The answer is `choices[0].message.content`.
 */

export interface OpenAiOptions {
  /** e.g. https://api.openai.com/v1 */
  baseUrl: string;
  apiKey: string | null;
  model: string;
  timeoutMs: number;
}

const PROVIDER = 'The OpenAI-compatible endpoint';
/** Same bound as an upload's `description` field. */
const MAX_DESCRIPTION = 1000;

interface ChatMessage {
  role: 'system' | 'user';
  content: string | Array<{ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } }>;
}

export class OpenAiDescriber implements Describer {
  constructor(private readonly opts: OpenAiOptions) {}

  private async chat(messages: ChatMessage[], opts: CallOptions, json: boolean): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.opts.apiKey) headers.authorization = `Bearer ${this.opts.apiKey}`;
    const body = JSON.stringify({
      model: this.opts.model,
      messages,
      // No temperature: some current models accept only their default.
      ...(json ? { response_format: { type: 'json_object' } } : {}),
    });
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const res = await providerFetch({ provider: PROVIDER, url, headers, body, timeoutMs: this.opts.timeoutMs, signal: opts.signal });
    if (res.status < 200 || res.status > 299) {
      throw statusError(PROVIDER, res, errorDetail(res.body, (j) => (j.error as { message?: unknown } | undefined)?.message ?? j.message));
    }
    const out = parseJson(PROVIDER, res.body) as { choices?: Array<{ message?: { content?: unknown; refusal?: unknown } }> };
    const msg = out.choices?.[0]?.message;
    if (typeof msg?.refusal === 'string' && msg.refusal !== '') {
      throw new ExtensionProviderError(`The model refused: ${msg.refusal.slice(0, 300)}`, false);
    }
    let content = msg?.content;
    // Some servers answer with content parts even for text.
    if (Array.isArray(content)) content = content.map((p: { text?: unknown }) => (typeof p?.text === 'string' ? p.text : '')).join('');
    if (typeof content !== 'string' || content.trim() === '') {
      throw new ExtensionProviderError(`${PROVIDER} answered without any message content.`, true);
    }
    return content;
  }

  private imagePart(image: ProviderImage) {
    return { type: 'image_url' as const, image_url: { url: `data:${image.mime};base64,${image.bytes.toString('base64')}` } };
  }

  async describe(image: ProviderImage, opts: CallOptions): Promise<string> {
    const text = await this.chat(
      [
        {
          role: 'system',
          content:
            'You write alt text for images in a media library. Answer with one or two plain sentences that describe what the image shows. No preamble, no markdown, no quotes.',
        },
        { role: 'user', content: [{ type: 'text', text: 'Describe this image.' }, this.imagePart(image)] },
      ],
      opts,
      false,
    );
    const clean = text.replace(/\s+/g, ' ').trim().replace(/^["']|["']$/g, '');
    return [...clean].slice(0, MAX_DESCRIPTION).join('');
  }

  async answer(image: ProviderImage, questions: readonly VisionTaskQuestion[], opts: CallOptions): Promise<VisionTaskAnswer[]> {
    const spec = questions.map((q, i) =>
      q.kind === 'yes_no'
        ? { id: i, type: 'yes_no', question: q.instruction, answer_with: ['yes', 'no', 'unknown'] }
        : { id: i, type: 'select', question: q.instruction, options: q.options, min_selections: q.min, max_selections: q.max },
    );
    const text = await this.chat(
      [
        {
          role: 'system',
          content:
            'You answer questions about an image for a media library. Reply with a JSON object {"answers": [...]} holding one entry per question, in order, each {"id": <question id>, ...}. ' +
            'For a "select" question give "selected": an array of values copied exactly from its "options" (between min_selections and max_selections of them; an empty array when none apply); ' +
            'when its "options" list is empty, choose short lowercase values of your own instead. ' +
            'For a "yes_no" question give "answer": "yes", "no" or "unknown" (when the image does not show enough to tell).',
        },
        { role: 'user', content: [{ type: 'text', text: JSON.stringify({ questions: spec }) }, this.imagePart(image)] },
      ],
      opts,
      true,
    );
    let parsed: unknown;
    try {
      // Tolerate a fenced block from servers that ignore response_format.
      parsed = JSON.parse(text.replace(/^\s*```(?:json)?\s*|\s*```\s*$/g, ''));
    } catch {
      throw new ExtensionProviderError('The model did not answer with JSON.', true);
    }
    const list = (parsed as { answers?: unknown }).answers;
    if (!Array.isArray(list)) throw new ExtensionProviderError('The model answered without an "answers" array.', true);
    return questions.map((q, i) => {
      const entry = (list.find((a) => (a as { id?: unknown })?.id === i) ?? list[i]) as Record<string, unknown> | undefined;
      if (q.kind === 'yes_no') {
        const a = typeof entry?.answer === 'string' ? entry.answer.trim().toLowerCase() : 'unknown';
        return { kind: 'yes_no', answer: a === 'yes' || a === 'no' ? a : 'unknown' };
      }
      const sel = Array.isArray(entry?.selected) ? (entry.selected as unknown[]) : [];
      return { kind: 'select', selected: sel.filter((v): v is string | number | boolean => ['string', 'number', 'boolean'].includes(typeof v)) };
    });
  }
}
