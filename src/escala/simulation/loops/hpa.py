"""The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) on CPU utilisation.

From the Kubernetes documentation ("Horizontal Pod Autoscaling", algorithm details and
configurable scaling behavior): every sync period (15 s) desired = ceil(current x
metric / target), skipped when the ratio is within the tolerance (0.1) of 1; pods not yet
ready count as using 0 % when scaling up; the recommendation is then stabilised (the
highest of the last 300 s for scale-down, none for scale-up) and limited by the policies
(default up: the larger of +100 % and +4 pods per 15 s; down: -100 % per 15 s).
"""

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True)
class Policy:
    type: Literal["Pods", "Percent"]
    value: int
    period_s: float


@dataclass(frozen=True)
class HPAParameters:
    target_utilization: float  # percent of the pods' CPU request
    min_replicas: int
    max_replicas: int
    tolerance: float = 0.1
    sync_period_s: float = 15.0
    scale_up_window_s: float = 0.0
    scale_down_window_s: float = 300.0
    scale_up_policies: tuple[Policy, ...] = (Policy("Percent", 100, 15), Policy("Pods", 4, 15))
    scale_down_policies: tuple[Policy, ...] = (Policy("Percent", 100, 15),)


def usage_recommendation(
    ready: int, utilization: float, unready: int, target: float, tolerance: float
) -> int | None:
    """Replicas the metric asks for, or None to leave the count alone (within tolerance,
    or the unready pods' 0 % turn a scale-up into no change)."""
    if ready == 0:
        return None
    ratio = utilization / target
    if abs(ratio - 1.0) <= tolerance:
        return None
    if unready == 0 or ratio < 1.0:
        return math.ceil(ready * ratio)
    # Scaling up with pods not yet ready: they are taken to use 0 % of the target.
    ratio = utilization * ready / (ready + unready) / target
    if ratio <= 1.0 or abs(ratio - 1.0) <= tolerance:
        return None
    return math.ceil((ready + unready) * ratio)


@dataclass
class HorizontalPodAutoscaler:
    params: HPAParameters
    _recommendations: deque[tuple[float, int]] = field(default_factory=deque)
    _events: deque[tuple[float, int]] = field(default_factory=deque)  # (time, +added/-removed)

    def sync(self, now: float, current: int, ready: int, utilization: float, unready: int) -> int:
        """One sync of the controller: the replica count to set on the Deployment."""
        p = self.params
        wanted = usage_recommendation(
            ready, utilization, unready, p.target_utilization, p.tolerance
        )
        desired = current if wanted is None else wanted
        desired = min(max(desired, p.min_replicas), p.max_replicas)
        stabilised = self._stabilise(now, current, desired)
        limited = self._limit(now, current, stabilised)
        if limited != current:
            self._events.append((now, limited - current))
        return limited

    def _stabilise(self, now: float, current: int, desired: int) -> int:
        p = self.params
        self._recommendations.append((now, desired))
        horizon = now - max(p.scale_up_window_s, p.scale_down_window_s)
        while self._recommendations and self._recommendations[0][0] < horizon:
            self._recommendations.popleft()
        up = min(r for t, r in self._recommendations if t >= now - p.scale_up_window_s)
        down = max(r for t, r in self._recommendations if t >= now - p.scale_down_window_s)
        return min(max(current, up), down)

    def _limit(self, now: float, current: int, desired: int) -> int:
        if desired == current:
            return current
        up = desired > current
        policies = self.params.scale_up_policies if up else self.params.scale_down_policies
        limits = []
        for policy in policies:
            changed = sum(d for t, d in self._events if t > now - policy.period_s and (d > 0) == up)
            start = current - changed
            if up:
                limits.append(
                    start + policy.value
                    if policy.type == "Pods"
                    else math.ceil(start * (1 + policy.value / 100))
                )
            else:
                limits.append(
                    start - policy.value
                    if policy.type == "Pods"
                    else math.ceil(start * (1 - policy.value / 100))
                )
        # selectPolicy Max: the policy allowing the largest change.
        return min(desired, max(limits)) if up else max(desired, min(limits))
