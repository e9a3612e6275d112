export { AUDIT_ACTIONS, isAuditAction, type AuditAction } from './actions.js';
export {
  AuditLog,
  GENESIS_HASH,
  PLATFORM_CHAIN_ID,
  type AuditActor,
  type AuditEventInput,
  type AuditScope,
  type ChainVerification,
  type RecordedAuditEvent,
} from './chain.js';
export { canonicalJson, type JsonValue } from './canonical.js';
