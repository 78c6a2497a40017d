import { APIResource } from '../../../core/resource.js';
import type { Transport } from '../../../internal/transport.js';
import { Files } from './files/client.js';

export class V2 extends APIResource {
  readonly files: Files;

  constructor(transport: Transport) {
    super(transport);
    this.files = new Files(transport);
  }
}
