/**
 * `@boarding-pass/core/events`: the catalogue of domain events (CloudEvents 1.0, docs/events.md),
 * the outbox they wait in (ADR 0004) and the one port they leave through, `EventPublisher`.
 */
export {
  type BoardingPassEvent,
  buildEvent,
  type DeletionActor,
  eventId,
  eventSource,
} from "./catalogue";
export { identityLinkedEventId, identityMergedEventId } from "./identity-events";
export { type OutboxStore, outboxAttributes, type RelaySummary, relayOutbox } from "./outbox";
export type { EventPublisher } from "./publisher";
