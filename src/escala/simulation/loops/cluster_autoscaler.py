"""cluster-autoscaler, as its FAQ describes it (kubernetes/autoscaler, FAQ.md).

Every scan interval (10 s): pending pods that would fit on a new node make it ask the
cloud for nodes (counting the room on nodes still booting); a node whose pods' requests
are under 50 % of its allocatable and whose pods fit elsewhere is unneeded, and one
unneeded for 10 minutes is removed, non-empty ones one at a time, empty ones up to 10 at
once; no scale-down for 10 minutes after a scale-up.
"""

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class CAParameters:
    min_nodes: int
    max_nodes: int
    scan_interval_s: float = 10.0
    utilization_threshold: float = 0.5
    scale_down_unneeded_s: float = 600.0
    scale_down_delay_after_add_s: float = 600.0
    max_empty_bulk_delete: int = 10


@dataclass(frozen=True)
class NodeView:
    """What the autoscaler sees of one node: its pods and whether it has joined."""

    name: str
    pods: int
    ready: bool


@dataclass(frozen=True)
class Decision:
    add: int = 0
    remove: tuple[str, ...] = ()


@dataclass
class ClusterAutoscaler:
    params: CAParameters
    pods_per_node: int
    _unneeded_since: dict[str, float] = field(default_factory=dict)
    _last_scale_up: float = -math.inf

    def scan(self, now: float, nodes: list[NodeView], pending: int) -> Decision:
        p = self.params
        if pending > 0:
            booting_room = sum(self.pods_per_node - n.pods for n in nodes if not n.ready)
            short = pending - booting_room
            add = min(math.ceil(short / self.pods_per_node), p.max_nodes - len(nodes))
            if short > 0 and add > 0:
                self._last_scale_up = now
                self._unneeded_since.clear()
                return Decision(add=add)
            return Decision()
        return Decision(remove=self._scale_down(now, nodes))

    def _scale_down(self, now: float, nodes: list[NodeView]) -> tuple[str, ...]:
        p = self.params
        ready = [n for n in nodes if n.ready]
        free = sum(self.pods_per_node - n.pods for n in ready)
        unneeded = set()
        for n in ready:
            low = n.pods / self.pods_per_node < p.utilization_threshold
            fits_elsewhere = n.pods <= free - (self.pods_per_node - n.pods)
            if low and fits_elsewhere:
                unneeded.add(n.name)
                self._unneeded_since.setdefault(n.name, now)
        for name in list(self._unneeded_since):
            if name not in unneeded:
                del self._unneeded_since[name]
        if now - self._last_scale_up < p.scale_down_delay_after_add_s:
            return ()
        room = len(nodes) - p.min_nodes
        due = [
            n
            for n in ready
            if n.name in unneeded and now - self._unneeded_since[n.name] >= p.scale_down_unneeded_s
        ]
        empty = [n.name for n in due if n.pods == 0][: min(p.max_empty_bulk_delete, room)]
        if empty:
            return tuple(empty)
        busy = [n.name for n in due if n.pods > 0]
        return tuple(busy[:1]) if busy and room > 0 else ()
