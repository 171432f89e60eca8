"""EC2 Auto Scaling target tracking on ASGAverageCPUUtilization, with instance warm-up.

From the EC2 Auto Scaling user guide ("Target tracking scaling policies", "Instance
warm-up"): until its warm-up has passed an instance is not counted in the group's
aggregated metric; while scaling out, instances warming up are not part of the current
capacity (so the group does not add what is already coming); while scaling in,
terminating instances are; a scale-in cannot start while a scale-out is in progress.
Alarms and the proportional step: escala.simulation.loops.alarms.
"""

from dataclasses import dataclass

from escala.simulation.loops.alarms import AlarmParameters, TargetTrackingAlarms, proportional


@dataclass(frozen=True)
class Ec2Parameters:
    alarms: AlarmParameters
    min_size: int
    max_size: int
    warmup_s: float = 300.0


class Ec2TargetTracking:
    def __init__(self, params: Ec2Parameters) -> None:
        self.params = params
        self.alarms = TargetTrackingAlarms(params.alarms)

    def evaluate(self, desired: int, counted: int, warming: int, datapoint: float | None) -> int:
        """One alarm period: record the group's CPU (over counted instances) and return
        the group's new desired capacity."""
        p = self.params
        self.alarms.record(datapoint)
        if datapoint is None:
            return desired
        if self.alarms.high():
            wanted = proportional(counted, datapoint, p.alarms.target)
            return min(max(desired, wanted), p.max_size)
        if self.alarms.low() and warming == 0:
            wanted = max(proportional(desired, datapoint, p.alarms.target), p.min_size)
            return min(desired, wanted)
        return desired
