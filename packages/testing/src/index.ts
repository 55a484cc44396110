/**
 * Test support without services: the loopback check, the fake Lambda context and the event
 * fixtures. The heavier helpers (embedded planes, the local cloud, the journey) are subpath
 * exports, so a unit test importing this entry loads nothing that opens a socket.
 */
export { eventNames, loadEvent } from "./events";
export { fakeContext } from "./lambda-context";
export { assertLoopbackEndpoint } from "./loopback";
