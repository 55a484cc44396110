/**
 * The broker's recent publishes, for a console and for tests: a bounded ring (a busy topic must
 * not grow memory without limit) plus live listeners. A listener that throws is isolated: it
 * must not break delivery to clients or to the other listeners.
 */

export interface MqttMessage {
  topic: string;
  payload: Buffer;
  qos: 0 | 1 | 2;
  retain: boolean;
  /** Publishing client id; a last-will message names the client it belonged to. */
  clientId: string;
  identityId: string | undefined;
  /** Epoch ms when the broker accepted it. */
  receivedAt: number;
}

export type MessageListener = (message: MqttMessage) => void;

export class MessageLog {
  private readonly ring: MqttMessage[] = [];
  private next = 0;
  private readonly listeners = new Set<MessageListener>();

  constructor(
    private readonly capacity: number,
    private readonly onListenerError: (err: unknown) => void,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error("message log capacity must be a positive integer");
    }
  }

  add(message: MqttMessage): void {
    if (this.ring.length < this.capacity) this.ring.push(message);
    else this.ring[this.next] = message;
    this.next = (this.next + 1) % this.capacity;
    for (const listener of this.listeners) {
      try {
        listener(message);
      } catch (err) {
        this.onListenerError(err);
      }
    }
  }

  /** The most recent `limit` messages (all kept by default), oldest first. */
  recent(limit = this.capacity): MqttMessage[] {
    const ordered =
      this.ring.length < this.capacity
        ? this.ring.slice()
        : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    const count = Math.max(0, Math.min(Math.floor(limit), ordered.length));
    return count === 0 ? [] : ordered.slice(-count);
  }

  /** Returns the unsubscribe function. */
  listen(listener: MessageListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }
}
