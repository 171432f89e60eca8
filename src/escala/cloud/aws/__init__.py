"""AWS resources as reconcilable tasks, and the boto3 client factory they share."""
