"""escala: a highly-available, auto-scaling real-time chat service on AWS.

Three parts share this package: a kops-style Kubernetes cluster manager, the Socket.IO
chat service it runs, and the scaling cases (EC2 Auto Scaling, HPA + cluster-autoscaler,
ECS Fargate) that grow and shrink the chat with its load.
"""

__version__ = "0.1.0"
