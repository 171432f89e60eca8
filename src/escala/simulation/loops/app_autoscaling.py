"""Application Auto Scaling target tracking of an ECS service's desired count on
ECSServiceAverageCPUUtilization, with its cooldowns.

From the Application Auto Scaling user guide ("Target tracking", "Cooldown period"):
after a scale-out the policy does not add capacity again unless a larger scale-out is
called for or the scale-out cooldown has ended, and the capacity being added counts in
the next calculation; scale-in is blocked until the scale-in cooldown after the last
scale-in has passed, and a scale-out ends that cooldown at once. escala's policies use
300 s in (escala.cloud.aws.scalable_target). The 60 s scale-out cooldown changes nothing
here: the desired count already includes the tasks still starting, and only a larger
proportional answer raises it. Alarms: loops.alarms.
"""

import math
from dataclasses import dataclass

from escala.simulation.loops.alarms import AlarmParameters, TargetTrackingAlarms, proportional


@dataclass(frozen=True)
class EcsParameters:
    alarms: AlarmParameters
    min_capacity: int
    max_capacity: int
    scale_in_cooldown_s: float = 300.0


class EcsTargetTracking:
    def __init__(self, params: EcsParameters) -> None:
        self.params = params
        self.alarms = TargetTrackingAlarms(params.alarms)
        self._last_in = -math.inf

    def evaluate(self, now: float, desired: int, running: int, datapoint: float | None) -> int:
        """One alarm period: the service's CPU over its running tasks -> desired count."""
        p = self.params
        self.alarms.record(datapoint)
        if datapoint is None:
            return desired
        if self.alarms.high():
            wanted = min(proportional(running, datapoint, p.alarms.target), p.max_capacity)
            if wanted > desired:  # a scale-out also ends the scale-in cooldown
                self._last_in = -math.inf
                return wanted
            return desired
        if self.alarms.low() and now - self._last_in >= p.scale_in_cooldown_s:
            wanted = max(proportional(running, datapoint, p.alarms.target), p.min_capacity)
            if wanted < desired:
                self._last_in = now
                return wanted
        return desired
