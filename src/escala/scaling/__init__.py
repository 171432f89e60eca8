"""The scaling cases: EC2 Auto Scaling with CloudWatch, HPA + cluster-autoscaler, ECS Fargate."""
