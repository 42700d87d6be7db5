-- Everything an attack must not change, as one hash: fence's tables (the chain up to the
-- mark), its objects, privileges and triggers, role memberships, the victim table, its row
-- audit (tracking, recorded changes, fence's triggers on it).
SELECT md5(string_agg(x, '|' ORDER BY x)) FROM (
    SELECT 'approval ' || a::text FROM fence.approvals a
    UNION ALL SELECT 'exemption ' || e::text FROM fence.exemptions e
    UNION ALL SELECT 'policy ' || p::text FROM fence.policy_versions p
    UNION ALL SELECT 'parked ' || d::text FROM fence.pending_denials d
    UNION ALL SELECT 'identity ' || i::text FROM fence.identity i
    UNION ALL SELECT 'fleet role ' || r::text FROM fence.fleet_roles r
    UNION ALL SELECT 'fleet policy ' || p::text FROM fence.fleet_policies p
    UNION ALL SELECT 'fleet approval ' || a::text FROM fence.fleet_approvals a
    UNION ALL SELECT 'fleet exemption ' || e::text FROM fence.fleet_exemptions e
    UNION ALL SELECT 'fleet chain ' || c::text FROM fence.fleet_chain c
    UNION ALL SELECT 'fleet database ' || d::text FROM fence.fleet_databases d
    UNION ALL SELECT 'fleet source ' || s::text FROM fence.fleet_sources s
    UNION ALL SELECT 'fleet conflict ' || c::text FROM fence.fleet_conflicts c
    UNION ALL SELECT 'fleet row change ' || r::text FROM fence.fleet_row_changes r
    UNION ALL SELECT 'publication ' || pubname FROM pg_publication
    UNION ALL SELECT 'subscription ' || subname FROM pg_subscription
    UNION ALL SELECT 'chain ' || c::text FROM fence.audit_chain c WHERE c.seq <= :mark
    UNION ALL SELECT 'evt ' || evtname || evtenabled::text || evtowner::regrole::text FROM pg_event_trigger
    UNION ALL SELECT 'ext ' || extname || extowner::regrole::text || extversion FROM pg_extension
    UNION ALL SELECT 'rel ' || c.oid::regclass::text || c.relowner::regrole::text || coalesce(c.relacl::text, '')
        FROM pg_class c WHERE c.relnamespace = 'fence'::regnamespace
    UNION ALL SELECT 'fn ' || p.oid::regprocedure::text || p.proowner::regrole::text || coalesce(p.proacl::text, '')
        || p.prosecdef::text FROM pg_proc p WHERE p.pronamespace = 'fence'::regnamespace
    UNION ALL SELECT 'trg ' || t.tgname || t.tgenabled::text FROM pg_trigger t
        WHERE t.tgrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'fence'::regnamespace)
    UNION ALL SELECT 'member ' || m.roleid::regrole::text || m.member::regrole::text FROM pg_auth_members m
    UNION ALL SELECT 'col ' || a.attname || a.atttypid::regtype::text || a.attnotnull FROM pg_attribute a
        WHERE a.attrelid = 'public.victim'::regclass AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT 'tracked ' || t::text FROM fence.tracked_tables t
    UNION ALL SELECT 'row ' || c.row_hash FROM fence.row_changes c
    UNION ALL SELECT 'vtrg ' || t.tgname || t.tgenabled::text || t.tgfoid::regproc::text FROM pg_trigger t
        WHERE t.tgrelid = 'public.victim'::regclass
    UNION ALL SELECT 'nsp ' || n.nspname || n.nspowner::regrole::text || coalesce(n.nspacl::text, '')
        FROM pg_namespace n WHERE n.nspname = 'fence'
) s(x);
