import { silenceSdkNotices } from "@boarding-pass/local/cloud/sdk-notices";
import { installNetworkGuard } from "@boarding-pass/testing/network-guard";

// The unit tier opens no socket, loopback included: a test that needs one fails at once and names
// the tier it belongs to (vitest.config.ts).
installNetworkGuard();
// The integration and e2e tiers silence the SDKs' Node-support notices in their global setup; the
// unit tier has none, so its workers do it here.
silenceSdkNotices();
