-- Whether the control database $1's policy version $2 is a policy version here already.
SELECT EXISTS (SELECT 1 FROM fence.policy_versions WHERE origin = $1::uuid AND origin_version = $2) AS received
