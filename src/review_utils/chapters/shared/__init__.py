"""What two or more chapters need: the approvals table, the claims audit's status rules, statistics."""
