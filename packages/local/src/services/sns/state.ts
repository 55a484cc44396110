/**
 * The topics, subscriptions and accepted-but-unsettled messages of the local SNS, and their
 * journal. `apply` is the only code that changes them, shared by live commits and replay, so a
 * restarted service means what it meant before; `snapshot` writes the same state back as records
 * when the journal is compacted.
 */

import { Journal } from "../../journal";
import { AwsServiceError } from "../../protocol/errors";
import {
  type PendingMessage,
  refreshFilter,
  type SnsJournalRecord,
  type Subscription,
  type Topic,
  validateArn,
} from "./model";

export class SnsState {
  readonly topics = new Map<string, Topic>();
  readonly subscriptions = new Map<string, Subscription>();
  /** Tokens already used → subscription, so a repeated SubscribeURL visit still succeeds. */
  readonly confirmedTokens = new Map<string, string>();
  readonly pendingMessages = new Map<string, PendingMessage>();
  readonly #journal: Journal<SnsJournalRecord>;

  constructor(options: { dataDir?: string; compactAfter?: number }) {
    this.#journal = Journal.open<SnsJournalRecord>(
      {
        dataDir: options.dataDir,
        name: "sns",
        snapshot: () => this.#snapshot(),
        compactAfter: options.compactAfter,
      },
      (record) => this.#apply(record),
    );
  }

  /** Durably records one change, then applies it (see `Journal.commit`). */
  commit(record: SnsJournalRecord): void {
    this.#journal.commit(record);
  }

  requireTopic(arn: string): Topic {
    validateArn(arn, "TopicArn");
    const topic = this.topics.get(arn);
    if (!topic) throw new AwsServiceError("NotFound", "Topic does not exist", { status: 404 });
    return topic;
  }

  requireSubscription(arn: string): Subscription {
    validateArn(arn, "SubscriptionArn");
    const sub = this.subscriptions.get(arn);
    if (!sub) throw new AwsServiceError("NotFound", "Subscription does not exist", { status: 404 });
    return sub;
  }

  /** Forgets everything in memory; `resetJournal` then empties the journal. */
  clear(): void {
    this.topics.clear();
    this.subscriptions.clear();
    this.confirmedTokens.clear();
    this.pendingMessages.clear();
  }

  resetJournal(): void {
    this.#journal.reset();
  }

  close(): void {
    this.#journal.close();
  }

  #apply(record: SnsJournalRecord): void {
    switch (record.op) {
      case "createTopic":
        this.topics.set(record.arn, {
          arn: record.arn,
          name: record.name,
          attributes: { ...record.attributes },
        });
        break;
      case "setTopicAttribute": {
        const topic = this.topics.get(record.arn);
        if (topic) topic.attributes[record.name] = record.value;
        break;
      }
      case "deleteTopic":
        this.topics.delete(record.arn);
        for (const [arn, sub] of this.subscriptions)
          if (sub.topicArn === record.arn) this.subscriptions.delete(arn);
        break;
      case "subscribe": {
        const sub: Subscription = {
          arn: record.arn,
          topicArn: record.topicArn,
          protocol: record.protocol,
          endpoint: record.endpoint,
          attributes: { ...record.attributes },
        };
        if (record.pendingToken) sub.pendingToken = record.pendingToken;
        refreshFilter(sub);
        this.subscriptions.set(record.arn, sub);
        break;
      }
      case "confirmSubscription": {
        const sub = this.subscriptions.get(record.arn);
        if (sub) delete sub.pendingToken;
        break;
      }
      case "setSubscriptionAttribute": {
        const sub = this.subscriptions.get(record.arn);
        if (!sub) break;
        if (record.value === "") delete sub.attributes[record.name];
        else sub.attributes[record.name] = record.value;
        refreshFilter(sub);
        break;
      }
      case "unsubscribe":
        this.subscriptions.delete(record.arn);
        break;
      case "publish":
        this.pendingMessages.set(record.messageId, {
          messageId: record.messageId,
          topicArn: record.topicArn,
          timestamp: record.timestamp,
          input: record.input,
          subscriptionArns: new Set(record.subscriptionArns),
        });
        break;
      case "settled": {
        const pending = this.pendingMessages.get(record.messageId);
        if (!pending) break;
        pending.subscriptionArns.delete(record.subscriptionArn);
        if (pending.subscriptionArns.size === 0) this.pendingMessages.delete(record.messageId);
        break;
      }
    }
  }

  #snapshot(): SnsJournalRecord[] {
    const out: SnsJournalRecord[] = [];
    for (const t of this.topics.values()) {
      out.push({ op: "createTopic", arn: t.arn, name: t.name, attributes: t.attributes });
    }
    for (const s of this.subscriptions.values()) {
      const record: SnsJournalRecord = {
        op: "subscribe",
        arn: s.arn,
        topicArn: s.topicArn,
        protocol: s.protocol,
        endpoint: s.endpoint,
        attributes: s.attributes,
      };
      if (s.pendingToken) record.pendingToken = s.pendingToken;
      out.push(record);
    }
    // Undelivered messages survive compaction with only their unsettled subscriptions.
    for (const p of this.pendingMessages.values()) {
      out.push({
        op: "publish",
        messageId: p.messageId,
        topicArn: p.topicArn,
        timestamp: p.timestamp,
        input: p.input,
        subscriptionArns: [...p.subscriptionArns],
      });
    }
    return out;
  }
}
