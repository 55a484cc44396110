import type { BoardingPassEvent } from "../events/catalogue";
import type { EventPublisher, PublishOptions, PublishOutcome } from "../events/publisher";
import type { DirectoryUser, UserDirectory } from "../sign-up/ports";
import type { SdkClientOptions } from "./sdk";

/**
 * Adapters whose SDK client (and the client's module) is made on first use, for the triggers that
 * need SNS, Kinesis or the Cognito admin API only off their usual path: pre sign-up links a
 * federated user or judges a stale email claim (rare), post confirmation publishes a new user's
 * event once. Each module is reached through a dynamic `import()`, so esbuild's ESM splitting
 * (sst.config.ts) puts it in a chunk the function loads the first time it calls, not at every
 * cold start. Behaviour is that of the adapter it wraps; only construction moves.
 */

/**
 * What a handler does to each SDK client it makes (functions: `traced`, which adds X-Ray
 * subsegments); the identity by default.
 */
type CaptureClient = <T extends object>(client: T) => T;
const asIs: CaptureClient = (client) => client;

/** One load shared by concurrent callers; a failed load is tried again by the next call. */
export function onFirstUse<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => {
    loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
}

/** `SnsKinesisEventPublisher` with its SNS and Kinesis clients made on the first publish. */
export function lazySnsKinesisEventPublisher(options: {
  topicArn: string;
  streamName: string;
  sdk?: SdkClientOptions;
  capture?: CaptureClient;
}): EventPublisher {
  const capture = options.capture ?? asIs;
  const publisher = onFirstUse(async () => {
    const { SnsKinesisEventPublisher, createSnsClient, createKinesisClient } = await import(
      "./sns-kinesis"
    );
    return new SnsKinesisEventPublisher({
      sns: capture(createSnsClient(options.sdk)),
      kinesis: capture(createKinesisClient(options.sdk)),
      topicArn: options.topicArn,
      streamName: options.streamName,
    });
  });
  return {
    async publish(
      events: readonly BoardingPassEvent[],
      publishOptions?: PublishOptions,
    ): Promise<PublishOutcome> {
      let loaded: Awaited<ReturnType<typeof publisher>>;
      try {
        loaded = await publisher();
      } catch {
        // The port never throws for a delivery failure: nothing went out, the outbox keeps it all.
        return {
          published: [],
          failed: events.map((event) => ({ id: event.id, reason: "PublisherUnavailable" })),
        };
      }
      return loaded.publish(events, publishOptions);
    },
  };
}

/** `CognitoAdmin` per user pool around one Cognito client made on the first call. */
export function lazyCognitoDirectory(
  sdk?: SdkClientOptions,
  capture: CaptureClient = asIs,
): (userPoolId: string) => UserDirectory {
  const admin = onFirstUse(async () => {
    const { CognitoAdmin, createCognitoClient } = await import("./cognito-user-pool");
    const client = capture(createCognitoClient(sdk));
    return (userPoolId: string) => new CognitoAdmin(client, userPoolId);
  });
  return (userPoolId) => ({
    async findUsersByEmail(
      email: string,
      options?: { signal?: AbortSignal },
    ): Promise<DirectoryUser[]> {
      return (await admin())(userPoolId).findUsersByEmail(email, options);
    },
    async findUserByUsername(
      username: string,
      options?: { signal?: AbortSignal },
    ): Promise<DirectoryUser | null> {
      return (await admin())(userPoolId).findUserByUsername(username, options);
    },
    async userStatus(username: string, options?: { signal?: AbortSignal }) {
      return (await admin())(userPoolId).userStatus(username, options);
    },
    async linkProviderToUser(
      input: { nativeUsername: string; providerName: string; providerUserId: string },
      options?: { signal?: AbortSignal },
    ): Promise<"linked" | "already-linked"> {
      return (await admin())(userPoolId).linkProviderToUser(input, options);
    },
  });
}
