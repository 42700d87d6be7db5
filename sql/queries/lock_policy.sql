LOCK TABLE fence.policy_versions IN EXCLUSIVE MODE
