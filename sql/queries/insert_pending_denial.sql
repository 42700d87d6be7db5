-- $1 the denial event's fields (fence_core::chain::AuditEvent::fields, seq not yet known)
INSERT INTO fence.pending_denials (event) VALUES ($1)
