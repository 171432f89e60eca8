"""Builders: a completed spec -> the keyed graph of AWS tasks the engine reconciles.

Pure: nothing here calls AWS. `cluster/` builds a Cluster and its InstanceGroups,
`chat_service/` a ChatService (EC2 or Fargate); both add their tasks to one
ModelContext (context.py) and share the network (network.py).
"""
