import type { IdentityEvent } from "../../identities/events";
import type { IdentityEventSink } from "../../identities/ports";
import { deliverPending, type ItemKey, type OutboxStore } from "../../outbox";
import type { EventPublisher } from "../../publisher";

/**
 * Delivers identity events through the triggers' outbox machinery: publish (SNS + Kinesis via the
 * `EventPublisher`), then clear the pending event on its item if it is still the same id.
 */
export class OutboxIdentityEventSink implements IdentityEventSink {
  constructor(
    private readonly publisher: EventPublisher,
    private readonly outbox: OutboxStore,
  ) {}

  deliver(
    entries: ReadonlyArray<{ key: ItemKey; event: IdentityEvent }>,
  ): Promise<{ delivered: string[]; pending: string[] }> {
    return deliverPending(
      entries.map((entry) => ({ key: entry.key, event: entry.event })),
      { publisher: this.publisher, store: this.outbox },
    );
  }
}
