import type { KinesisStreamBatchResponse, KinesisStreamEvent } from "aws-lambda";
import { consumer } from "../kit/consumer";
import { logger } from "../observability";

/**
 * Example Kinesis consumer. Records of one user arrive in order (partition key = user sub);
 * a record that cannot be read is reported by sequence number so Lambda retries from there.
 */
export const handler = consumer({
  async handle(event: KinesisStreamEvent): Promise<KinesisStreamBatchResponse> {
    for (const record of event.Records) {
      try {
        const payload = JSON.parse(Buffer.from(record.kinesis.data, "base64").toString("utf8")) as {
          id?: unknown;
          type?: unknown;
        };
        logger.info("audit", {
          eventId: payload.id,
          type: payload.type,
          partitionKey: record.kinesis.partitionKey,
        });
      } catch (error) {
        logger.error("unreadable record", { sequenceNumber: record.kinesis.sequenceNumber, error });
        return { batchItemFailures: [{ itemIdentifier: record.kinesis.sequenceNumber }] };
      }
    }
    return { batchItemFailures: [] };
  },
});
