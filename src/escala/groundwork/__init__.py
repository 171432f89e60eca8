"""The AWS groundwork a cluster needs before `create cluster` (seed section 1 and 3.2):
an operator IAM user with a least-privilege policy, and the versioned state bucket."""
