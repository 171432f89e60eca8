"""The CloudWatch alarms AWS target tracking creates for a policy, and its proportional
step: shared by EC2 Auto Scaling and Application Auto Scaling, which differ only in how
new capacity is counted (instance warm-up versus cooldowns).

From the Application Auto Scaling and EC2 Auto Scaling user guides: the scale-out alarm
fires when the metric is above the target for 3 one-minute datapoints, the scale-in alarm
when it is below the target by more than 10 % (90 % of it) for 15; while an alarm stays
in ALARM the policy is invoked again every minute (CloudWatch: alarms with Auto Scaling
actions keep invoking them); capacity is added proportionally to the metric, rounding up.
"""

import math
from collections import deque
from dataclasses import dataclass, field


@dataclass(frozen=True)
class AlarmParameters:
    target: float  # percent CPU
    period_s: float = 60.0
    scale_out_datapoints: int = 3
    scale_in_datapoints: int = 15
    scale_in_ratio: float = 0.9


@dataclass
class TargetTrackingAlarms:
    params: AlarmParameters
    _datapoints: deque[float | None] = field(default_factory=lambda: deque(maxlen=64))

    def record(self, datapoint: float | None) -> None:
        """One period's average metric, or None when no capacity reported (missing data)."""
        self._datapoints.append(datapoint)

    def high(self) -> bool:
        return self._breaching(self.params.scale_out_datapoints, lambda v: v > self.params.target)

    def low(self) -> bool:
        floor = self.params.target * self.params.scale_in_ratio
        return self._breaching(self.params.scale_in_datapoints, lambda v: v < floor)

    def latest(self) -> float | None:
        return self._datapoints[-1] if self._datapoints else None

    def _breaching(self, n: int, test: object) -> bool:
        last = list(self._datapoints)[-n:]
        return len(last) == n and all(v is not None and test(v) for v in last)  # type: ignore[operator]


def proportional(capacity: int, metric: float, target: float) -> int:
    """The capacity that would bring `metric` to `target`, rounded up (never too little)."""
    return math.ceil(capacity * metric / target - 1e-9)
