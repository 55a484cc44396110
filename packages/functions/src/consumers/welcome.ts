import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { consumer } from "../kit/consumer";
import { logger } from "../observability";

/**
 * Example SNS subscriber (through SQS, raw delivery). Reports only the records it could not
 * parse as failures, so one bad message never re-delivers the good ones.
 */
export const handler = consumer({
  async handle(event: SQSEvent): Promise<SQSBatchResponse> {
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const record of event.Records) {
      try {
        const message = JSON.parse(record.body) as { id?: unknown; type?: unknown };
        logger.info("identity event received", { eventId: message.id, type: message.type });
      } catch (error) {
        logger.error("unreadable message", { messageId: record.messageId, error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  },
});
