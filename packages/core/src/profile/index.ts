/**
 * `@boarding-pass/core/profile`: the server-owned user profile, created exactly once with its
 * event (ADR 0004), and read (or repaired) for every token.
 */
export {
  confirmUser,
  type ProfileDefaults,
  type ProfileStore,
  profileForToken,
} from "./lifecycle";
export { Profile } from "./schema";
