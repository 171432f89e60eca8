"""Builders: turn a completed Cluster and its InstanceGroups into a keyed graph of
cloud tasks. They never call AWS."""
