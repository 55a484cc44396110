/**
 * The policies and their attachments in memory, and their journal (`<dataDir>/iot`): an attached
 * policy survives a restart, so the MQTT broker keeps authorizing what IoT answered for.
 */
import { Journal } from "../../journal";
import type { ServiceResponse } from "../../types";
import { type EndpointType, type IotJournalRecord, type IotPolicy, notFound } from "./model";

interface IotStateOptions {
  region: string;
  accountId: string;
  dataDir?: string;
  compactAfter?: number;
  endpointAddress?: string | Partial<Record<EndpointType, string>>;
  now: () => number;
}

export class IotState {
  readonly policies = new Map<string, IotPolicy>();
  /** target → policy names, insertion-ordered. */
  readonly attachments = new Map<string, Set<string>>();
  /** The MQTT broker's `host:port`, once it listens (see `IotService.setDataEndpoint`). */
  dataEndpoint: string | undefined;
  /** DescribeEndpoint's configured answer (see `IotServiceOptions.endpointAddress`). */
  readonly endpointAddress: string | Partial<Record<EndpointType, string>> | undefined;
  readonly region: string;
  readonly accountId: string;
  readonly now: () => number;
  readonly #journal: Journal<IotJournalRecord>;

  constructor(options: IotStateOptions) {
    this.region = options.region;
    this.accountId = options.accountId;
    this.now = options.now;
    this.endpointAddress = options.endpointAddress;
    this.#journal = Journal.open<IotJournalRecord>(
      {
        dataDir: options.dataDir,
        name: "iot",
        snapshot: () => this.#snapshot(),
        compactAfter: options.compactAfter,
      },
      (record) => this.#apply(record),
    );
  }

  /** Durably records one change, then applies it (see `Journal.commit`). */
  commit(record: IotJournalRecord): void {
    this.#journal.commit(record);
  }

  policyArn(policyName: string): string {
    return `arn:aws:iot:${this.region}:${this.accountId}:policy/${policyName}`;
  }

  requirePolicy(name: string): IotPolicy {
    const policy = this.policies.get(name);
    if (!policy) throw notFound(`Policy not found: ${name}`);
    return policy;
  }

  targetsOf(policyName: string): string[] {
    return [...this.attachments]
      .filter(([, names]) => names.has(policyName))
      .map(([target]) => target);
  }

  reset(): void {
    this.policies.clear();
    this.attachments.clear();
    this.#journal.reset();
  }

  close(): void {
    this.#journal.close();
  }

  #apply(record: IotJournalRecord): void {
    switch (record.op) {
      case "createPolicy":
        this.policies.set(record.policy.policyName, record.policy);
        break;
      case "deletePolicy":
        this.policies.delete(record.policyName);
        break;
      case "attach": {
        const set = this.attachments.get(record.target) ?? new Set<string>();
        set.add(record.policyName);
        this.attachments.set(record.target, set);
        break;
      }
      case "detach": {
        const set = this.attachments.get(record.target);
        set?.delete(record.policyName);
        if (set?.size === 0) this.attachments.delete(record.target);
        break;
      }
    }
  }

  #snapshot(): IotJournalRecord[] {
    const out: IotJournalRecord[] = [...this.policies.values()].map((policy) => ({
      op: "createPolicy",
      policy,
    }));
    for (const [target, names] of this.attachments) {
      for (const policyName of names) out.push({ op: "attach", policyName, target });
    }
    return out;
  }
}

/** An operation routed by method and path: path parameters, query string and JSON body in. */
export type IotOperation = (
  state: IotState,
  params: string[],
  query: URLSearchParams,
  body: Record<string, unknown>,
) => ServiceResponse;
