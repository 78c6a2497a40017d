import { badRequest, notFound } from '../errors/index.js';
import type { SavedExtensionRecord, SavedExtensionStore } from '../ports/saved-extension-store.js';
import { newId } from '../util/ids.js';
import { parseExtensionConfig, type ExtensionConfig } from './extension-rules.js';
import { isPlainObject } from './field-rules.js';

/** Documented limit: at most this many saved extensions per account. */
export const MAX_SAVED_EXTENSIONS = 100;
const MAX_TEXT = 1000;

export interface SavedExtension {
  id: string;
  name: string;
  description: string;
  config: ExtensionConfig;
  createdAt: string;
  updatedAt: string;
}

function text(v: unknown, field: 'name' | 'description'): string {
  if (typeof v !== 'string' || v.trim() === '') throw badRequest(`${field} is required and must be a non-empty string.`);
  if ([...v].length > MAX_TEXT) throw badRequest(`${field} must be at most ${MAX_TEXT} characters.`);
  return v;
}

const missing = () => notFound('The requested saved extension does not exist.');

/** /v1/saved-extensions: reusable extension configs, referenced by id wherever extensions are accepted. */
export class SavedExtensionService {
  constructor(
    private readonly store: SavedExtensionStore,
    private readonly clock: () => string = () => new Date().toISOString(),
  ) {}

  private view(r: SavedExtensionRecord): SavedExtension {
    return { id: r.id, name: r.name, description: r.description, config: r.config as unknown as ExtensionConfig, createdAt: r.createdAt, updatedAt: r.updatedAt };
  }

  async list(): Promise<SavedExtension[]> {
    return (await this.store.list()).map((r) => this.view(r));
  }

  async get(id: string): Promise<SavedExtension> {
    const r = typeof id === 'string' && id !== '' ? await this.store.get(id) : undefined;
    if (!r) throw missing();
    return this.view(r);
  }

  async create(body: unknown): Promise<SavedExtension> {
    if (!isPlainObject(body)) throw badRequest('Your request body should be a JSON object with name, description and config.');
    const name = text(body.name, 'name');
    const description = text(body.description, 'description');
    if (body.config === undefined) throw badRequest('config is required.');
    const config = parseExtensionConfig(body.config);
    const now = this.clock();
    const rec: SavedExtensionRecord = { id: newId(), name, description, config: config as unknown as Record<string, unknown>, createdAt: now, updatedAt: now };
    if (!(await this.store.insertUnderLimit(rec, MAX_SAVED_EXTENSIONS))) {
      throw badRequest(`You can create at most ${MAX_SAVED_EXTENSIONS} saved extensions. Delete one first.`);
    }
    return this.view(rec);
  }

  async update(id: string, body: unknown): Promise<SavedExtension> {
    if (!isPlainObject(body)) throw badRequest('Your request body should be a JSON object.');
    const patch: Partial<Pick<SavedExtensionRecord, 'name' | 'description' | 'config' | 'updatedAt'>> = {};
    if (body.name !== undefined) patch.name = text(body.name, 'name');
    if (body.description !== undefined) patch.description = text(body.description, 'description');
    if (body.config !== undefined) patch.config = parseExtensionConfig(body.config) as unknown as Record<string, unknown>;
    if (Object.keys(patch).length > 0) patch.updatedAt = this.clock();
    if (!(await this.store.update(id, patch))) throw missing();
    return this.get(id);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.store.delete(id))) throw missing();
  }

  /** The stored config behind a `{name: "saved-extension", id}` reference (a 400 when there is none). */
  async resolve(id: string): Promise<ExtensionConfig> {
    const r = await this.store.get(id);
    if (!r) throw badRequest(`Your request contains invalid extensions parameter. The saved extension "${id}" does not exist.`);
    return r.config as unknown as ExtensionConfig;
  }
}
