/**
 * Emulated Amazon SNS (query protocol, API version 2010-03-31).
 *
 * Control plane (topics, subscriptions, attributes) lives in memory and, with `dataDir`, in a
 * journal so it survives restarts. Acknowledged means durable: Publish journals each accepted
 * message with the subscriptions it matched before answering, and each delivery's final outcome
 * is journaled as it settles, so a kill -9 loses no accepted message: on open, deliveries still
 * pending are run again (at least once, as SNS promises). Messages are delivered asynchronously to
 * - `lambda` endpoints through callbacks registered with `registerLambda` (an `SNSEvent`),
 * - `sqs` endpoints through callbacks registered with `registerQueue` (the SQS message body),
 *   else into the local SQS service (`sqs` option) when it has that queue,
 * - `http`/`https` endpoints on loopback only (the SNS HTTP JSON body),
 * - otherwise the `deliver` fallback option, if given (e.g. a local Lambda runtime).
 * A lambda or sqs delivery recovered at open whose target has no callback yet waits for its
 * registration, instead of burning its retries while the runtime is still starting.
 *
 * HTTP(S) subscriptions go through SNS's confirmation handshake by default: they start pending,
 * the endpoint receives a `SubscriptionConfirmation` POST whose `SubscribeURL` (on the local
 * endpoint) or ConfirmSubscription call confirms them. `httpConfirmation: "auto"` skips it.
 *
 * Layout: `state.ts` (topics, subscriptions, pending messages, journal), `operations/` (topics,
 * subscriptions, publish), `publisher.ts` (fan-out and what each endpoint receives),
 * `delivery.ts` (attempts, retries, dead-letter), `filter.ts` (filter policies), `model.ts`.
 */

import { AwsServiceError } from "../../protocol/errors";
import { readQueryParams, runQueryAction } from "../../protocol/query";
import {
  LOCAL_ACCOUNT_ID,
  type LocalService,
  type ServiceRequest,
  type ServiceResponse,
} from "../../types";
import type { DeliveryRecord } from "./delivery";
import {
  json,
  type LambdaCallback,
  type PendingMessageView,
  type QueueCallback,
  type SnsContext,
  type SnsOperation,
  type SnsServiceOptions,
  XMLNS,
} from "./model";
import { publish, publishBatch } from "./operations/publish";
import {
  confirmSubscription,
  getSubscriptionAttributes,
  listSubscriptions,
  listSubscriptionsByTopic,
  setSubscriptionAttributes,
  subscribe,
  subscriptionAttributes,
  unsubscribe,
} from "./operations/subscriptions";
import {
  createTopic,
  deleteTopic,
  getTopicAttributes,
  listTopics,
  setTopicAttributes,
} from "./operations/topics";
import { SnsPublisher } from "./publisher";
import { SnsState } from "./state";

export type { SqsMessageAttributes } from "./model";

export interface SnsService extends LocalService {
  readonly name: "sns";
  registerLambda(functionArn: string, callback: LambdaCallback): void;
  registerQueue(queueArn: string, callback: QueueCallback): void;
  deliveries(filter?: {
    topicArn?: string;
    subscriptionArn?: string;
    messageId?: string;
  }): DeliveryRecord[];
  /** Resolves once no delivery is pending (tests). */
  idle(): Promise<void>;
  /** Accepted messages with deliveries not yet settled (what a restart would deliver again). */
  pending(): PendingMessageView[];
  /**
   * `/_local/sns/<path>` inspection routes: `deliveries?topicArn=&subscriptionArn=&messageId=`,
   * `subscriptions?topicArn=` and `pending`.
   */
  control(path: string, query: URLSearchParams): Promise<ServiceResponse>;
}

const OPERATIONS: Record<string, SnsOperation> = {
  CreateTopic: createTopic,
  GetTopicAttributes: getTopicAttributes,
  SetTopicAttributes: setTopicAttributes,
  ListTopics: listTopics,
  DeleteTopic: deleteTopic,
  Subscribe: subscribe,
  ConfirmSubscription: confirmSubscription,
  Unsubscribe: unsubscribe,
  ListSubscriptions: listSubscriptions,
  ListSubscriptionsByTopic: listSubscriptionsByTopic,
  GetSubscriptionAttributes: getSubscriptionAttributes,
  SetSubscriptionAttributes: setSubscriptionAttributes,
  Publish: publish,
  PublishBatch: publishBatch,
};

export function createSnsService(options: SnsServiceOptions): SnsService {
  const state = new SnsState(options);
  const publisher = new SnsPublisher(state, options);
  const ctx: SnsContext = {
    state,
    publisher,
    accountId: options.accountId ?? LOCAL_ACCOUNT_ID,
    options,
  };

  async function handle(request: ServiceRequest): Promise<ServiceResponse> {
    return runQueryAction(XMLNS, request.requestId, () => {
      const params = readQueryParams(request);
      const action = params.get("Action") ?? "";
      const operation = Object.hasOwn(OPERATIONS, action) ? OPERATIONS[action] : undefined;
      if (!operation) {
        throw new AwsServiceError(
          "InvalidAction",
          `The action ${action} is not valid for this endpoint.`,
        );
      }
      return operation(ctx, params, request);
    });
  }

  publisher.recoverPending();
  // A recovered sqs delivery also waits for its queue to appear in the local SQS.
  options.sqs?.onQueueCreated?.((queueArn) => publisher.releaseParked(queueArn));

  return {
    name: "sns",
    handle,
    registerLambda: (functionArn, callback) => publisher.registerLambda(functionArn, callback),
    registerQueue: (queueArn, callback) => publisher.registerQueue(queueArn, callback),
    pending: () => publisher.pendingView(),
    deliveries: (filter) => publisher.deliveries(filter),
    idle: () => publisher.idle(),
    async control(path, query) {
      const route = path.replace(/^\/+/, "").replace(/\/+$/, "");
      if (route === "deliveries") {
        const filter = {
          topicArn: query.get("topicArn") ?? undefined,
          subscriptionArn: query.get("subscriptionArn") ?? undefined,
          messageId: query.get("messageId") ?? undefined,
        };
        return json(200, { deliveries: publisher.deliveries(filter) });
      }
      if (route === "subscriptions") {
        // Unlike ListSubscriptions, shows pending ones with their ARN and every attribute.
        const topicFilter = query.get("topicArn");
        const list = [...state.subscriptions.values()]
          .filter((sub) => !topicFilter || sub.topicArn === topicFilter)
          .map((sub) => subscriptionAttributes(ctx, sub));
        return json(200, { subscriptions: list });
      }
      if (route === "pending") return json(200, { pending: publisher.pendingView() });
      return json(404, { message: `unknown SNS control route: /${route}` });
    },
    async reset() {
      state.clear();
      publisher.clear();
      state.resetJournal();
    },
    async close() {
      publisher.close();
      state.close();
    },
  };
}
