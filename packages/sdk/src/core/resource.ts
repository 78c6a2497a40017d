import type { Transport } from '../internal/transport.js';

/** Base of every resource class: holds the transport shared with the client. */
export abstract class APIResource {
  protected readonly _transport: Transport;

  constructor(transport: Transport) {
    this._transport = transport;
  }
}
