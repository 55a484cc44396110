/** The local X-Ray daemon: segment documents over UDP, kept in a bounded store by trace id. */

export {
  MAX_DATAGRAM_BYTES,
  parseSegmentDatagram,
  type SegmentDocument,
  type StoredTrace,
  startXRayDaemon,
  type TraceSource,
  TraceStore,
  type XRayDaemon,
} from "./daemon";
